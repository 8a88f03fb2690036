using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Checkpoint;

/// <summary>
/// How a file's tensors map onto a model: the family's PyTorch (timm) names, applied to `.pth`
/// and `.safetensors` files, and which tensors are Linear weights (Paddle stores those transposed).
/// </summary>
public sealed record WeightLayout(TorchNameMap? TorchKeyMap, PaddleLayout.LinearWeightTest IsLinearWeight)
{
    /// <summary>No model at hand (format conversion): no timm names, Linear weights by their shape.</summary>
    public static readonly WeightLayout WithoutModel = new(null, PaddleLayout.IsLinearByShape);
}

/// <summary>
/// Weights on disk in any supported format, chosen by extension (by content for an unknown
/// one): `.pdparams` (PaddleClas), `.safetensors` (Ppcls's checkpoints, Hugging Face),
/// `.pth` / `.pt` (PyTorch, read only). Everything read comes back in Ppcls's layout:
/// PaddleClas names, TorchSharp's Linear layout.
/// </summary>
public static class WeightFile
{
    /// <summary>Tried in this order after a path without extension, as PaddleClas tries `.pdparams`.</summary>
    public static readonly string[] Extensions = [".pdparams", ".safetensors", ".pth", ".pt"];

    public static Dictionary<string, Tensor> Read(string path, WeightLayout layout) => FormatOf(path) switch
    {
        ".pdparams" => PaddleLayout.FromPaddle(PdparamsFile.Read(path), layout.IsLinearWeight),
        ".pth" => TorchKeyNames.ToPaddleNames(TorchStateDictFile.Read(path), layout.TorchKeyMap),
        // A safetensors file may be Ppcls's own or PyTorch's (timm on Hugging Face): the torch names map leaves Ppcls's names as they are.
        _ => layout.TorchKeyMap is null ? SafeTensorsFile.Read(path).Tensors : TorchKeyNames.ToPaddleNames(SafeTensorsFile.Read(path).Tensors, layout.TorchKeyMap),
    };

    /// <summary>Writes Ppcls-layout weights as `.pdparams` or `.safetensors`, by the extension of <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> weights, PaddleLayout.LinearWeightTest isLinear, string keyPath)
    {
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".pdparams":
                var paddle = PaddleLayout.ToPaddle(weights, isLinear);
                PdparamsFile.Write(path, paddle);
                foreach (var (name, tensor) in paddle) if (!ReferenceEquals(tensor, weights[name])) tensor.Dispose();
                break;
            case ".safetensors":
                SafeTensorsFile.Write(path, weights);
                break;
            default:
                throw new PpclsUserException($"{keyPath}: cannot write '{path}': the extension must be .pdparams or .safetensors (PyTorch files are read only)");
        }
    }

    static string FormatOf(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".pdparams" or ".safetensors") return ext;
        if (ext is ".pth" or ".pt") return ".pth";
        Span<byte> head = stackalloc byte[2];
        using (var stream = File.OpenRead(path)) head = head[..stream.Read(head)];
        return head switch
        {
            [(byte)'P', (byte)'K'] => ".pth",
            [0x80, _] => ".pdparams",
            _ => ".safetensors",
        };
    }
}
