using Ppcls.Core.Engine;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

/// <summary>
/// ONNX twins that no registered variant reaches: a block is written alone (its output flattened, as an
/// embedding) and run in ONNX Runtime against its TorchSharp forward.
/// </summary>
public sealed class BlockOnnxTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("ppcls-block-onnx-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    /// <summary>A block whose [N, C, H, W] output is flattened to [N, C*H*W], in both forms.</summary>
    sealed class Flattened : nn.Module<Tensor, Tensor>, IOnnxExportable
    {
        readonly nn.Module<Tensor, Tensor> block;

        public Flattened(nn.Module<Tensor, Tensor> block) : base(nameof(Flattened))
        {
            this.block = block;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => block.call(x).flatten(1);

        public string ToOnnx(OnnxGraph graph, string input) => graph.Flatten(graph.Module(block, "block", input));
    }

    (IReadOnlyList<ExportCheck> Checks, int Width) Export(nn.Module<Tensor, Tensor> block, int channels, int size, Func<nn.Module, int> fuse)
    {
        using var probe = new Flattened(block);
        ModelFusionTests.Randomize(probe);
        var exporter = new OnnxExporter(probe, fuse, "block", channels, size, size, embedding: true);
        var (_, checks) = exporter.Export(Path.Combine(_dir, "block.onnx"), 0, exporter.RandomInputs());
        return (checks, exporter.OutputWidth);
    }

    /// <summary>
    /// Paddle's SAME padding: at stride 1 explicit pads (the odd pixel after), at stride 2 the runtime's
    /// SAME_UPPER, on even and odd sizes; with the BN written, and folded.
    /// </summary>
    [TestCase(2, 1, 8, false)]
    [TestCase(2, 2, 8, false)]
    [TestCase(3, 2, 7, false)]
    [TestCase(3, 2, 8, true)]
    [TestCase(2, 2, 7, true)]
    public void A_same_padded_conv_BN_act_block_matches_in_onnx_runtime(int kernel, int stride, int size, bool fused)
    {
        manual_seed(4);
        var block = new ConvBNAct(4, 6, kernelSize: kernel, stride: stride, useLab: true, samePadding: true);

        var (checks, width) = Export(block, 4, size, fused ? ModelFusion.Fuse : _ => 0);

        Assert.That(checks.Select(c => c.Features), Is.All.True);
        foreach (var check in checks) Assert.That(check.Passed, Is.True, check.ToString());
        long outSide = (size + stride - 1) / stride;
        Assert.That(width, Is.EqualTo(6 * outSide * outSide), "SAME keeps ceil(size / stride) pixels per side");
    }

    /// <summary>
    /// The vd shortcut's SAME, exclusive 2x2 average pool before the 1x1 conv (ResNet_vd), on even and
    /// odd sizes, with the BN written and folded.
    /// </summary>
    [TestCase(8, 2, 2, false)]
    [TestCase(7, 2, 2, false)]
    [TestCase(7, 2, 2, true)]
    [TestCase(7, 2, 1, true)]
    public void A_vd_shortcut_unit_matches_in_onnx_runtime(int size, int sh, int sw, bool fused)
    {
        manual_seed(6);
        var unit = new VdConvBN(4, 6, 1, new Stride2d(sh, sw), poolFirst: true);

        var (checks, width) = Export(unit, 4, size, fused ? ModelFusion.Fuse : _ => 0);

        foreach (var check in checks) Assert.That(check.Passed, Is.True, check.ToString());
        Assert.That(width, Is.EqualTo(6 * ((size + sh - 1) / sh) * ((size + sw - 1) / sw)), "SAME keeps the last, partial window");
    }

    /// <summary>Res2Net_vd's block: the split into groups (Slice), the hierarchical adds, the pooled last group at stride 2, the vd projection.</summary>
    [TestCase(1, 8)]
    [TestCase(2, 7)]
    public void A_Res2Net_block_matches_in_onnx_runtime(int stride, int size)
    {
        manual_seed(7);
        var block = new Res2NetBottleneckBlock("res3a", 8, 16, 8, stride, 4, projection: true, poolShortcut: stride == 2);

        var (checks, width) = Export(block, 8, size, ModelFusion.Fuse);

        foreach (var check in checks) Assert.That(check.Passed, Is.True, check.ToString());
        long outSide = (size + stride - 1) / stride;
        Assert.That(width, Is.EqualTo(16 * outSide * outSide));
    }
}
