using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Batch normalisation with PaddleClas's state-dict names: `weight`, `bias`, and the
/// running statistics `_mean` / `_variance` (torch's running_mean / running_var; no
/// num_batches_tracked). Paddle's momentum 0.9 keeps 90% of the running value, which is
/// torch's momentum 0.1.
/// </summary>
public sealed class BatchNorm2d : nn.Module<Tensor, Tensor>, IPaddleFlopsCounted, IOnnxExportable
{
    readonly Parameter weight;
    readonly Parameter bias;
    readonly Tensor _mean;
    readonly Tensor _variance;
    readonly double _epsilon;
    readonly double _momentum;

    public BatchNorm2d(long channels, double epsilon = 1e-5, double paddleMomentum = 0.9) : base(nameof(BatchNorm2d))
    {
        weight = nn.Parameter(ones(channels));
        bias = nn.Parameter(zeros(channels));
        _mean = zeros(channels);
        _variance = ones(channels);
        _epsilon = epsilon;
        _momentum = 1.0 - paddleMomentum;
        RegisterComponents();
    }

    public long Channels => weight.shape[0];
    public Parameter Weight => weight;
    public Parameter Bias => bias;
    public Tensor RunningMean => _mean;
    public Tensor RunningVariance => _variance;
    public double Epsilon => _epsilon;

    /// <summary>`paddle.flops` charges an eval-mode BatchNorm 2 FLOPs per element (scale and shift), a training one nothing.</summary>
    public long PaddleFlops(Tensor input, Tensor output) => training ? 0 : 2 * input.numel();

    public override Tensor forward(Tensor x) =>
        nn.functional.batch_norm(x, _mean, _variance, weight, bias, training, _momentum, _epsilon);

    /// <summary>An unfolded BN (export normally folds it into the conv first).</summary>
    public string ToOnnx(OnnxGraph graph, string input) =>
        graph.BatchNormalization(input, weight, bias, _mean, _variance, _epsilon);
}
