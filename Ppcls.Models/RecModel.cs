using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models;

/// <summary>
/// PaddleClas's <c>RecModel</c> for metric learning: a registered <c>Backbone</c> (stopped before
/// its classifier with <c>BackboneStopLayer: {name: flatten}</c>), an optional <c>Neck</c> (FC: the
/// embedding) and an optional <c>Head</c> (FC: logits). Outputs <c>backbone</c>, <c>neck</c>,
/// <c>features</c> (the neck's output, else the backbone's) and <c>logits</c> (with a head); the
/// primary output is the logits where there is a head, else the features. State-dict keys:
/// <c>backbone.*</c>, <c>neck.fc.*</c>, <c>head.fc.*</c>.
/// </summary>
public sealed class RecModel : nn.Module<Tensor, Tensor>, IMultiOutputModel, IEmbeddingModel
{
    public const string ArchName = "RecModel";
    public const string StopLayerName = "flatten";

    readonly nn.Module<Tensor, Tensor> backbone;
    readonly FullyConnectedGear? neck;
    readonly FullyConnectedGear? head;
    readonly BackboneStop? _stop;

    public RecModel(nn.Module<Tensor, Tensor> backbone, bool stopAtFeatures, FullyConnectedGear? neck, FullyConnectedGear? head) : base(ArchName)
    {
        _stop = !stopAtFeatures ? null
            : backbone is IClassifierModel classifier ? new BackboneStop(classifier)
            : throw new ArgumentException("the backbone cannot stop before its classifier", nameof(backbone));
        this.backbone = backbone;
        this.neck = neck;
        this.head = head;
        RegisterComponents();
        // The backbone's classifier is unused after the stop layer: PaddleClas replaces it with Identity.
        if (_stop is not null)
            foreach (var p in _stop.Classifier.Classifier.parameters()) p.requires_grad = false;
    }

    public nn.Module<Tensor, Tensor> Embedding() => new RecEmbedding(backbone, _stop, neck);

    public override Tensor forward(Tensor x) => ForwardOutputs(x).Primary;

    public ModelOutput ForwardOutputs(Tensor x)
    {
        var outputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var features = outputs["backbone"] = _stop?.Forward(x) ?? backbone.call(x);
        if (neck is not null) features = outputs["neck"] = neck.call(features);
        outputs["features"] = features;
        if (head is null) return new ModelOutput(outputs, "features");
        outputs[ModelOutput.LogitsKey] = head.call(features);
        return new ModelOutput(outputs, ModelOutput.LogitsKey);
    }

    // ---- the Arch section -----------------------------------------------------------------

    public static void Register(ModelRegistry registry) => registry.Register(new CompositeModelEntry(ArchName, Create));

    public static BuiltModel Create(ConfigSection arch, ModelRegistry registry, Action<string> notice)
    {
        arch.Int("class_num", 1000);
        var backboneSection = arch.RequiredSection("Backbone", "{name: PPLCNet_x1_0}");
        var backbone = ArchConfig.Read(backboneSection);
        var built = ModelBuilder.BuildWithPreset(backbone, registry, notice);
        if (backbone.PretrainedFromHub)
            notice($"{backboneSection.KeyPath("pretrained")}: True would download ImageNet weights in PaddleClas, which Ppcls does not do; " +
                "set it to a local weights file. The backbone starts from random weights");
        bool stop = false;
        if (arch.OptionalSection("BackboneStopLayer") is { } stopSection)
        {
            string layer = stopSection.RequiredString("name", StopLayerName);
            stopSection.Finish(notice);
            if (layer != StopLayerName || built.Module is not IClassifierModel)
                throw ConfigException.At(stopSection.KeyPath("name"), stopSection.Location,
                    built.Module is IClassifierModel
                        ? $"'{layer}' is not supported; Ppcls stops a backbone at '{StopLayerName}' (the features before its classifier)"
                        : $"{backboneSection.KeyPath("name")} cannot stop before its classifier in Ppcls (a zoo classifier can); remove BackboneStopLayer to use its logits");
            stop = true;
        }
        int inputSize = stop && built.Module is IClassifierModel stopped ? stopped.FeatureSize : ArchConfigClassNum(backboneSection);
        var neck = Gear(arch, "Neck", inputSize, notice);
        var head = Gear(arch, "Head", neck?.OutputSize ?? inputSize, notice);
        arch.OptionalString("head_feature_from"); // 'neck' (the default) is the only source here
        var p = built.Preset;
        string classifier = head is not null ? "head.fc.weight" : neck is not null ? "neck.fc.weight" : $"backbone.{p.ClassifierKey}";
        var preset = p with { FirstConvKey = $"backbone.{p.FirstConvKey}", ClassifierKey = classifier };
        // Backbone.pretrained: a file of the backbone alone, or a whole RecModel checkpoint (its backbone.* tensors).
        var weights = backbone.PretrainedPath is { } path
            ? built.PartWeights.Append(new WeightRequest(path, backboneSection.KeyPath("pretrained"), built.Module, built.Preset, KeyPrefix: "backbone")).ToList()
            : built.PartWeights;
        return new BuiltModel(new RecModel(built.Module, stop, neck, head), preset) { PartWeights = weights };
    }

