using Ppcls.Core.Config.Sections;

namespace Ppcls.Core.Config;

/// <summary>
/// A whole config, typed: the PaddleClas sections read from YAML plus `-o` overrides and
/// validated up front. Sections owned by registries (model options, transform ops, losses,
/// metrics, LR schedules) stay as <see cref="ConfigSection"/>s for those registries to read.
/// </summary>
public sealed record PpclsConfig
{
    public required string SourcePath { get; init; }
    /// <summary>The tree after overrides (what the run actually used; saved beside checkpoints).</summary>
    public required ConfigMap Tree { get; init; }
    public required GlobalConfig Global { get; init; }
    public required ArchConfig Arch { get; init; }
    public NamedListPair Loss { get; init; } = NamedListPair.None;
    public NamedListPair Metric { get; init; } = NamedListPair.None;
    public OptimizerConfig? Optimizer { get; init; }
    public DataLoaderConfig? DataLoader { get; init; }
    public InferConfig? Infer { get; init; }
    public AmpConfig? Amp { get; init; }
    public EmaConfig? Ema { get; init; }
    /// <summary>`Slim`: quantization-aware training (PACT); null where absent.</summary>
    public SlimConfig? Slim { get; init; }

    /// <summary>True when `Slim.quant` turns on PACT quantization-aware training.</summary>
    public bool QuantAware => Slim is { QuantPact: true };

    /// <summary>Top-level sections PaddleClas has for tools Ppcls does not provide (search, retrieval indexing...), which change nothing trained.</summary>
    static readonly string[] PaddleOnlySections =
    [
        "IndexProcess", "base_config_file", "distill_config_file",
        "gpus", "search_times", "search_dict", "teacher", "final_replace",
    ];

    /// <summary>Loads <paramref name="path"/>, applies the overrides in order, and validates every section.</summary>
    public static PpclsConfig Load(string path, IEnumerable<string> overrides, Action<string> notice) =>
        FromTree(ConfigOverride.LoadTree(path, overrides, notice), path, notice);

    /// <summary>Top-level sections that change what PaddleClas trains and that Ppcls does not implement: refused, never ignored.</summary>
    static readonly Dictionary<string, string> UnsupportedSections = new()
    {
        ["ARCHITECTURE"] = "this is a PaddleClas 1.x static-graph config (ARCHITECTURE, TRAIN, VALID, LEARNING_RATE), which PaddleClas 2.x's tools/train.py does not read either; " +
            "port it to the Arch / DataLoader / Optimizer schema (e.g. configs/ImageNet/ResNet/ResNet50_vd.yaml)",
        ["SSL"] = "semi-supervised training (SSL) is not supported in Ppcls; remove the SSL section and train on the labelled list",
        ["UnLabelLoss"] = "the loss on unlabelled images belongs to semi-supervised training, which Ppcls does not support; remove the UnLabelLoss section",
    };

    public static PpclsConfig FromTree(ConfigMap tree, string sourcePath, Action<string> notice)
    {
        var root = new ConfigSection(tree, "");
        foreach (var (section, problem) in UnsupportedSections)
            if (root.Raw(section) is { } node and not ConfigScalar { IsNull: true })
                throw ConfigException.At(section, node.Location, problem);
        if (root.Raw("Optimizer") is ConfigList optimizers)
            throw ConfigException.At("Optimizer", optimizers.Location,
                "the list form (one optimizer per parameter scope) is not supported in Ppcls; give one Optimizer mapping (name, momentum, lr, regularizer) for the whole model");
        var config = new PpclsConfig
        {
            SourcePath = sourcePath,
            Tree = tree,
            Global = GlobalConfig.Read(root.RequiredSection("Global", "{epochs: 10, output_dir: ./output/}"), notice),
            Arch = ArchConfig.Read(root.RequiredSection("Arch", "{name: PPLCNet_x1_0, class_num: 1000}")) with { MlDecoder = root.OptionalSection("MLDecoder") },
            Loss = root.OptionalSection("Loss") is { } loss ? NamedListPair.Read(loss, notice) : NamedListPair.None,
            Metric = root.OptionalSection("Metric") is { } metric ? NamedListPair.Read(metric, notice) : NamedListPair.None,
            Optimizer = root.OptionalSection("Optimizer") is { } opt ? OptimizerConfig.Read(opt, notice) : null,
            DataLoader = root.OptionalSection("DataLoader") is { } dl ? DataLoaderConfig.Read(dl, notice) : null,
            Infer = root.OptionalSection("Infer") is { } infer ? InferConfig.Read(infer, notice) : null,
            Amp = root.OptionalSection("AMP") is { } amp ? AmpConfig.Read(amp, notice) : null,
            Ema = root.OptionalSection("EMA") is { } ema ? EmaConfig.Read(ema, notice) : null,
            Slim = root.OptionalSection("Slim") is { } slim ? SlimConfig.Read(slim, notice) : null,
        };
        if (config.DataLoader is { } loaders && (loaders.Gallery ?? loaders.Query) is not null && config.Global.EvalMode != EvalMode.Retrieval)
            throw ConfigException.At("Global.eval_mode", null,
                "DataLoader.Eval has Gallery/Query loaders, which only retrieval evaluation reads; set Global.eval_mode: retrieval");
        if (config.Amp is { UseAmp: true })
            notice("AMP.use_amp is on, but Ppcls trains in float32 on the CPU; AMP settings are ignored");
        if (config.Arch is { UseMlDecoder: false, MlDecoder: { } unused })
            notice($"{unused.Path} is read only with Arch.use_ml_decoder: True (as in PaddleClas); ignored");
        root.Finish(notice, PaddleOnlySections);
        return config;
    }
}
