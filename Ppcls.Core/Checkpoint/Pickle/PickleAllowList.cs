using System.Text;

namespace Ppcls.Core.Checkpoint.Pickle;

/// <summary>The globals a state-dict pickle may name, per format; everything else is refused.</summary>
public static class PickleAllowList
{
    /// <summary>numpy arrays in (ordered) dicts: what `paddle.save(state_dict)` and `pickle.dump` of numpy arrays write.</summary>
    public static IReadOnlyDictionary<string, IPickleCallable> Numpy { get; } = new Dictionary<string, IPickleCallable>(StringComparer.Ordinal)
    {
        ["numpy.core.multiarray._reconstruct"] = NumpyArray.Reconstruct,
        ["numpy._core.multiarray._reconstruct"] = NumpyArray.Reconstruct, // numpy 2 spells the module so
        ["numpy.core.numeric._frombuffer"] = NumpyArray.FromBuffer, // protocol 5
        ["numpy._core.numeric._frombuffer"] = NumpyArray.FromBuffer,
        ["numpy.ndarray"] = new PickleGlobal("numpy", "ndarray"),
        ["numpy.dtype"] = NumpyDType.Factory,
        ["collections.OrderedDict"] = new OrderedDictCall(),
        ["_codecs.encode"] = new Latin1Encode(),
    };

    /// <summary>PyTorch's `torch.save(state_dict)`: tensors rebuilt from storages, in ordered dicts.</summary>
    public static IReadOnlyDictionary<string, IPickleCallable> Torch { get; } = BuildTorch();

    static Dictionary<string, IPickleCallable> BuildTorch()
    {
        var globals = new Dictionary<string, IPickleCallable>(StringComparer.Ordinal)
        {
            ["collections.OrderedDict"] = new OrderedDictCall(),
            ["torch._utils._rebuild_tensor_v2"] = TorchTensorRebuild.Tensor,
            ["torch._utils._rebuild_parameter"] = TorchTensorRebuild.Parameter,
        };
        foreach (var name in TorchStorage.TypeNames) globals["torch." + name] = new PickleGlobal("torch", name);
        return globals;
    }

    sealed class OrderedDictCall : IPickleCallable
    {
        public object Call(object?[] args) => args.Length == 0
            ? new Dictionary<object, object?>()
            : throw new PickleException("collections.OrderedDict: only the empty constructor is read");
    }

    /// <summary>Protocol 2 stores Python 3 bytes as `_codecs.encode(text, 'latin1')`.</summary>
    sealed class Latin1Encode : IPickleCallable
    {
        public object Call(object?[] args) => args is [string text, "latin1" or "latin-1"]
            ? Encoding.Latin1.GetBytes(text)
            : throw new PickleException("_codecs.encode: only latin1 byte strings are read");
    }
}
