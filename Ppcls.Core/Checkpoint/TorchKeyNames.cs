using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint;

/// <summary>
/// PyTorch state-dict names to PaddleClas names: BatchNorm's `running_mean` / `running_var`
/// become `_mean` / `_variance`, `num_batches_tracked` is dropped (Paddle keeps no such
/// counter), then a model family's own map (timm's HGNet names, see the model's preset) applies.
/// </summary>
public static class TorchKeyNames
{
    public static Dictionary<string, Tensor> ToPaddleNames(Dictionary<string, Tensor> torchWeights, TorchNameMap? familyMap)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var fileNames = torchWeights.Keys.ToHashSet(StringComparer.Ordinal);
        foreach (var (name, tensor) in torchWeights)
        {
            if (name.EndsWith(".num_batches_tracked", StringComparison.Ordinal)) { tensor.Dispose(); continue; }
            string key = Rename(name, ".running_mean", "._mean");
            key = Rename(key, ".running_var", "._variance");
            result[familyMap is null ? key : familyMap(key, fileNames)] = tensor;
        }
        return result;
    }

    static string Rename(string name, string suffix, string replacement) =>
        name.EndsWith(suffix, StringComparison.Ordinal) ? name[..^suffix.Length] + replacement : name;
}
