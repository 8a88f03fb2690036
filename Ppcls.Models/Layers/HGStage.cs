using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// A stage of PP-HGNet and PP-HGNetV2: an optional learnable downsample (a stride-2 depthwise
/// 3x3 ConvBNAct without activation, `downsample`), then the stage's blocks (`blocks.i`),
/// the first widening the input, the rest adding their input back.
/// </summary>
public sealed class HGStage : ScopedBlock, IOnnxExportable
{
    readonly ConvBNAct? downsample;
    readonly Sequential blocks;

    /// <param name="makeBlock">Builds block i from its input channels (the stage input for the first, the output channels after).</param>
    public HGStage(long inChannels, long outChannels, bool downsampled, int blockNum, Func<int, long, nn.Module<Tensor, Tensor>> makeBlock,
        bool useLab = false, double lrMult = 1.0)
        : base(nameof(HGStage))
    {
        if (downsampled)
            downsample = new ConvBNAct(inChannels, inChannels, kernelSize: 3, stride: 2, groups: inChannels, useAct: false,
                useLab: useLab, lrMult: lrMult);
        blocks = nn.Sequential(Enumerable.Range(0, blockNum).Select(i => makeBlock(i, i == 0 ? inChannels : outChannels)).ToArray());
        RegisterComponents();
    }

    protected override Tensor ForwardInScope(Tensor x) => blocks.call(downsample is null ? x : downsample.call(x));

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = downsample is null ? input : graph.Module(downsample, "downsample", input);
        return graph.Module(blocks, "blocks", y);
    }
}
