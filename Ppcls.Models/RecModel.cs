using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Gears;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models;

/// <summary>
/// PaddleClas's <c>RecModel</c> for metric learning: a registered <c>Backbone</c> (stopped before
/// its classifier with <c>BackboneStopLayer: {name: flatten}</c>), an optional <c>Neck</c> (FC or
/// BNNeck: the embedding) and an optional <c>Head</c> (FC, or a margin head that takes the labels in
/// training: <see cref="RecGears"/>), fed the neck's output or, with <c>head_feature_from: backbone</c>,
/// the backbone's. Outputs <c>backbone</c>, <c>neck</c>, <c>features</c> (the neck's output, else the
/// backbone's) and <c>logits</c> (with a head); the primary output is the logits where there is a head,
/// else the features. State-dict keys: <c>backbone.*</c>, <c>neck.*</c>, <c>head.*</c>. Gear parameters
/// with a <c>*_attr.learning_rate</c> train at that multiple of the learning rate.
/// </summary>
public sealed class RecModel : nn.Module<Tensor, Tensor>, IMultiOutputModel, IEmbeddingModel, ILearningRateMultipliers
{
    public const string ArchName = "RecModel";
    public const string StopLayerName = "flatten";

    readonly nn.Module<Tensor, Tensor> backbone;
    readonly RecGear? neck;
    readonly RecGear? head;
    readonly BackboneStop? _stop;
    readonly bool _headFromBackbone;

    public RecModel(nn.Module<Tensor, Tensor> backbone, bool stopAtFeatures, RecGear? neck, RecGear? head, bool headFromBackbone = false) : base(ArchName)
    {
        _headFromBackbone = headFromBackbone;
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

    public IReadOnlyDictionary<string, double> LearningRateMultipliers()
    {
        var multipliers = new Dictionary<string, double>(StringComparer.Ordinal);
        if (backbone is ILearningRateMultipliers inner)
            foreach (var (name, value) in inner.LearningRateMultipliers()) multipliers[$"backbone.{name}"] = value;
        foreach (var (prefix, gear) in new[] { ("neck", neck), ("head", head) })
            foreach (var (name, value) in gear?.LearningRateMultipliers() ?? []) multipliers[$"{prefix}.{name}"] = value;
        return multipliers;
    }

    public ModelOutput ForwardOutputs(Tensor x, Tensor? labels = null)
    {
        var outputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var features = outputs["backbone"] = _stop?.Forward(x) ?? backbone.call(x);
        if (neck is not null) features = outputs["neck"] = neck.call(features);
        outputs["features"] = features;
        if (head is null) return new ModelOutput(outputs, "features");
        // Soft targets (mixup) carry no class id for a margin: the head then gives its plain cosines.
        var label = labels is not null && labels.dim() == 1 ? labels : null;
        outputs[ModelOutput.LogitsKey] = head.Forward(_headFromBackbone ? outputs["backbone"] : features, label);
        return new ModelOutput(outputs, ModelOutput.LogitsKey);
    }

    // ---- the Arch section -----------------------------------------------------------------

    public static void Register(ModelRegistry registry) => registry.Register(new CompositeModelEntry(ArchName, Create));

    public static BuiltModel Create(ConfigSection arch, ModelRegistry registry, Action<string> notice)
    {
        arch.Int("class_num", 1000);
        ReadInferenceOutput(arch);
        var backboneSection = arch.RequiredSection("Backbone", "{name: PPLCNet_x1_0}");
        var backbone = ArchConfig.Read(backboneSection);
        var built = ModelBuilder.BuildWithPreset(backbone, registry, notice);
        string? fromStore = backbone.PretrainedFromHub ? PretrainedStore.Find(backbone.Name, built.Preset, backbone.UseSsld) : null;
        if (backbone.PretrainedFromHub && fromStore is null)
            notice($"{PretrainedStore.MissingMessage(backbone.Name, built.Preset, backbone.UseSsld, backboneSection.KeyPath("pretrained"))}. The backbone starts from random weights");
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
        var neck = RecGears.Read(arch, "Neck", inputSize, notice);
        bool headFromBackbone = arch.Choice("head_feature_from", "neck", "neck", "backbone") == "backbone";
        var head = RecGears.Read(arch, "Head", headFromBackbone ? inputSize : neck?.OutputSize ?? inputSize, notice);
        var p = built.Preset;
        string classifier = head is not null ? GearWeight("head", head) : neck is not null ? GearWeight("neck", neck) : $"backbone.{p.ClassifierKey}";
        var preset = p with { FirstConvKey = $"backbone.{p.FirstConvKey}", ClassifierKey = classifier };
        // Backbone.pretrained: a file of the backbone alone, or a whole RecModel checkpoint (its backbone.* tensors).
        var weights = (backbone.PretrainedPath ?? fromStore) is { } path
            ? built.PartWeights.Append(new WeightRequest(path, backboneSection.KeyPath("pretrained"), built.Module, built.Preset, KeyPrefix: "backbone")).ToList()
            : built.PartWeights;
        return new BuiltModel(new RecModel(built.Module, stop, neck, head, headFromBackbone), preset) { PartWeights = weights };
    }

    /// <summary>
    /// `infer_output_key`: export writes the <c>features</c> output (<see cref="Embedding"/>); other keys are
    /// refused rather than exported differently (`infer_add_softmax`, read by the Arch section, is checked by export).
    /// </summary>
    internal static void ReadInferenceOutput(ConfigSection arch)
    {
        string key = arch.String("infer_output_key", "features");
        if (key != "features")
            throw ConfigException.At(arch.KeyPath("infer_output_key"), arch.Raw("infer_output_key")?.Location,
                $"'{key}' is not supported; a RecModel exports its 'features' output in Ppcls, set infer_output_key: features");
    }

    /// <summary>The state-dict key of a gear's main weight (its classifier key when it is the last layer).</summary>
    static string GearWeight(string prefix, RecGear gear) =>
        $"{prefix}.{gear.named_parameters().First(p => p.name.EndsWith("weight", StringComparison.Ordinal)).name}";

    static int ArchConfigClassNum(ConfigSection backbone) =>
        backbone.Map["class_num"] is ConfigScalar s && s.TryLong(out long v) ? (int)v : 1000;
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
    readonly RecGear? neck;
    readonly BackboneStop? _stop;

    public RecEmbedding(nn.Module<Tensor, Tensor> backbone, BackboneStop? stop, RecGear? neck) : base("RecEmbedding")
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
