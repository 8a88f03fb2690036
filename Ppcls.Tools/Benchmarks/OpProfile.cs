using System.Diagnostics;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Config;
using Ppcls.Core.Engine;
using Ppcls.Core.Logging;
using Ppcls.Core.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Tools.Benchmarks;

/// <summary>The time of one kind of op in a train step: its calls and their summed forward and backward medians.</summary>
public sealed record OpTime(string Op, int Calls, double ForwardMs, double BackwardMs)
{
    public double TotalMs => ForwardMs + BackwardMs;
}

/// <summary>
/// Where a train step's time goes, per op. One forward records every leaf layer's call (the layer
/// and its input's shape and layout); then each call is replayed alone on random data of that
/// shape and layout, in train mode, timing its forward and its backward (median of the repeats).
/// Calls are summed per kind (`conv3x3 dw s2`, `BatchNorm2d`, `ReLU6`, ...). What no leaf layer
/// does (residual adds, functional activations, the loss, SGD, freeing tensors) is the step's
/// time less the ops' sum, reported by the caller as unattributed.
/// </summary>
public static class OpProfile
{
    /// <summary>The `benchmark profile` lines: one per op kind, the step, and what the ops leave unattributed.</summary>
    public static IEnumerable<BenchmarkLine> Lines(string model, int batch, int size, int repeats, MemoryFormat format)
    {
        var step = TrainStepBenchmark.Run(model, batch, size, repeats, format);
        var ops = Run(TrainStepBenchmark.BuildModel(model, format), [batch, 3, size, size], format, repeats);
        string layout = ConfigSection.SnakeCase(format);
        foreach (var op in ops)
            yield return new BenchmarkLine(model, "op", size, batch, get_num_threads()) { MedianMs = op.TotalMs }
                .With("op", op.Op).With("calls", op.Calls).With("forward_ms", op.ForwardMs).With("backward_ms", op.BackwardMs)
                .With("share", op.TotalMs / step.MedianMs).With("memory_format", layout);
        double attributed = ops.Sum(op => op.TotalMs);
        yield return step.ToLine().With("memory_format", layout);
        yield return new BenchmarkLine(model, "unattributed", size, batch, get_num_threads()) { MedianMs = step.MedianMs - attributed }
            .With("share", 1 - attributed / step.MedianMs).With("memory_format", layout);
    }

    sealed record Call(nn.Module<Tensor, Tensor> Layer, string Op, long[] InputShape, bool InputNhwc);

    public static IReadOnlyList<OpTime> Run(nn.Module<Tensor, Tensor> model, long[] inputShape, MemoryFormat format, int repeats)
    {
        var placement = new Placement(CPU, format);
        var calls = Record(model, placement.Images(randn(inputShape)));
        var times = calls.Select(call => Replay(call, repeats)).ToList();
        return calls.Zip(times)
            .GroupBy(pair => pair.First.Op)
            .Select(g => new OpTime(g.Key, g.Count(), g.Sum(p => p.Second.Forward), g.Sum(p => p.Second.Backward)))
            .OrderByDescending(op => op.TotalMs)
            .ToList();
    }

    static List<Call> Record(nn.Module<Tensor, Tensor> model, Tensor images)
    {
        var calls = new List<Call>();
        var hooks = model.modules()
            .Where(m => !m.children().Any() && m is nn.Module<Tensor, Tensor>)
            .Cast<nn.Module<Tensor, Tensor>>()
            .Select(layer => layer.register_forward_hook((m, input, output) =>
            {
                calls.Add(new Call(m, Kind(m, input, output), input.shape, ChannelsLast.IsStrictly(input)));
                return output;
            }))
            .ToList();
        model.train();
        using (NewDisposeScope()) model.call(images);
        foreach (var hook in hooks) hook.remove();
        return calls;
    }

    /// <summary>A conv by kernel, grouping and stride; any other layer by its type.</summary>
    static string Kind(nn.Module layer, Tensor input, Tensor output)
    {
        if (layer is not Conv2d conv) return layer.GetType().Name;
        var w = conv.weight!.shape;
        string grouping = w[1] == 1 && input.shape[1] > 1 ? " dw" : w[1] < input.shape[1] ? " grouped" : "";
        long stride = output.dim() == 4 && output.shape[2] > 0 ? (input.shape[2] + output.shape[2] - 1) / output.shape[2] : 1;
        return $"conv{w[2]}x{w[3]}{grouping}" + (stride > 1 ? $" s{stride}" : "");
    }

    static (double Forward, double Backward) Replay(Call call, int repeats)
    {
        var forward = new double[repeats];
        var backward = new double[repeats];
        var clock = new Stopwatch();
        for (int r = -1; r < repeats; r++) // r = -1: warm-up
        {
            using var scope = NewDisposeScope();
            var leaf = randn(call.InputShape);
            if (call.InputNhwc) leaf = ChannelsLast.Of(leaf);
            leaf.requires_grad_();
            var input = leaf.mul(1.0); // not a leaf: in-place layers (ReLU6) may write it
            clock.Restart();
            var output = call.Layer.call(input);
            double f = clock.Elapsed.TotalMilliseconds;
            var gradient = randn_like(output);
            clock.Restart();
            output.backward([gradient]);
            double b = clock.Elapsed.TotalMilliseconds;
            if (r >= 0) (forward[r], backward[r]) = (f, b);
        }
        return (BenchmarkLine.Median(forward), BenchmarkLine.Median(backward));
    }
}
