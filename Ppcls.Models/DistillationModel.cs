using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Models;

/// <summary>
/// PaddleClas's <c>DistillationModel</c>: several registered models side by side, each under
/// its name in <c>Arch.models</c> (state-dict keys <c>Teacher.fc.weight</c>, <c>Student.conv1...</c>).
/// A model frozen by <c>freeze_params_list</c> has no trainable parameter, stays in eval mode and
/// runs under no-grad. <c>forward</c> runs only the <c>infer_model_name</c> model (what eval
/// reports, export and infer use); training reads every model's output by name. With <c>is_rec: True</c>
/// the batch's labels reach the models in training (a RecModel's margin head uses them), as in PaddleClas.
/// </summary>
public sealed class DistillationModel : nn.Module<Tensor, Tensor>, IDistillationModel, ILearningRateMultipliers
{
    public const string ArchName = "DistillationModel";
    readonly List<SubModel> _models;
    readonly Dictionary<string, double> _lrMultipliers = new(StringComparer.Ordinal);

    readonly bool _passLabels;

    public DistillationModel(IReadOnlyList<SubModel> models, string inferModelName, bool passLabels = false) : base(ArchName)
    {
        _passLabels = passLabels;
        if (models.Count == 0) throw new ArgumentException("a distillation model needs at least one model", nameof(models));
        _models = [.. models];
        InferModel = _models.SingleOrDefault(m => m.Name == inferModelName)
            ?? throw new ArgumentException($"infer model '{inferModelName}' is not among the models", nameof(inferModelName));
        foreach (var model in _models)
        {
            register_module(model.Name, model.Module);
            if (model.Frozen)
            {
                foreach (var p in model.Module.parameters()) p.requires_grad = false;
                model.Module.eval();
            }
            else if (model.Module is ILearningRateMultipliers multipliers)
                foreach (var (name, value) in multipliers.LearningRateMultipliers()) _lrMultipliers[$"{model.Name}.{name}"] = value;
        }
    }

    public IReadOnlyList<SubModel> Models => _models;
    public SubModel InferModel { get; }

    public IReadOnlyDictionary<string, double> LearningRateMultipliers() => _lrMultipliers;

    public override Tensor forward(Tensor x) => Run(InferModel, x);

