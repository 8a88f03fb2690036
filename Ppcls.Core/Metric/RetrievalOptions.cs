using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// How retrieval turns a model output into an embedding, from PaddleClas's `Global` keys:
/// `retrieval_feature_from` (<c>features</c>, the neck's output, or <c>backbone</c>),
/// `feature_normalize` (L2 normalisation, on by default: inner products are then cosine
/// similarities) and `feature_binarize` (<c>round</c>: round(x) * 2 - 1, <c>sign</c>: sign(x), applied after it).
/// A distillation model with a <c>Student</c> is embedded by the Student's output, as PaddleClas's retrieval eval does.
/// </summary>
public sealed record RetrievalOptions(string FeatureFrom = "features", bool Normalize = true, string? Binarize = null)
{
    public static readonly RetrievalOptions Default = new();

    /// <summary>The sub-model PaddleClas's retrieval eval reads in a distillation model's outputs.</summary>
    const string StudentName = "Student";

    /// <summary>The batch's embeddings, detached, float32 on the CPU, [N, D].</summary>
    public Tensor Embed(ModelOutput output)
    {
        string? model = output.Has(StudentName, null) ? StudentName : null;
        var features = output.Get(model, FeatureFrom, "Global.retrieval_feature_from").detach();
        if (Normalize) features = nn.functional.normalize(features, p: 2, dim: 1);
        features = Binarize switch
        {
            "round" => features.round() * 2.0 - 1.0,
            "sign" => features.sign(),
            _ => features,
        };
        return features.to_type(ScalarType.Float32).cpu();
    }
}
