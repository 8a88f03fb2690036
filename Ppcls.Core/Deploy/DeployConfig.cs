using Ppcls.Core.Config;
using Ppcls.Inference;

namespace Ppcls.Core.Deploy;

/// <summary>
/// PaddleClas's deploy schema (`deploy/configs/inference_cls.yaml`, and the `inference.yml` that
/// `ppcls export` writes beside the model): `Global` (images, model folder, batch size, CPU
/// threads), `PreProcess.transform_ops` (the ops after decoding) and the post-process
/// (`PostProcess.Topk`, `.ThreshOutput`, ... by <see cref="PostProcessFactory"/>). Keys for
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
    IPostProcess? PostProcess)
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
        IPostProcess? postProcess = root.OptionalSection("PostProcess") is { } post ? ReadPostProcess(post, notice) : null;
        root.Finish(notice);
        return new DeployConfig(source, inferImgs, modelDir, batchSize, threads, modelName, ops, postProcess);
    }

    /// <summary>
    /// The one post-process of a `PostProcess` section: its entry named as in PaddleClas (`Topk: {topk: 5}`).
    /// With several, `main_indicator` picks the one whose result is printed, as in PaddleClas's predictor.
    /// </summary>
    static IPostProcess? ReadPostProcess(ConfigSection post, Action<string> notice)
    {
        string? main = post.OptionalString("main_indicator");
        var names = post.Map.Keys.Where(k => PostProcessFactory.PostProcesses.TryGet(k, out _)).ToList();
        if (names.Count > 1)
            names = main is not null && names.Contains(main)
                ? [main]
                : throw ConfigException.At(post.KeyPath("main_indicator"), post.Raw("main_indicator")?.Location ?? post.Location,
                    $"PostProcess holds {string.Join(", ", names)}; set main_indicator to the one to print, or keep one");
        IPostProcess? built = names.Count == 1
            ? PostProcessFactory.Read(names[0], post.OptionalSection(names[0]) ?? new ConfigSection(new ConfigMap(), post.KeyPath(names[0])), names[0], null, notice)
            : null;
        foreach (var other in post.UnreadKeys.Where(k => PostProcessFactory.PostProcesses.TryGet(k, out _)).ToList())
        {
            post.Raw(other);
            notice($"{post.KeyPath(other)}: not the main_indicator; ignored");
        }
        post.Finish(PostProcessFactory.PostProcesses.Names.Append("main_indicator"), notice, PaddleOnlyPostProcess);
        return built;
    }
}