    public ModelOutput ForwardOutputs(Tensor x, Tensor? labels = null)
    {
        var outputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var model in _models)
        {
            if (model.Module is IMultiOutputModel multi)
            {
                var inner = Frozen(model, () => multi.ForwardOutputs(x, _passLabels ? labels : null));
                // A classifier's logits are the sub-model's own output (`Student`; ModelOutput.Get reads `Student.logits` as it).
                foreach (var (key, value) in inner.Tensors.Where(t => !(t.Key == ModelOutput.LogitsKey && t.Key == inner.PrimaryKey)))
                    outputs[$"{model.Name}.{key}"] = value;
                outputs[model.Name] = inner.Primary;
            }
            else outputs[model.Name] = Run(model, x);
        }
        return new ModelOutput(outputs, InferModel.Name);
    }

    public override void train(bool on = true)
    {
        base.train(on);
        foreach (var model in _models.Where(m => m.Frozen)) model.Module.eval();
    }

    static Tensor Run(SubModel model, Tensor x) => Frozen(model, () => model.Module.call(x));

    static T Frozen<T>(SubModel model, Func<T> forward)
    {
        if (!model.Frozen) return forward();
        using var noGrad = no_grad();
        return forward();
    }

    // ---- the Arch section -----------------------------------------------------------------

    public static void Register(ModelRegistry registry) => registry.Register(new CompositeModelEntry(ArchName, Create));

    /// <summary>
    /// Reads <c>models</c> (single-key items, each an Arch section of a registered model, with its
    /// own <c>pretrained</c> path), <c>freeze_params_list</c>, <c>pretrained_list</c> and
    /// <c>infer_model_name</c> (default: <c>Student</c> where there is one, else the last model).
    /// </summary>
    public static BuiltModel Create(ConfigSection arch, ModelRegistry registry, Action<string> notice)
    {
        arch.Int("class_num", 1000); // the sub-models take it through the YAML anchor
        bool isRec = arch.Bool("is_rec", false);
        var entries = arch.OptionalNamedList("models") is { Count: > 0 } list ? list
            : throw ConfigException.At(arch.KeyPath("models"), arch.Raw("models")?.Location ?? arch.Location,
                "expected a list of models, e.g. models: [{Teacher: {name: PPHGNetV2_B4, class_num: 10}}, {Student: {name: PPLCNet_x0_25, class_num: 10}}]");
        var freeze = BoolList(arch, "freeze_params_list", entries.Count);
        var pretrained = PathList(arch, "pretrained_list", entries.Count);
        var names = entries.Select(e => e.Name).ToList();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
            throw ConfigException.At(arch.KeyPath("models"), arch.Location, $"model names must differ, got {string.Join(", ", names)}");
        string inferName = arch.OptionalString("infer_model_name") ?? (names.Contains("Student") ? "Student" : names[^1]);
        if (!names.Contains(inferName))
            throw ConfigException.At(arch.KeyPath("infer_model_name"), arch.Raw("infer_model_name")?.Location,
                $"'{inferName}' is not among the models ({string.Join(", ", names)})");

        var models = new List<SubModel>();
        var weights = new List<WeightRequest>();
        ModelPreset? inferPreset = null;
        for (int i = 0; i < entries.Count; i++)
        {
            var (name, section) = (entries[i].Name, entries[i].Options);
            var sub = ArchConfig.Read(section);
            var built = ModelBuilder.BuildWithPreset(sub, registry, notice);
            string? fromStore = sub.PretrainedFromHub ? PretrainedStore.Find(sub.Name, built.Preset, sub.UseSsld) : null;
            if (sub.PretrainedFromHub && fromStore is null)
                notice($"{PretrainedStore.MissingMessage(sub.Name, built.Preset, sub.UseSsld, section.KeyPath("pretrained"))}. {name} starts from random weights");
            // A sub-model's file is that model alone or a whole DistillationModel checkpoint (its Name.* tensors).
            weights.AddRange(built.PartWeights);
            foreach (var (path, key) in new[] { (fromStore, section.KeyPath("pretrained")), (sub.PretrainedPath, section.KeyPath("pretrained")), (pretrained[i], $"{arch.KeyPath("pretrained_list")}.{i}") })
                if (path is not null) weights.Add(new WeightRequest(path, key, built.Module, built.Preset, KeyPrefix: name));
            models.Add(new SubModel(name, built.Module, freeze[i]));
            if (name == inferName) inferPreset = built.Preset;
        }
        // PaddleClas's recognition distillation (GeneralRecognition dml/udml) names the exported output here too.
        if (arch.Has("infer_output_key"))
        {
            if (models.Single(m => m.Name == inferName).Module is not IEmbeddingModel)
                throw ConfigException.At(arch.KeyPath("infer_output_key"), arch.Location,
                    $"only a recognition model (RecModel) exports its features; {inferName} is a classifier, so remove the key");
            RecModel.ReadInferenceOutput(arch);
        }
        var p = inferPreset!;
        var preset = p with { FirstConvKey = $"{inferName}.{p.FirstConvKey}", ClassifierKey = $"{inferName}.{p.ClassifierKey}" };
        return new BuiltModel(new DistillationModel(models, inferName, isRec), preset) { PartWeights = weights };
    }

    static IReadOnlyList<bool> BoolList(ConfigSection arch, string key, int count)
    {
        var node = arch.Raw(key);
        if (node is null or ConfigScalar { IsNull: true }) return Enumerable.Repeat(false, count).ToList();
        if (node is ConfigList list && list.Items.Count == count)
        {
            var values = new List<bool>();
            foreach (var item in list.Items)
            {
                if (item is ConfigScalar s && s.TryBool(out bool flag)) values.Add(flag);
                else throw ConfigException.At(arch.KeyPath(key), item.Location ?? node.Location, $"expected True or False, got {item.KindName}");
            }
            return values;
        }
        throw ConfigException.At(arch.KeyPath(key), node.Location, $"expected a list of {count} True/False values, one per entry of models");
    }

    static IReadOnlyList<string?> PathList(ConfigSection arch, string key, int count)
    {
        var node = arch.Raw(key);
        if (node is null or ConfigScalar { IsNull: true }) return new string?[count];
        if (node is ConfigList list && list.Items.Count == count && list.Items.All(i => i is ConfigScalar))
            return list.Items.Select(i => ((ConfigScalar)i).Text).ToList();
        throw ConfigException.At(arch.KeyPath(key), node.Location, $"expected a list of {count} weight paths (or null), one per entry of models");
    }
}
