using Ppcls.Core.Config;

namespace Ppcls.Core.Loss;

/// <summary>
/// Builds a <see cref="CombinedLoss"/> from <c>Loss.Train</c> / <c>Loss.Eval</c> entries
/// (<c>- CELoss: {weight: 1.0, epsilon: 0.1}</c>). Every entry needs <c>weight</c>, as in
/// PaddleClas; an unknown name lists the valid ones.
/// </summary>
public static class LossFactory
{
    /// <summary>Reads one entry's options (all but `weight`) and builds its term.</summary>
    internal delegate ILossTerm Builder(ConfigSection options);

    /// <summary>The losses by their PaddleClas names.</summary>
    internal static NameTable<Builder> Losses { get; } = CreateTable();

    static NameTable<Builder> CreateTable()
    {
        var t = new NameTable<Builder>("loss");
        t.Register("CELoss", o => new ClassificationTerm(new CrossEntropyLoss(o.OptionalDouble("epsilon"), Reduction(o))));
        t.Register("MixCELoss", o => new ClassificationTerm(new MixCrossEntropyLoss(o.OptionalDouble("epsilon"), Reduction(o))));
        t.Register("DistillationCELoss", o => new DistillationCELoss(ModelPair.Read(o), o.OptionalDouble("epsilon"), Key(o)));
        t.Register("DistillationGTCELoss", o => new DistillationGTCELoss(ModelPair.ReadNames(o), o.OptionalDouble("epsilon"), Key(o)));
        t.Register("DistillationDMLLoss", o => new DistillationDMLLoss(ModelPair.Read(o), Activation(o, "softmax"), o.Bool("sum_across_class_dim", false), Key(o)));
        t.Register("DistillationKLDivLoss", o => new DistillationKLDivLoss(ModelPair.Read(o), Positive(o, "temperature", 4), Key(o)));
        t.Register("TripletLoss", o => new TripletLoss(o.Double("margin", 1.0)));
        t.Register("TripletLossV2", o => new TripletLoss(o.Double("margin", 0.5), o.Bool("normalize_feature", true), o.String("feature_from", "features"), "TripletLossV2"));
        t.Register("TripletAngularMarginLoss", o => new TripletAngularMarginLoss(new TripletAngularMarginOptions(
            o.Double("margin", 0.5), o.Bool("normalize_feature", true), Reduction(o), o.Bool("add_absolute", false),
            o.Double("absolute_loss_weight", 1.0), o.Double("ap_value", 0.9), o.Double("an_value", 0.5), o.String("feature_from", "features"))));
        t.Register("SupConLoss", o => SupCon(o));
        t.Register("DistillationDistanceLoss", o => new DistillationDistanceLoss(ModelPair.Read(o), o.Choice("mode", "l2", "l1", "l2", "smooth_l1"), Activation(o, null), Key(o)));
        return t;
    }

    /// <summary>PaddleClas keys that only rename log entries or select modes Ppcls does not have; accepted with a notice.</summary>
    static readonly string[] PaddleOnlyKeys = ["name"];

    /// <summary>The combined loss, or null for an empty list (no Eval loss, say).</summary>
    public static CombinedLoss? Build(IReadOnlyList<NamedEntry> entries, Action<string> notice)
    {
        if (entries.Count == 0) return null;
        var terms = new List<WeightedLoss>();
        foreach (var entry in entries)
        {
            var build = Losses.Get(entry.Name, entry.Options.Path, entry.Options.Location);
            double weight = entry.Options.RequiredDouble("weight", "1.0");
            var loss = build(entry.Options);
            entry.Options.Finish(notice, PaddleOnlyKeys);
            terms.Add(new WeightedLoss(loss, weight));
        }
        return new CombinedLoss(terms);
    }

    static LossReduction Reduction(ConfigSection o) =>
        LossReductionExtensions.Parse(o.Choice("reduction", "mean", "mean", "sum", "none"));

    static string? Key(ConfigSection o) => o.OptionalString("key");

    /// <summary>`act`: softmax, sigmoid, or none (null / absent gives <paramref name="fallback"/>).</summary>
    static string? Activation(ConfigSection o, string? fallback) =>
        o.Has("act") ? o.Choice("act", "softmax", "softmax", "sigmoid") : (o.Raw("act") is null ? fallback : null);

    /// <summary>`views` (16), `temperature` and `base_temperature` (0.07), `normalize_feature` (true); contrast_mode `all` only.</summary>
    static SupConLoss SupCon(ConfigSection o)
    {
        int views = o.Int("views", 16);
        if (views < 1) throw ConfigException.At(o.KeyPath("views"), o.Raw("views")?.Location, $"must be a positive integer, got {views}");
        if (o.Choice("contrast_mode", "all", "all", "one") != "all")
            throw ConfigException.At(o.KeyPath("contrast_mode"), o.Raw("contrast_mode")?.Location, "'one' is not supported in Ppcls; use all");
        return new SupConLoss(views, Positive(o, "temperature", 0.07), Positive(o, "base_temperature", 0.07), o.Bool("normalize_feature", true));
    }

    static double Positive(ConfigSection o, string key, double fallback)
    {
        double value = o.Double(key, fallback);
        return value > 0 ? value : throw ConfigException.At(o.KeyPath(key), o.Raw(key)?.Location ?? o.Location, $"must be positive, got {value}");
    }
}
