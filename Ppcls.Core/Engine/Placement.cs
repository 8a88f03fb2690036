using Ppcls.Core.Config.Sections;
using Ppcls.Core.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>
/// Where a run's model and image batches live (`Global.device`) and in which memory format
/// (`Global.memory_format`): the one place both are applied. In channels_last the weights get
/// NHWC strides once and every batch on its way in; libtorch's kernels keep NHWC from there on.
/// Files are unaffected: weights are written NCHW-contiguous, as PaddleClas and timm read them.
/// </summary>
public sealed record Placement(Device Device, MemoryFormat Format)
{
    /// <summary>Moves <paramref name="model"/>'s weights in place (its parameter objects stay the same) and returns it.</summary>
    public T Model<T>(T model) where T : nn.Module
    {
        model.to(Device);
        if (Format == MemoryFormat.ChannelsLast) ChannelsLast.Apply(model);
        return model;
    }

    /// <summary>An image batch [N, C, H, W] on the device in the format.</summary>
    public Tensor Images(Tensor images)
    {
        var moved = images.to(Device);
        return Format == MemoryFormat.ChannelsLast ? ChannelsLast.Of(moved) : moved;
    }
}
