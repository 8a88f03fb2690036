using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Optim;

/// <summary>Gradient clipping, applied in place before the optimizer step.</summary>
public static class GradientClipping
{
    /// <summary>
    /// PaddleClas's <c>clip_norm</c> (<c>paddle.nn.ClipGradByNorm</c>): each gradient is
    /// clipped by its own L2 norm, g * clip / max(||g||, clip). Not a global norm.
    /// No host synchronisation.
    /// </summary>
    public static void ClipEachByNorm(IEnumerable<Parameter> parameters, double clipNorm)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var p in parameters)
        {
            var g = p.grad;
            if (g is null) continue;
            g.mul_(clipNorm / g.norm().clamp_min(clipNorm));
        }
    }

    /// <summary>
    /// Clip by the global norm of all gradients (Paddle <c>ClipGradByGlobalNorm</c>):
    /// every gradient is scaled by clip / max(global_norm, clip). Returns the global norm.
    /// </summary>
    public static double ClipByGlobalNorm(IEnumerable<Parameter> parameters, double clipNorm)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return 0;
        var total = stack(grads.Select(g => g.square().sum()).ToList()).sum().sqrt();
        var scale = clipNorm / total.clamp_min(clipNorm);
        foreach (var g in grads) g.mul_(scale);
        return total.item<float>();
    }
}
