using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>A model's size and cost at one input size, as `ppcls models info` prints it.</summary>
/// <param name="TrainableParameters">Parameters with requires_grad.</param>
/// <param name="Macs">Multiply-accumulates of one image through every Conv2d and Linear, counted as they run.</param>
public sealed record ModelProfile(long TrainableParameters, long Macs, long[] InputShape, long[] OutputShape)
{
    /// <summary>Runs one image of <paramref name="imageSize"/> through the model in eval mode, counting MACs per layer.</summary>
    public static ModelProfile Measure(nn.Module<Tensor, Tensor> model, int imageSize, int channels = 3)
    {
        long macs = 0;
        var removeHooks = new List<Action>();
        foreach (var module in model.modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    var convHook = conv.register_forward_hook((_, _, output) =>
                    {
                        long perOutput = conv.in_channels / conv.groups * conv.kernel_size.Aggregate(1L, (a, k) => a * k);
                        macs += output.numel() / output.shape[0] * perOutput;
                        return output;
                    });
                    removeHooks.Add(convHook.remove);
                    break;
                case Linear linear:
                    var linearHook = linear.register_forward_hook((_, _, output) =>
                    {
                        macs += output.numel() / output.shape[0] * linear.in_features;
                        return output;
                    });
                    removeHooks.Add(linearHook.remove);
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
            var output = model.call(zeros(input));
            long trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
            return new ModelProfile(trainable, macs, input, output.shape);
        }
        finally
        {
            foreach (var remove in removeHooks) remove();
            model.train(wasTraining);
        }
    }
}
