using Ppcls.Core.Distributed;
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
/// torch's momentum 0.1. With <c>Arch.use_sync_bn</c> on more than one rank, training batches are
/// normalised by the statistics of all ranks (<see cref="SyncBatchNorm"/>).
/// </summary>
public sealed class BatchNorm2d : nn.Module<Tensor, Tensor>, IPaddleFlopsCounted, IOnnxExportable, ICrossRankBatchNorm
{
    readonly Parameter weight;
    readonly Parameter bias;
    readonly Tensor _mean;
    readonly Tensor _variance;
    readonly double _epsilon;
    readonly double _momentum;
    ICommunicator? _statisticsOver;

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

    /// <summary>A job of one rank keeps plain BatchNorm: its batch is the whole batch.</summary>
    public void SyncStatisticsOver(ICommunicator world) => _statisticsOver = world.Size > 1 ? world : null;

    public override Tensor forward(Tensor x) =>
        training && _statisticsOver is { } world
            ? SyncBatchNorm.Normalize(x, weight, bias, _mean, _variance, _momentum, _epsilon, world)
            : nn.functional.batch_norm(x, _mean, _variance, weight, bias, training, _momentum, _epsilon);

    /// <summary>An unfolded BN (export normally folds it into the conv first).</summary>
    public string ToOnnx(OnnxGraph graph, string input) =>
        graph.BatchNormalization(input, weight, bias, _mean, _variance, _epsilon);
}
