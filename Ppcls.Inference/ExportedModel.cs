namespace Ppcls.Inference;

/// <summary>
/// The package's front door: a folder written by `ppcls export` (inference.onnx + inference.yml), loaded once, then
/// images classified one at a time (file, bytes or stream) or as a batch, each answered with its top-k class ids,
/// scores and label names (<see cref="ClassResult"/>), as `ppcls predict` gives them.
/// </summary>
/// <example>
/// <code>
/// using var model = ExportedModel.Load("inference");
/// ClassResult top = model.Predict("dog.jpg", topk: 5);
/// Console.WriteLine($"{top.LabelNames[0]} {top.Scores[0]}");
/// </code>
/// </example>
public sealed class ExportedModel : IDisposable
{
    readonly OnnxClassifier _onnx;
    readonly Preprocessing.DeployPreprocessor _preprocessor;

    ExportedModel(OnnxClassifier onnx, InferenceYmlReader.Contents contents, string folder)
    {
        _onnx = onnx;
        _preprocessor = contents.Preprocessor;
        Name = contents.ModelName ?? Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar));
        Topk = contents.Topk;
        Labels = contents.Labels;
    }

    /// <summary>Loads the folder; <paramref name="intraOpThreads"/> null lets ONNX Runtime use every core.</summary>
    public static ExportedModel Load(string folder, int? intraOpThreads = null)
    {
        if (!Directory.Exists(folder)) throw new UserInputException($"model folder '{folder}' not found; create it with 'ppcls export ... -o Global.save_inference_dir={folder}'");
        var contents = InferenceYmlReader.Read(Path.Combine(folder, ModelFolder.InferenceYaml));
        var onnx = new OnnxClassifier(Path.Combine(folder, ModelFolder.InferenceOnnx), intraOpThreads);
        if (contents.Labels is { } labels && onnx.Classes > 0 && labels.Count != onnx.Classes)
        {
            onnx.Dispose();
            throw new UserInputException($"{folder}: inference.yml names {labels.Count} classes but the model has {onnx.Classes}; export again");
        }
        return new ExportedModel(onnx, contents, folder);
    }

    /// <summary>`Global.model_name` of inference.yml (the folder's name without it).</summary>
    public string Name { get; }

    /// <summary>How many classes a result holds unless a call asks otherwise (inference.yml's Topk.topk).</summary>
    public int Topk { get; }

    /// <summary>Class names by id (inference.yml's label_list), null where the model was exported without them.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>An image file.</summary>
    public ClassResult Predict(string path, int? topk = null) => PredictBatch([path], topk)[0];

    /// <summary>An encoded image (JPEG, PNG, BMP, WebP); <paramref name="name"/> becomes the result's file name.</summary>
    public ClassResult Predict(byte[] image, string name = "image", int? topk = null) => Classify([_preprocessor.Load(image, name)], [name], topk)[0];

    /// <summary>An encoded image read from <paramref name="image"/> to its end.</summary>
    public ClassResult Predict(Stream image, string name = "image", int? topk = null)
    {
        using var buffer = new MemoryStream();
        image.CopyTo(buffer);
        return Predict(buffer.ToArray(), name, topk);
    }

    /// <summary>Image files in one model run (all must preprocess to the same size, as the exported ops make them).</summary>
    public IReadOnlyList<ClassResult> PredictBatch(IReadOnlyList<string> paths, int? topk = null) =>
        Classify([.. paths.Select(_preprocessor.Load)], paths, topk);

    /// <summary>Encoded images in one model run, named image0, image1, ... unless <paramref name="names"/> are given.</summary>
    public IReadOnlyList<ClassResult> PredictBatch(IReadOnlyList<byte[]> images, IReadOnlyList<string>? names = null, int? topk = null)
    {
        var labels = names ?? [.. images.Select((_, i) => $"image{i}")];
        return Classify([.. images.Select((bytes, i) => _preprocessor.Load(bytes, labels[i]))], labels, topk);
    }

    IReadOnlyList<ClassResult> Classify(IReadOnlyList<(float[] Chw, int C, int H, int W)> images, IReadOnlyList<string> names, int? topk)
    {
        if (images.Count == 0) return [];
        var post = new TopkPostProcess(topk ?? Topk, Labels);
        var (_, c, h, w) = images[0];
        int size = c * h * w;
        var input = new float[images.Count * size];
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i].Chw.Length != size) throw new UserInputException($"{names[i]}: preprocessed to another size than {names[0]}; a batch needs one size");
            images[i].Chw.CopyTo(input, i * size);
        }
        var scores = _onnx.Run(input, [images.Count, c, h, w]);
        int classes = scores.Length / images.Count;
        return [.. names.Select((name, i) => post.Apply(scores.AsSpan(i * classes, classes), name))];
    }

    public void Dispose() => _onnx.Dispose();
}
