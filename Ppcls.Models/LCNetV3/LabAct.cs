using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.LCNetV3;

/// <summary>
/// PP-LCNetV3's activation (PaddleOCR / PaddleClas <c>Act</c>): hard swish, then a
/// <see cref="LearnableAffineBlock"/>. Keys: <c>lab.scale</c>, <c>lab.bias</c> (the hard swish,
/// <c>act</c>, has none).
/// </summary>
public sealed class LabAct : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    readonly Hardswish act;
    readonly LearnableAffineBlock lab;

    public LabAct(double lrMult, double labLr) : base("Act")
    {
        act = nn.Hardswish();
        lab = new LearnableAffineBlock(lrMult: lrMult, labLr: labLr);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => lab.call(act.call(x));

    public string ToOnnx(OnnxGraph graph, string input) => graph.Module(lab, "lab", graph.HardSwish(input));
}
