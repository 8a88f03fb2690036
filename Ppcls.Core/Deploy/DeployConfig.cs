using Ppcls.Core.Config;
using Ppcls.Inference;

namespace Ppcls.Core.Deploy;

/// <summary>
/// PaddleClas's deploy schema (`deploy/configs/inference_cls.yaml`, and the `inference.yml` that
/// `ppcls export` writes beside the model): `Global` (images, model folder, batch size, CPU
/// threads), `PreProcess.transform_ops` (the ops after decoding) and `PostProcess.Topk`. Keys for
/// Paddle Inference engines (TensorRT, MKL-DNN, GPU memory, ...) are accepted with a notice.
/// </summary>
public sealed record DeployConfig(
    string Source,
    string? InferImgs,
    string? InferenceModelDir,
    int BatchSize,
    int? CpuThreads,
    string? ModelName,
    IReadOnlyList<NamedEntry>? TransformOps,
    TopkSettings? Topk)
{
    static readonly string[] PaddleOnlyGlobalKeys =
    [
        "enable_mkldnn", "enable_benchmark", "use_fp16", "ir_optim", "use_tensorrt", "gpu_mem", "enable_profile",
        "use_onnx", "benchmark", "save_log_path", "use_int8", "min_subgraph_size", "rec_inference_model_dir",
    ];

    static readonly string[] PaddleOnlyPostProcess = ["SavePreLabel"];

    public static DeployConfig Load(string path, IEnumerable<string> overrides, Action<string> notice) =>
        Read(ConfigOverride.LoadTree(path, overrides, notice), path, notice);

    public static DeployConfig Read(ConfigMap tree, string source, Action<string> notice)
    {
        var root = new ConfigSection(tree, "");
        string? inferImgs = null, modelDir = null, modelName = null;
        int batchSize = 1;
        int? threads = null;
        if (root.OptionalSection("Global") is { } g)
        {
            inferImgs = g.OptionalString("infer_imgs");
            modelDir = g.OptionalString("inference_model_dir");
            batchSize = g.Int("batch_size", 1);
            if (batchSize < 1) throw ConfigException.At(g.KeyPath("batch_size"), g.Raw("batch_size")?.Location, $"must be at least 1, got {batchSize}");
            threads = (int?)g.OptionalLong("cpu_num_threads");
            if (threads is < 1) throw ConfigException.At(g.KeyPath("cpu_num_threads"), g.Raw("cpu_num_threads")?.Location, $"must be at least 1, got {threads}");
            modelName = g.OptionalString("model_name");
            if (g.Bool("use_gpu", false)) notice("Global.use_gpu: Ppcls predicts with ONNX Runtime on the CPU");
            g.Finish(notice, PaddleOnlyGlobalKeys);
        }
        IReadOnlyList<NamedEntry>? ops = null;
        if (root.OptionalSection("PreProcess") is { } pre)
        {
            ops = pre.OptionalNamedList("transform_ops")
                ?? throw ConfigException.At(pre.KeyPath("transform_ops"), pre.Location, "required key is missing; add e.g. transform_ops: [{ResizeImage: {resize_short: 256}}, {CropImage: {size: 224}}, {NormalizeImage: {}}, {ToCHWImage: }]");
            pre.Finish(notice);
        }
        TopkSettings? topk = null;
        if (root.OptionalSection("PostProcess") is { } post)
        {
            post.OptionalString("main_indicator");
            if (post.OptionalSection("Topk") is { } t) topk = ReadTopk(t, notice);
            post.Finish(notice, PaddleOnlyPostProcess);
        }
        root.Finish(notice);
        return new DeployConfig(source, inferImgs, modelDir, batchSize, threads, modelName, ops, topk);
    }

    /// <summary>Topk's keys as PaddleClas reads them: topk (default 1), class_id_map_file, delimiter (default a space), label_list.</summary>
    public static TopkSettings ReadTopk(ConfigSection t, Action<string> notice)
    {
        int k = t.Int("topk", 1);
        if (k < 1) throw ConfigException.At(t.KeyPath("topk"), t.Raw("topk")?.Location, $"must be at least 1, got {k}");
        var settings = new TopkSettings(k, t.OptionalString("class_id_map_file"), t.String("delimiter", " "), t.OptionalStringList("label_list"), t.Path);
        t.Finish(notice);
        return settings;
    }
}
