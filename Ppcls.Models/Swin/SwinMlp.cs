using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Swin;

/// <summary>Swin's feed-forward block on [B, L, C] tokens: <c>fc1</c>, exact GELU, dropout, <c>fc2</c>, dropout.</summary>
public sealed class SwinMlp : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    readonly Linear fc1;
    readonly Linear fc2;
    readonly Dropout drop;

    public SwinMlp(long features, long hidden, double dropRate) : base("Mlp")
    {
        fc1 = SwinInit.Linear(features, hidden, bias: true);
        fc2 = SwinInit.Linear(hidden, features, bias: true);
        drop = nn.Dropout(dropRate);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => drop.call(fc2.call(drop.call(nn.functional.gelu(fc1.call(x)))));

    public string ToOnnx(OnnxGraph graph, string input) =>
        OnnxLinear.Apply(graph, "fc2", fc2, graph.Gelu(OnnxLinear.Apply(graph, "fc1", fc1, input)));
}