    static int ArchConfigClassNum(ConfigSection backbone) =>
        backbone.Map["class_num"] is ConfigScalar s && s.TryLong(out long v) ? (int)v : 1000;

    /// <summary>`Neck` / `Head`: {name: FC, embedding_size, class_num}; embedding_size must match what feeds it.</summary>
    static FullyConnectedGear? Gear(ConfigSection arch, string key, int inputSize, Action<string> notice)
    {
        if (arch.OptionalSection(key) is not { } section) return null;
        string name = section.RequiredString("name", "FC");
        if (name != "FC")
            throw ConfigException.At(section.KeyPath("name"), section.Location, $"'{name}' is not available in Ppcls; use FC");
        int embedding = ArchOptions.PositiveInt(section, "embedding_size", inputSize);
        int classNum = ArchOptions.PositiveInt(section, "class_num", 512);
        section.Finish(notice);
        if (embedding != inputSize)
            throw ConfigException.At(section.KeyPath("embedding_size"), section.Map["embedding_size"]?.Location ?? section.Location,
                $"is {embedding} but the {key} receives {inputSize} features; set embedding_size: {inputSize}");
        return new FullyConnectedGear(embedding, classNum);
    }
}

/// <summary>
/// <c>BackboneStopLayer: flatten</c>: the backbone up to its classifier's input (its head with preLogits).
/// Not a module: the backbone is registered once, as the RecModel's <c>backbone</c>.
/// </summary>
sealed class BackboneStop(IClassifierModel classifier)
{
    public IClassifierModel Classifier { get; } = classifier;

    /// <summary>In its own dispose scope, as <see cref="ClassifierNetwork.forward"/>.</summary>
    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Classifier.ForwardHead(Classifier.ForwardFeatures(x), preLogits: true).MoveToOuterDisposeScope();
    }

    public string ToOnnx(OnnxGraph graph, string input) =>
        graph.Child("backbone", () => Classifier.HeadToOnnx(graph, Classifier.FeaturesToOnnx(graph, input), preLogits: true));
}

/// <summary>
/// A RecModel's path to its <c>features</c> output (backbone up to the stop layer, then the neck),
/// sharing the RecModel's layers: what `ppcls export` writes (PaddleClas's <c>infer_output_key: features</c>).
/// </summary>
sealed class RecEmbedding : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    readonly nn.Module<Tensor, Tensor> backbone;
    readonly FullyConnectedGear? neck;
    readonly BackboneStop? _stop;

    public RecEmbedding(nn.Module<Tensor, Tensor> backbone, BackboneStop? stop, FullyConnectedGear? neck) : base("RecEmbedding")
    {
        this.backbone = backbone;
        this.neck = neck;
        _stop = stop;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var features = _stop?.Forward(x) ?? backbone.call(x);
        return neck is null ? features : neck.call(features);
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        var y = _stop?.ToOnnx(graph, input) ?? graph.Module(backbone, "backbone", input);
        return neck is null ? y : graph.Module(neck, "neck", y);
    }
}

/// <summary>PaddleClas's <c>FC</c> gear (neck or head): one Linear layer, <c>fc</c>.</summary>
public sealed class FullyConnectedGear : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    readonly Linear fc;

    public FullyConnectedGear(int embeddingSize, int classNum) : base("FC")
    {
        fc = PaddleInit.Linear(embeddingSize, classNum);
        OutputSize = classNum;
        RegisterComponents();
    }

    public int OutputSize { get; }

    public override Tensor forward(Tensor x) => fc.call(x);

    public string ToOnnx(OnnxGraph graph, string input) => graph.Module(fc, "fc", input);
}
