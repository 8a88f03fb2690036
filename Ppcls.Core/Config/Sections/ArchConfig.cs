namespace Ppcls.Core.Config.Sections;

/// <summary>
/// `Arch`: the model name, its pretrained weights (false / true / a path), and the
/// constructor options (`class_num`, `scale`, ...), which the model's registry entry reads
/// and validates when the model is built.
/// </summary>
public sealed record ArchConfig(string Name, SourceLocation? NameLocation, string? PretrainedPath, bool PretrainedFromHub, ConfigSection Options)
{
    /// <summary>Ppcls addition: train only the classifier (see BackboneFreeze).</summary>
    public bool FreezeBackbone { get; init; }

    /// <summary>
    /// `infer_add_softmax` as the config gives it (null when absent): export's choice, which Ppcls makes by the
    /// post-process (a classifier) or not at all (a RecModel's features); export refuses a value that asks otherwise.
    /// </summary>
    public bool? InferAddSoftmax { get; init; }

    /// <summary>`use_ml_decoder`: the classifier is replaced by the ML-Decoder head the top-level `MLDecoder` section describes.</summary>
    public bool UseMlDecoder { get; init; }

    /// <summary>`use_ssld`: with `pretrained: True`, the SSLD-distilled file (`NAME_ssld_pretrained`) of the weights folder.</summary>
    public bool UseSsld { get; init; }

    /// <summary>
    /// `use_sync_bn` (PaddleClas's key): under mpirun, BatchNorm takes its training statistics over the batches
    /// of all ranks (<see cref="Distributed.SyncBatchNorm"/>); with one rank it changes nothing.
    /// </summary>
    public bool UseSyncBn { get; init; }

    /// <summary>The top-level `MLDecoder` section (PaddleClas keeps it beside Arch), null where absent.</summary>
    public ConfigSection? MlDecoder { get; init; }

    /// <summary>
    /// `class_num`, the count the labels are checked against; without it a metric-learning Arch's
    /// `Head.class_num` (PaddleClas's recognition configs set it there only), also inside the first of
    /// a distillation's `models`; 1000 otherwise.
    /// </summary>
    public int ClassNum => ClassNumOf(Options.Map) ?? 1000;

    static int? ClassNumOf(ConfigMap arch)
    {
        if (arch["class_num"] is ConfigScalar s && s.TryLong(out long v)) return (int)v;
        if (arch["Head"] is ConfigMap head && head["class_num"] is ConfigScalar h && h.TryLong(out long n)) return (int)n;
        return arch["models"] is ConfigList { Items: [ConfigMap { Count: 1 } first, ..] } && first.Entries[0].Value is ConfigMap model ? ClassNumOf(model) : null;
    }

    public static ArchConfig Read(ConfigSection s)
    {
        string name = s.RequiredString("name", "PPLCNet_x1_0");
        var pretrained = s.Raw("pretrained");
        string? path = null;
        bool fromHub = false;
        if (pretrained is ConfigScalar { IsNull: false } p)
        {
            if (p.TryBool(out bool flag)) fromHub = flag;
            else path = p.Text;
        }
        else if (pretrained is not null and not ConfigScalar)
            throw ConfigException.At(s.KeyPath("pretrained"), pretrained.Location, "expected false, true or a weights path");
        bool freeze = s.Bool("freeze_backbone", false);
        bool? addSoftmax = s.Has("infer_add_softmax") ? s.Bool("infer_add_softmax", true) : null;
        bool mlDecoder = s.Bool("use_ml_decoder", false);
        bool ssld = s.Bool("use_ssld", false);
        bool syncBn = s.Bool("use_sync_bn", false);
        // The rest of the mapping belongs to the model's constructor.
        var options = new ConfigMap { Location = s.Location };
        foreach (var key in s.UnreadKeys.ToList()) options[key] = s.Raw(key)!;
        return new ArchConfig(name, s.Map["name"]?.Location, path, fromHub, new ConfigSection(options, s.Path)) { FreezeBackbone = freeze, InferAddSoftmax = addSoftmax, UseMlDecoder = mlDecoder, UseSsld = ssld, UseSyncBn = syncBn };
    }
}
