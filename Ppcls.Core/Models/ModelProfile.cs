using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>A model's size and cost at one input size, as `ppcls models info` prints it.</summary>
/// <param name="TrainableParameters">Parameters with requires_grad.</param>
/// <param name="Macs">Multiply-accumulates of one image through every Conv2d and Linear, counted as they run.</param>
/// <param name="PaddleFlops">
/// FLOPs of one image as `paddle.flops` (Paddle's `hapi/dynamic_flops.py`) counts them, the figure
/// PaddleClas's model tables print: a conv costs output elements x (in / groups x k x k, plus 1
/// with a bias); a Linear in x out per row; an eval-mode BatchNorm 2 per element; an adaptive
/// average pool (window + 1) per output element, a fixed-window average pool 1 per output
/// element; activations, max pools, element-wise adds, concats and functional calls nothing.
/// </param>
/// <param name="PaddleParameters">
/// Every parameter as Paddle counts it (`paddle.summary`'s "Total params", the two-decimal
/// Params column of PaddleClas's model list): the trainable ones plus the frozen ones plus the
/// persistent buffers, which in these models are the BN running statistics (Paddle keeps
/// `_mean` / `_variance` as non-trainable parameters).
/// </param>
public sealed record ModelProfile(long TrainableParameters, long Macs, long PaddleFlops, long PaddleParameters, long[] InputShape, long[] OutputShape)
{
    /// <summary>Runs one zero image of <paramref name="imageSize"/> through the model in eval mode, counting MACs and FLOPs per layer.</summary>
    public static ModelProfile Measure(nn.Module<Tensor, Tensor> model, int imageSize, int channels = 3)
    {
        long macs = 0;
        long flops = 0;
        var removeHooks = new List<Action>();
        void CountConv(Conv2d conv, Tensor output)
        {
            long perOutput = conv.in_channels / conv.groups * conv.kernel_size.Aggregate(1L, (a, k) => a * k);
            long outputs = output.numel() / output.shape[0];
            macs += outputs * perOutput;
            flops += outputs * (perOutput + (conv.bias is null ? 0 : 1));
        }
        foreach (var module in model.modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    var convHook = conv.register_forward_hook((_, _, output) =>
                    {
                        CountConv(conv, output);
                        return output;
                    });
                    removeHooks.Add(convHook.remove);
                    break;
                case IIndirectConvolution { IndirectConvolution: { } indirect } when module is nn.Module<Tensor, Tensor> layer:
                    var indirectHook = layer.register_forward_hook((_, _, output) =>
                    {
                        CountConv(indirect, output);
                        return output;
                    });
                    removeHooks.Add(indirectHook.remove);
                    break;
                case Linear linear:
                    var linearHook = linear.register_forward_hook((_, _, output) =>
                    {
                        // The image is a batch of one, but a Linear's leading axis need not be the batch (Swin's
                        // window attention runs on [windows, tokens, C]): every output row is this image's.
                        long perImage = output.numel() * linear.in_features;
                        macs += perImage;
                        flops += perImage;
                        return output;
                    });
                    removeHooks.Add(linearHook.remove);
                    break;
                case AdaptiveAvgPool2d adaptive:
                    var adaptiveHook = adaptive.register_forward_hook((_, input, output) =>
                    {
                        long window = input.shape[2] / output.shape[2] * (input.shape[3] / output.shape[3]);
                        flops += output.numel() / output.shape[0] * (window + 1);
                        return output;
                    });
                    removeHooks.Add(adaptiveHook.remove);
                    break;
                case AvgPool2d avg:
                    var avgHook = avg.register_forward_hook((_, _, output) =>
                    {
                        flops += output.numel() / output.shape[0];
                        return output;
                    });
                    removeHooks.Add(avgHook.remove);
                    break;
                case IPaddleFlopsCounted counted when module is nn.Module<Tensor, Tensor> layer:
                    var countedHook = layer.register_forward_hook((_, input, output) =>
                    {
                        flops += counted.PaddleFlops(input, output) / input.shape[0];
                        return output;
                    });
                    removeHooks.Add(countedHook.remove);
                    break;
            }
        }
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            long[] input = [1, channels, imageSize, imageSize];
            // The image takes the model's dtype and device (a float64 or GPU model measures too).
            var first = model.parameters().FirstOrDefault();
            var output = model.call(zeros(input, dtype: first?.dtype ?? ScalarType.Float32, device: first?.device));
            long trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
            long all = model.parameters().Sum(p => p.numel()) + model.buffers().Sum(b => b.numel());
            return new ModelProfile(trainable, macs, flops, all, input, output.shape);
        }
        finally
        {
            foreach (var remove in removeHooks) remove();
            model.train(wasTraining);
        }
    }
}
