using System.Text.Json.Nodes;
using Ppcls.Inference;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Serving;

/// <summary>
/// What `ppcls serve` serves: an exported model folder opened the way `ppcls predict` opens it (its
/// inference.yml's preprocessing, ONNX Runtime, its post-process), so a served answer equals predict's.
/// </summary>
/// <param name="run">One batch through the model: NCHW floats and their shape to [N, classes] scores after the post-process's activation.</param>
/// <param name="inputDimensions">The model's declared input (-1 where open), e.g. [-1, 3, 224, 224].</param>
/// <param name="preprocessing">The preprocessing ops as `inference.yml` holds them, for GET /model.</param>
public sealed class ServedModel(
    string name,
    DeployPreprocessor preprocessor,
    Func<float[], long[], float[]> run,
    IPostProcess postProcess,
    IReadOnlyList<int> inputDimensions,
    JsonNode? preprocessing)
{
    public string Name { get; } = name;
    public IPostProcess PostProcess { get; } = postProcess;
    public IReadOnlyList<int> InputDimensions { get; } = inputDimensions;

    /// <summary>Class names by id where the post-process has them (Topk with a label list).</summary>
    public IReadOnlyList<string>? Labels => PostProcess is TopkPostProcess topk ? topk.Labels : null;

    /// <summary>Decodes and preprocesses one encoded image; <see cref="UnreadableImageException"/> (naming it) when it does not decode.</summary>
    public (float[] Chw, int C, int H, int W) Preprocess(byte[] encoded, string name)
    {
        if (encoded.Length == 0) throw new UnreadableImageException($"cannot decode image {name}: no image bytes (empty, or not base64)");
        var image = preprocessor.Load(encoded, name);
        CheckShape(image.C, image.H, image.W, name);
        return image;
    }

    /// <summary>Fails with one line when images of C x H x W do not fit the model's declared input.</summary>
    public void CheckShape(int c, int h, int w, string source)
    {
        if (InputDimensions is [_, var mc, var mh, var mw] && ((mc > 0 && mc != c) || (mh > 0 && mh != h) || (mw > 0 && mw != w)))
            throw new UserInputException($"{source}: the image is {c}x{h}x{w} after preprocessing, but the model takes {mc}x{mh}x{mw}");
    }

    public float[] Run(float[] batch, long[] shape) => run(batch, shape);

    /// <summary>GET /model: name, classes, input size, preprocessing and post-process.</summary>
    public JsonObject Describe()
    {
        var post = new JsonObject { ["name"] = PostProcess.Name };
        foreach (var (key, value) in PostProcess.DeployOptions)
            if (key != "label_list") post[key] = value switch { int i => i, double d => d, string s => s, _ => value.ToString() };
        return new JsonObject
        {
            ["name"] = Name,
            ["classes"] = Labels?.Count is { } count ? count : null,
            ["label_names"] = Labels is { } labels ? new JsonArray([.. labels.Select(l => (JsonNode?)l)]) : null,
            ["input_shape"] = new JsonArray([.. InputDimensions.Skip(1).Select(d => (JsonNode?)d)]),
            ["preprocessing"] = preprocessing?.DeepClone(),
            ["post_process"] = post,
        };
    }
}
