using Ppcls.Core.Config;
using Ppcls.Models.Layers;

namespace Ppcls.Models.Gears;

/// <summary>
/// The gears a RecModel's <c>Neck</c> and <c>Head</c> name (PaddleClas's <c>build_gear</c>), each read
/// from its section given the width that feeds it. A gear's input width key (<c>embedding_size</c>,
/// <c>num_features</c>) must equal that width.
/// </summary>
public static class RecGears
{
    delegate RecGear Factory(ConfigSection section, int inputSize);

    static readonly NameTable<Factory> Table = CreateTable();

    static NameTable<Factory> CreateTable()
    {
        var table = new NameTable<Factory>("neck or head");
        table.Register("FC", (s, n) => new FullyConnectedGear(InputWidth(s, "embedding_size", n), ArchOptions.PositiveInt(s, "class_num", 512),
            ParamAttr.Read(s, "weight_attr", canDisable: false), ParamAttr.Read(s, "bias_attr", canDisable: true)));
        table.Register("BNNeck", (s, n) => new BNNeck(InputWidth(s, "num_features", n), ReadBNWeight(s), ParamAttr.Read(s, "bias_attr", canDisable: false)));
        table.Register("ArcMargin", (s, n) => Margin(s, n, "ArcMargin",
            new ArcMargin(s.Double("margin", 0.5), s.Double("scale", 80.0), s.Bool("easy_margin", false))));
        table.Register("CosMargin", (s, n) => Margin(s, n, "CosMargin", new CosMargin(s.Double("margin", 0.35), s.Double("scale", 64.0))));
        table.Register("CircleMargin", (s, n) => Margin(s, n, "CircleMargin",
            new CircleMargin(s.RequiredDouble("margin", "0.35"), s.RequiredDouble("scale", "64"))));
        return table;
    }

    /// <summary>The gear <paramref name="key"/> of <paramref name="arch"/> (null when absent), fed <paramref name="inputSize"/> features.</summary>
    public static RecGear? Read(ConfigSection arch, string key, int inputSize, Action<string> notice)
    {
        if (arch.OptionalSection(key) is not { } section) return null;
        string name = section.RequiredString("name", "FC");
        var factory = Table.Get(name, section.KeyPath("name"), section.Raw("name")?.Location);
        var gear = factory(section, inputSize);
        section.Finish(notice);
        return gear;
    }

    static MarginHead Margin(ConfigSection s, int inputSize, string name, Margin margin)
    {
        int embedding = InputWidth(s, "embedding_size", inputSize);
        int classNum = ArchOptions.PositiveInt(s, "class_num", 1000);
        if (margin.Scale <= 0)
            throw ConfigException.At(s.KeyPath("scale"), s.Raw("scale")?.Location, $"must be positive, got {margin.Scale}");
        return new MarginHead(name, embedding, classNum, margin);
    }

    static ParamAttr ReadBNWeight(ConfigSection s)
    {
        if (s.Has("use_global_stats"))
            throw ConfigException.At(s.KeyPath("use_global_stats"), s.Raw("use_global_stats")?.Location,
                "is not supported in Ppcls (the neck's BatchNorm uses batch statistics in training); remove it");
        return ParamAttr.Read(s, "weight_attr", canDisable: false);
    }

    static int InputWidth(ConfigSection s, string key, int inputSize)
    {
        int width = ArchOptions.PositiveInt(s, key, inputSize);
        if (width != inputSize)
            throw ConfigException.At(s.KeyPath(key), s.Raw(key)?.Location ?? s.Location,
                $"is {width} but the {s.Path.Split('.')[^1]} receives {inputSize} features; set {key}: {inputSize}");
        return width;
    }
}
