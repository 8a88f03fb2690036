using Ppcls.Core.Models;
using Ppcls.Core.Onnx;
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
public abstract class ClassifierNetwork : ScopedBlock, IClassifierModel, IOnnxExportable
{
    protected ClassifierNetwork(string name) : base(name)
    {
    }

    public abstract Linear Classifier { get; protected set; }

    public int ClassNum => (int)Classifier.out_features;

    public int FeatureSize => (int)Classifier.in_features;

    public string ClassifierKey => ClassifierName + ".weight";

    string ClassifierName => named_modules().First(c => ReferenceEquals(c.module, Classifier)).name;

    /// <summary>
    /// The head applied to the features, in the network's own dispose scope (<see cref="ScopedBlock"/>):
    /// no handle of an intermediate outlives the forward, so backward frees each activation it saved as
    /// soon as it has used it. (With the step's scope alone every intermediate lived to the step's end:
    /// peak RSS of a MobileNetV2 train step at batch 32 rose from 2.9 to 3.4 GB.)
    /// </summary>
    protected sealed override Tensor ForwardInScope(Tensor x) => ForwardHead(ForwardFeatures(x));

    public string ToOnnx(OnnxGraph graph, string input) => HeadToOnnx(graph, FeaturesToOnnx(graph, input));

    public abstract Tensor ForwardFeatures(Tensor x);

    public abstract Tensor ForwardHead(Tensor features, bool preLogits = false);

    public abstract string FeaturesToOnnx(OnnxGraph graph, string input);

    public abstract string HeadToOnnx(OnnxGraph graph, string features, bool preLogits = false);

    public void ResetClassifier(int classNum)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classNum);
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
