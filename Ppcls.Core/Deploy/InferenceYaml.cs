using System.Globalization;
using Ppcls.Core.Config;
using Ppcls.Inference;

namespace Ppcls.Core.Deploy;

/// <summary>
/// The `inference.yml` written beside an exported model, in the schema of PaddleClas's
/// `dump_infer_config`, so the folder is self-contained: `Global.model_name`,
/// `PreProcess.transform_ops` (the training config's `Infer.transforms` after decoding, with
/// NormalizeImage's `scale` evaluated to a number) and the post-process under its name
/// (`PostProcess.Topk`, `.ThreshOutput`, ...) with the class names themselves (`label_list`)
/// instead of a path to the map. An embedding model (RecModel) has no post-process: its output
/// is the features.
/// </summary>
public static class InferenceYaml
{
    /// <param name="transforms">The `Infer.transforms` list as configured (not modified).</param>
    /// <param name="postProcess">Null for an embedding model (no PostProcess).</param>
    public static ConfigMap Build(string modelName, ConfigList transforms, IPostProcess? postProcess)
    {
        var ops = new ConfigList();
        foreach (var item in transforms.Items)
        {
            if (item is not ConfigMap { Count: 1 } op) continue;
            var (name, options) = op.Entries[0];
            // The predictor decodes to RGB itself (PaddleClas's reads with cv2 and flips to RGB);
            // a DecodeImage that asks for anything else stays in the list.
            if (name == "DecodeImage" && DecodesToRgbHwc(options)) continue;
            var copy = (ConfigMap)op.DeepClone();
            if (name == "NormalizeImage" && copy["NormalizeImage"] is ConfigMap normalize) EvaluateScale(normalize);
            ops.Items.Add(copy);
        }
        var root = new ConfigMap
        {
            ["Global"] = new ConfigMap { ["model_name"] = new ConfigScalar(modelName) },
            ["PreProcess"] = new ConfigMap { ["transform_ops"] = ops },
        };
        if (postProcess is null) return root;
        var settings = new ConfigMap();
        foreach (var (key, value) in postProcess.DeployOptions) settings[key] = Node(value);
        root["PostProcess"] = new ConfigMap { [postProcess.Name] = settings };
        return root;
    }

    static bool DecodesToRgbHwc(ConfigNode options)
    {
        if (options is not ConfigMap map) return true;
        bool toRgb = map["to_rgb"] is not ConfigScalar { IsNull: false } rgb || !rgb.TryBool(out bool r) || r;
        bool channelFirst = map["channel_first"] is ConfigScalar { IsNull: false } cf && cf.TryBool(out bool c) && c;
        return toRgb && !channelFirst;
    }

    /// <summary>`scale: 1.0/255.0` (Python evaluates it) becomes the number, as PaddleClas's dump does.</summary>
    static void EvaluateScale(ConfigMap normalize)
    {
        if (normalize["scale"] is ConfigScalar s && s.TryDouble(out double value))
            normalize["scale"] = new ConfigScalar(value.ToString("R", CultureInfo.InvariantCulture));
    }

    static ConfigNode Node(object value)
    {
        switch (value)
        {
            case int i: return new ConfigScalar(i.ToString(CultureInfo.InvariantCulture));
            case double d: return new ConfigScalar(d.ToString("R", CultureInfo.InvariantCulture));
            case string text: return new ConfigScalar(text, quoted: true);
            case IEnumerable<string> texts:
                var list = new ConfigList();
                list.Items.AddRange(texts.Select(t => new ConfigScalar(t, quoted: true)));
                return list;
            default: throw new ArgumentException($"no YAML form for a {value.GetType().Name} post-process option", nameof(value));
        }
    }
}
