using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
using Ppcls.Models.Heads;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models;

/// <summary>
/// What every family shares (<see cref="IClassifierModel"/>): <c>forward</c> is the head applied to the
/// features, and the ONNX export is the same chain, so the two halves are all a family writes. The
/// classifier is the family's own Linear field (its state-dict name, <c>fc</c> or <c>out</c>, comes from
/// where it is registered; <c>fc.origin_layer</c> inside a <see cref="TanhSuffix"/>), the last module the network registers.
/// </summary>
public abstract class ClassifierNetwork : ScopedBlock, IClassifierModel, IOnnxExportable, ILayerOutputs
{
    LayerOutputCapture? _capture;
    MLDecoder? _decoder;
    string? _decoderName;

    protected ClassifierNetwork(string name) : base(name)
    {
    }

    public abstract Linear Classifier { get; protected set; }

    public int ClassNum => (int)Classifier.out_features;

    public int FeatureSize => (int)Classifier.in_features;

    public string ClassifierKey => ClassifierName + ".weight";

    string ClassifierName => _decoderName ?? named_modules().First(c => ReferenceEquals(c.module, Classifier)).name;

    /// <summary>
    /// The ML-Decoder head in the classifier's place (Arch.use_ml_decoder), null without one. With it,
    /// <see cref="Classifier"/> is the replaced Linear, kept (unregistered, untrained) only for its widths:
    /// <see cref="ClassNum"/> and <see cref="FeatureSize"/>.
    /// </summary>
    public MLDecoder? Decoder => _decoder;

    /// <summary>
    /// Whether the family's head is global pool, per-position layers, flatten and classifier, so that
    /// PaddleClas's use_ml_decoder (avg_pool and flatten made Identity, fc replaced) applies: then
    /// <see cref="ForwardNeck"/> and <see cref="NeckToOnnx"/> run those per-position layers on the map.
    /// </summary>
    public virtual bool TakesMlDecoder => false;

    /// <summary>The head's layers between pool and flatten on the [N, C, H, W] features; [N, <see cref="FeatureSize"/>, H, W] out.</summary>
    protected virtual Tensor ForwardNeck(Tensor features) => throw new NotSupportedException($"{GetType().Name} takes no ML-Decoder head");

    protected virtual string NeckToOnnx(OnnxGraph graph, string features) => throw new NotSupportedException($"{GetType().Name} takes no ML-Decoder head");

    /// <summary>
    /// Puts <paramref name="decoder"/> where the classifier was registered (its keys become
    /// <c>fc.input_proj.weight</c>, ...), as PaddleClas's add_ml_decoder_head does; the model's
    /// forward is then decoder(neck(features)) without global pooling.
    /// </summary>
    public void UseMlDecoder(MLDecoder decoder)
    {
        if (!TakesMlDecoder) throw new NotSupportedException($"{GetType().Name} takes no ML-Decoder head");
        if (decoder.Options.InChannels != FeatureSize)
            throw new ArgumentException($"the ML-Decoder reads {decoder.Options.InChannels} channels but the head gives {FeatureSize}", nameof(decoder));
        string name = ClassifierName;
        register_module(name, null!);
        register_module(name, decoder);
        (_decoder, _decoderName) = (decoder, name);
    }

    /// <summary>
    /// The head applied to the features, in the network's own dispose scope (<see cref="ScopedBlock"/>):
    /// no handle of an intermediate outlives the forward, so backward frees each activation it saved as
    /// soon as it has used it. (With the step's scope alone every intermediate lived to the step's end:
    /// peak RSS of a MobileNetV2 train step at batch 32 rose from 2.9 to 3.4 GB.)
    /// </summary>
    protected sealed override Tensor ForwardInScope(Tensor x) =>
        _decoder is null ? ForwardHead(ForwardFeatures(x)) : _decoder.call(ForwardNeck(ForwardFeatures(x)));

    public string ToOnnx(OnnxGraph graph, string input) =>
        _decoder is null
            ? HeadToOnnx(graph, FeaturesToOnnx(graph, input))
            : graph.Module(_decoder, _decoderName!, NeckToOnnx(graph, FeaturesToOnnx(graph, input)));

    public abstract Tensor ForwardFeatures(Tensor x);

    public abstract Tensor ForwardHead(Tensor features, bool preLogits = false);

    public abstract string FeaturesToOnnx(OnnxGraph graph, string input);

    public abstract string HeadToOnnx(OnnxGraph graph, string features, bool preLogits = false);

    public IReadOnlyList<string> ReturnedLayers => _capture?.Patterns ?? [];

    /// <summary>PaddleClas's `return_patterns`, the same for every family (<see cref="LayerOutputCapture"/>); set once.</summary>
    public void ReturnLayerOutputs(IReadOnlyList<string> patterns)
    {
        if (_capture is not null) throw new InvalidOperationException("the returned layers are already set");
        if (patterns.Count > 0) _capture = new LayerOutputCapture(this, patterns);
    }

    /// <summary>The logits (key `logits`) and, with <see cref="ReturnLayerOutputs"/>, the named layers' outputs; a classifier reads no labels.</summary>
    public ModelOutput ForwardOutputs(Tensor x, Tensor? labels = null) => _capture is { } capture ? capture.Run(() => call(x)) : ModelOutput.Single(call(x));

    public void ResetClassifier(int classNum)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classNum);
        if (_decoder is not null) throw new NotSupportedException("the classifier is an ML-Decoder head; its class count is set by MLDecoder.class_num when the model is built");
        var old = Classifier;
        string name = ClassifierName;
        var fresh = PaddleInit.Linear(old.in_features, classNum);
        fresh.to(old.weight.dtype).to(old.weight.device);
        fresh.train(old.training);
        int dot = name.LastIndexOf('.');
        var owner = dot < 0 ? this : named_modules().First(m => m.name == name[..dot]).module;
        string leaf = name[(dot + 1)..];
        owner.register_module(leaf, null!);
        owner.register_module(leaf, fresh);
        Classifier = fresh;
        old.Dispose();
    }
}
