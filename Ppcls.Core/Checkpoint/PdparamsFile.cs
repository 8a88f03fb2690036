using Ppcls.Core.Checkpoint.Pickle;
using Ppcls.Core.IO;
using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint;

/// <summary>
/// PaddleClas's `.pdparams`: `paddle.save(layer.state_dict())`, a pickle of a dict from parameter
/// name to numpy array, in Paddle's layout (a Linear weight is [in, out]). Read with the
/// restricted unpickler; paddle's `StructuredToParameterName@@` entry (a dict of strings) is ignored.
/// </summary>
public static class PdparamsFile
{
    const string StructuredNames = "StructuredToParameterName@@";

    /// <summary>Every array in the file by name, as CPU tensors in the file's (Paddle) layout.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        object? root;
        try
        {
            root = new RestrictedUnpickler(File.ReadAllBytes(path), PickleAllowList.Numpy).Load();
        }
        catch (PickleException e)
        {
            throw Refused(path, e.Message);
        }
        if (root is not Dictionary<object, object?> dict) throw Refused(path, "the pickle is not a dict of arrays");
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in dict)
        {
            if (key is not string name) throw Refused(path, $"a key is not a string ({key})");
            if (name == StructuredNames) continue;
            if (name == "UnpackBigParamInfor@@")
                throw Refused(path, "it holds arrays split by paddle.save's protocol-2 big-parameter packing; re-save it with protocol 4");
            if (value is not NumpyArray array) throw Refused(path, $"entry '{name}' is not a numpy array");
            try
            {
                tensors[name] = array.ToTensor();
            }
            catch (PickleException e)
            {
                throw Refused(path, $"entry '{name}': {e.Message}");
            }
        }
        return tensors;
    }

    /// <summary>Writes <paramref name="tensors"/> (already in Paddle layout) through a temporary file.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors) =>
        AtomicFile.Write(path, stream => NumpyDictPickler.Write(stream, tensors));

    static PpclsUserException Refused(string path, string problem) =>
        new($"{path}: cannot read as a PaddleClas .pdparams file: {problem}; save the weights with paddle.save(model.state_dict(), path) or convert them to .safetensors");
}
