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
    internal delegate ILossTerm Builder(ConfigSection options, LossContext context);

    /// <summary>The losses by their PaddleClas names.</summary>
    internal static NameTable<Builder> Losses { get; } = CreateTable();

    static NameTable<Builder> CreateTable()
    {
        var t = new NameTable<Builder>("loss");
        t.Register("CELoss", (o, c) => new ClassificationTerm(new CrossEntropyLoss(o.OptionalDouble("epsilon"), Reduction(o), ClassWeights.Read(o, c))));
        t.Register("MixCELoss", (o, _) => new ClassificationTerm(new MixCrossEntropyLoss(o.OptionalDouble("epsilon"), Reduction(o))));
        t.Register("DistillationCELoss", (o, _) => new DistillationCELoss(ModelPair.Read(o), o.OptionalDouble("epsilon"), Key(o)));
        t.Register("DistillationGTCELoss", (o, _) => new DistillationGTCELoss(ModelPair.ReadNames(o), o.OptionalDouble("epsilon"), Key(o)));
        t.Register("DistillationDMLLoss", (o, _) => new DistillationDMLLoss(ModelPair.Read(o), Activation(o, "softmax"), o.Bool("sum_across_class_dim", false), Key(o),
            o.Bool("weight_ratio", false)));
        t.Register("DistillationKLDivLoss", (o, _) => new DistillationKLDivLoss(ModelPair.Read(o), Positive(o, "temperature", 4), Key(o)));
        t.Register("TripletLoss", (o, _) => new TripletLoss(o.Double("margin", 1.0)));
        t.Register("TripletLossV2", (o, _) => new TripletLoss(o.Double("margin", 0.5), o.Bool("normalize_feature", true), o.String("feature_from", "features"), "TripletLossV2"));
        t.Register("TripletAngularMarginLoss", (o, _) => new TripletAngularMarginLoss(new TripletAngularMarginOptions(
            o.Double("margin", 0.5), o.Bool("normalize_feature", true), Reduction(o), o.Bool("add_absolute", false),
            o.Double("absolute_loss_weight", 1.0), o.Double("ap_value", 0.9), o.Double("an_value", 0.5), o.String("feature_from", "features"))));
        t.Register("SupConLoss", (o, _) => SupCon(o));
        t.Register("DistillationDistanceLoss", (o, _) => new DistillationDistanceLoss(ModelPair.Read(o), o.Choice("mode", "l2", "l1", "l2", "smooth_l1"), Activation(o, null), Key(o)));
        t.Register("MultiLabelLoss", (o, _) => new ClassificationTerm(MultiLabel(o)));
        t.Register("DistillationMultiLabelLoss", (o, _) => new DistillationMultiLabelLoss(ModelPair.ReadNames(o), MultiLabel(o), Key(o)));
        t.Register("MultiLabelAsymmetricLoss", (o, _) => new ClassificationTerm(new MultiLabelAsymmetricLoss(new AsymmetricLossOptions(
            o.Double("gamma_pos", 1), o.Double("gamma_neg", 4), o.Double("clip", 0.05), o.Double("epsilon", 1e-8),
            o.Bool("disable_focal_loss_grad", true), LossReductionExtensions.Parse(o.Choice("reduction", "sum", "mean", "sum", "none"))))));
        return t;
    }

    static MultiLabelLoss MultiLabel(ConfigSection o) =>
        new(o.OptionalDouble("epsilon"), o.Bool("size_sum", false), o.Bool("weight_ratio", false));

    /// <summary>PaddleClas keys that only rename log entries or select modes Ppcls does not have; accepted with a notice.</summary>
    static readonly string[] PaddleOnlyKeys = ["name"];

    /// <summary>The combined loss, or null for an empty list (no Eval loss, say).</summary>
    /// <param name="context">The run around the loss (class count, training labels); none by default.</param>
    public static CombinedLoss? Build(IReadOnlyList<NamedEntry> entries, Action<string> notice, LossContext? context = null)
    {
        if (entries.Count == 0) return null;
        var terms = new List<WeightedLoss>();
        foreach (var entry in entries)
        {
            var build = Losses.Get(entry.Name, entry.Options.Path, entry.Options.Location);
            double weight = entry.Options.RequiredDouble("weight", "1.0");
            var loss = build(entry.Options, context ?? LossContext.None);
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
