using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// PaddleClas's <c>TanhSuffix</c> (<c>variant_models/pp_lcnet_variant.py</c>): a layer followed by tanh,
/// kept under the layer's old name, so its parameters become <c>fc.origin_layer.weight</c>, <c>.bias</c>.
/// </summary>
public sealed class TanhSuffix : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    Linear origin_layer;
    readonly Tanh tanh;

    public TanhSuffix(Linear originLayer) : base(nameof(TanhSuffix))
    {
        origin_layer = originLayer;
        tanh = nn.Tanh();
        RegisterComponents();
    }

    /// <summary>The wrapped layer; replacing it (a classifier reset) is registered by the caller.</summary>
    public Linear Layer { get => origin_layer; set => origin_layer = value; }

    public override Tensor forward(Tensor x) => tanh.call(origin_layer.call(x));

    public string ToOnnx(OnnxGraph graph, string input) => graph.Node("Tanh", [graph.Module(origin_layer, "origin_layer", input)]);
}
