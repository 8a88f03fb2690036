using static TorchSharp.torch;

namespace Ppcls.Models.Gears;

/// <summary>
/// A margin head's training logits from the cosines [N, class_num] and the labels' one-hot rows
/// (same shape, same dtype): the target class's cosine is moved by the margin, then all are scaled.
/// </summary>
public abstract record Margin(double Value, double Scale)
{
    public abstract Tensor Logits(Tensor cos, Tensor oneHot);
}

/// <summary>
/// ArcFace (PaddleClas <c>ArcMargin</c>, defaults margin 0.5, scale 80): the target becomes
/// cos(theta + m) = cos*cos(m) - sin*sin(m) with sin = sqrt(1 - cos^2 + 1e-6); where cos is not above
/// cos(pi - m) = -cos(m) it becomes cos - m*sin(m) instead (with <c>easy_margin</c>: where cos is not
/// above 0, it stays cos).
/// </summary>
public sealed record ArcMargin(double Value, double Scale, bool EasyMargin) : Margin(Value, Scale)
{
    public override Tensor Logits(Tensor cos, Tensor oneHot)
    {
        using var scope = NewDisposeScope();
        var sin = (1.0 - cos.square() + 1e-6).sqrt();
        var phi = cos * Math.Cos(Value) - sin * Math.Sin(Value);
        phi = EasyMargin
            ? where(cos.gt(0.0), phi, cos)
            : where(cos.gt(-Math.Cos(Value)), phi, cos - Math.Sin(Value) * Value);
        return ((oneHot * phi + (1.0 - oneHot) * cos) * Scale).MoveToOuterDisposeScope();
    }
}

/// <summary>CosFace (PaddleClas <c>CosMargin</c>, defaults margin 0.35, scale 64): the target's cosine minus m, all times s.</summary>
public sealed record CosMargin(double Value, double Scale) : Margin(Value, Scale)
{
    public override Tensor Logits(Tensor cos, Tensor oneHot)
    {
        using var scope = NewDisposeScope();
        return ((cos - oneHot * Value) * Scale).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Circle loss logits (PaddleClas <c>CircleMargin</c>, margin and scale required): the target
/// alpha_p * (cos - (1 - m)) with alpha_p = max(0, 1 + m - cos), the others alpha_n * (cos - m) with
/// alpha_n = max(0, cos + m); the alphas are constants to the gradient (detached); all times s.
/// </summary>
public sealed record CircleMargin(double Value, double Scale) : Margin(Value, Scale)
{
    public override Tensor Logits(Tensor cos, Tensor oneHot)
    {
        using var scope = NewDisposeScope();
        var fixedCos = cos.detach();
        var alphaP = (1.0 + Value - fixedCos).clamp_min(0.0);
        var alphaN = (fixedCos + Value).clamp_min(0.0);
        var positive = alphaP * (cos - (1.0 - Value));
        var negative = alphaN * (cos - Value);
        return ((positive * oneHot + negative * (1.0 - oneHot)) * Scale).MoveToOuterDisposeScope();
    }
}
