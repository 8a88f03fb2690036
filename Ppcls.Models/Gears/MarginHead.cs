using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Gears;

/// <summary>
/// PaddleClas's margin heads (<c>ArcMargin</c>, <c>CosMargin</c>, <c>CircleMargin</c>): one parameter
/// <c>weight</c> in Paddle's layout [embedding_size, class_num] (XavierNormal), the cosine of each
/// L2-normalised feature with each L2-normalised class column, and in training with the labels the
/// <see cref="Margin"/>'s scaled logits. In eval (or without labels) the plain cosines, unscaled.
/// </summary>
public sealed class MarginHead : RecGear
{
    readonly Parameter weight;

    public MarginHead(string name, int embeddingSize, int classNum, Margin margin) : base(name)
    {
        Margin = margin;
        var w = empty(embeddingSize, classNum);
        nn.init.xavier_normal_(w);
        weight = new Parameter(w);
        OutputSize = classNum;
        RegisterComponents();
    }

    public Margin Margin { get; }

    public override int OutputSize { get; }

    public Tensor Weight => weight;

    public override Tensor forward(Tensor x) => Cosine(x);

    public override Tensor Forward(Tensor x, Tensor? label)
    {
        var cos = Cosine(x);
        if (!training || label is null) return cos;
        using var oneHot = nn.functional.one_hot(label.reshape(-1), OutputSize).to(cos.dtype);
        return Margin.Logits(cos, oneHot);
    }

    Tensor Cosine(Tensor x)
    {
        using var scope = NewDisposeScope();
        var features = x / x.square().sum(1, keepdim: true).sqrt();
        var classes = weight / weight.square().sum(0, keepdim: true).sqrt();
        return features.matmul(classes).MoveToOuterDisposeScope();
    }

    /// <summary>The eval path: x / ||x|| times the normalised class columns (an initializer).</summary>
    public override string ToOnnx(OnnxGraph graph, string input)
    {
        var norm = graph.Node("ReduceL2", [input], a => a.Ints("axes", [1]).Int("keepdims", 1));
        var features = graph.Node("Div", [input, norm]);
        Tensor classes;
        using (no_grad()) classes = weight / weight.square().sum(0, keepdim: true).sqrt();
        using (classes) return graph.Node("MatMul", [features, graph.Initializer("weight", classes)]);
    }
}
