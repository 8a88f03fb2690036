using Ppcls.Core.Config;
using Ppcls.Inference;

namespace Ppcls.Core.Deploy;

/// <summary>
/// The post-processes by their PaddleClas names, each read from its options with PaddleClas's
/// keys and defaults: `Infer.PostProcess` of a training config (name as a key), and the
/// `PostProcess` entry of a deploy config or `inference.yml` (name as the entry's key). The
/// formulas live in Ppcls.Inference, which `ppcls predict` runs without TorchSharp.
/// </summary>
public static class PostProcessFactory
{
    public delegate IPostProcess Reader(ConfigSection options, Action<string> notice);

    public static NameTable<Reader> PostProcesses { get; } = CreateTable();

    static NameTable<Reader> CreateTable()
    {
        var t = new NameTable<Reader>("post-process");
        t.Register("Topk", ReadTopk);
        t.Register("ThreshOutput", ReadThreshOutput);
        t.Register("MultiLabelThreshOutput", ReadMultiLabel);
        t.Register("PersonAttribute", (s, n) => Finish(s, n, new PersonAttributePostProcess(
            Probability(s, "threshold", 0.5), Probability(s, "glasses_threshold", 0.3), Probability(s, "hold_threshold", 0.6))));
        t.Register("VehicleAttribute", (s, n) => Finish(s, n, new VehicleAttributePostProcess(
            Probability(s, "color_threshold", 0.5), Probability(s, "type_threshold", 0.5))));
        t.Register("TableAttribute", (s, n) => Finish(s, n, new TableAttributePostProcess(
            Probability(s, "source_threshold", 0.5), Probability(s, "number_threshold", 0.5), Probability(s, "color_threshold", 0.5),
            Probability(s, "clarity_threshold", 0.5), Probability(s, "obstruction_threshold", 0.5), Probability(s, "angle_threshold", 0.5))));
        return t;
    }

    /// <summary>The post-process <paramref name="name"/> from its options; an unknown name lists the valid ones.</summary>
    public static IPostProcess Read(string name, ConfigSection options, string nameKey, SourceLocation? where, Action<string> notice) =>
        PostProcesses.Get(name, nameKey, where)(options, notice);

    /// <summary>Topk's keys as PaddleClas reads them: topk (default 1), class_id_map_file, delimiter (default a space), label_list.</summary>
    static IPostProcess ReadTopk(ConfigSection s, Action<string> notice)
    {
        int k = s.Int("topk", 1);
        if (k < 1) throw ConfigException.At(s.KeyPath("topk"), s.Raw("topk")?.Location, $"must be at least 1, got {k}");
        var names = Names(s);
        return Finish(s, notice, new TopkPostProcess(k, names.Read(), names.Describe()));
    }

    /// <summary>ThreshOutput: threshold (the deploy predictor's default 0), default_label_index (0), label_0 / label_1 ("0" / "1"), and class names for more than two classes.</summary>
    static IPostProcess ReadThreshOutput(ConfigSection s, Action<string> notice)
    {
        double threshold = Probability(s, "threshold", 0);
        int defaultIndex = s.Int("default_label_index", 0);
        string label0 = s.String("label_0", "0"), label1 = s.String("label_1", "1");
        var names = Names(s);
        return Finish(s, notice, new ThreshOutputPostProcess(threshold, defaultIndex, label0, label1, names.Read(), names.Describe()));
    }

    static IPostProcess ReadMultiLabel(ConfigSection s, Action<string> notice)
    {
        double threshold = Probability(s, "threshold", 0.5);
        var names = Names(s);
        return Finish(s, notice, new MultiLabelThreshOutputPostProcess(threshold, names.Read(), names.Describe()));
    }

    static ClassNameSource Names(ConfigSection s) =>
        new(s.OptionalString("class_id_map_file"), s.String("delimiter", " "), s.OptionalStringList("label_list"), s.Path);

    static double Probability(ConfigSection s, string key, double fallback)
    {
        double v = s.Double(key, fallback);
        return v is >= 0 and <= 1 ? v : throw ConfigException.At(s.KeyPath(key), s.Raw(key)?.Location, $"must be a probability within 0 .. 1, got {v}");
    }

    static IPostProcess Finish(ConfigSection s, Action<string> notice, IPostProcess built)
    {
        s.Finish(notice);
        return built;
    }
}
