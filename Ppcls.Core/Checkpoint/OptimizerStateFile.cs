using System.Reflection;
using Ppcls.Core.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint;

/// <summary>
/// The `.optim` file: TorchSharp's optimizer-state format, written and read in NCHW order
/// whatever the layout of the state. TorchSharp copies a state tensor's storage byte for byte,
/// which an NHWC momentum buffer or Adam moment (they take their parameter's strides) does not
/// allow; so around the copy each 4-D state tensor is made NCHW-contiguous in place and then
/// given back its NHWC strides. Optimizer states hold their tensors in public fields (SGD's
/// `momentum_buffer`, Adam's `exp_avg`, ...), which is how they are found for every optimizer.
/// </summary>
public static class OptimizerStateFile
{
    public static void Save(OptimizerHelper optimizer, BinaryWriter writer) =>
        WithNchwState(optimizer, () => optimizer.save_state_dict(writer));

    public static void Load(OptimizerHelper optimizer, string path) =>
        WithNchwState(optimizer, () => optimizer.load_state_dict(path));

    static void WithNchwState(OptimizerHelper optimizer, Action copy)
    {
        using var _ = no_grad();
        foreach (var (_, t) in StateTensors(optimizer)) if (!t.is_contiguous()) t.set_(t.contiguous());
        try
        {
            copy();
        }
        finally
        {
            // Read back (or created by the load, as SGD's first momentum buffer), a state takes its parameter's layout.
            foreach (var (parameter, t) in StateTensors(optimizer))
                if (ChannelsLast.IsStrictly(parameter) && !ChannelsLast.Is(t)) t.set_(ChannelsLast.Of(t));
        }
    }

    /// <summary>Each 4-D state tensor with its parameter: `state_dict().State` lists the states in `parameters()` order.</summary>
    static IEnumerable<(Parameter, Tensor)> StateTensors(OptimizerHelper optimizer) =>
        optimizer.parameters().Zip(optimizer.state_dict().State).SelectMany(pair => pair.Second.GetType()
            .GetFields(BindingFlags.Public | BindingFlags.Instance)
            .Where(f => f.FieldType == typeof(Tensor))
            .Select(f => f.GetValue(pair.Second) as Tensor)
            .OfType<Tensor>()
            .Where(t => t.dim() == 4)
            .Select(t => (pair.First, t)));
}
