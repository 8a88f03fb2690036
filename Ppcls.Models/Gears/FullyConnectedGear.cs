using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Gears;

/// <summary>
/// PaddleClas's <c>FC</c> gear (neck or head): one Linear layer, <c>fc</c>, its weight XavierNormal
/// and its bias zero unless <c>weight_attr</c> / <c>bias_attr</c> say otherwise (<c>bias_attr: False</c>: no bias).
/// </summary>
public sealed class FullyConnectedGear : RecGear
{
    readonly Linear fc;
    readonly ParamAttr _weightAttr;
    readonly ParamAttr _biasAttr;

    public FullyConnectedGear(int embeddingSize, int classNum, ParamAttr? weightAttr = null, ParamAttr? biasAttr = null) : base("FC")
    {
        _weightAttr = weightAttr ?? ParamAttr.Default;
        _biasAttr = biasAttr ?? ParamAttr.Default;
        fc = nn.Linear(embeddingSize, classNum, hasBias: _biasAttr.Enabled);
        using (no_grad())
        {
            nn.init.xavier_normal_(fc.weight);
            fc.bias?.zero_();
        }
        _weightAttr.Apply(fc.weight);
        _biasAttr.Apply(fc.bias);
        OutputSize = classNum;
        RegisterComponents();
    }

    public override int OutputSize { get; }

    public override Tensor forward(Tensor x) => fc.call(x);

    public override IEnumerable<(string Name, double Multiplier)> LearningRateMultipliers()
    {
        if (_weightAttr.LearningRate != 1.0) yield return ("fc.weight", _weightAttr.LearningRate);
        if (fc.bias is not null && _biasAttr.LearningRate != 1.0) yield return ("fc.bias", _biasAttr.LearningRate);
    }

    public override string ToOnnx(OnnxGraph graph, string input) => graph.Module(fc, "fc", input);
}
