using Ppcls.Core.Config;
using Ppcls.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Heads;

/// <summary>
/// Arch.use_ml_decoder: reads PaddleClas's `MLDecoder` section (class_num, in_channels, query_num,
/// embed_dim, depth, num_heads, mlp_hidden_dim, dropout, activation, freeze_query_embed,
/// remove_self_attn, remove_layers, replace_layer) and puts the head in the network's classifier
/// place. What PaddleClas would build differently from this head is refused with the key: other
/// remove_layers / replace_layer than the defaults, remove_self_attn: False and depth above 1 (Paddle's
/// extra decoder layers keep their self-attention), a class_num other than Arch.class_num.
/// </summary>
public static class MLDecoderHead
{
    public static void Register(ModelRegistry registry) => registry.MlDecoder = Attach;

    static void Attach(nn.Module<Tensor, Tensor> model, ConfigSection s, ModelRegistry.ArchConfigView arch)
    {
        if (model is not ClassifierNetwork { TakesMlDecoder: true } network)
            throw ConfigException.At(arch.UseKeyPath, null, $"{arch.Name} has no global-pool head that the ML-Decoder can replace; use PPHGNet, PPHGNetV2, PPLCNet or PPLCNetV2");
        int classNum = s.Int("class_num", arch.ClassNum);
        if (classNum != arch.ClassNum)
            throw ConfigException.At(s.KeyPath("class_num"), s.Raw("class_num")?.Location, $"is {classNum} but Arch.class_num is {arch.ClassNum}; the head's outputs are the classes, set both to the same value");
        var options = new MLDecoderOptions(
            classNum,
            Positive(s, "in_channels", 2048),
            s.Int("query_num", 80),
            Positive(s, "embed_dim", 768),
            Positive(s, "depth", 1),
            Positive(s, "num_heads", 8),
            Positive(s, "mlp_hidden_dim", 2048),
            s.Double("dropout", 0.1),
            s.Choice("activation", "relu", "relu", "gelu") == "gelu",
            s.Bool("freeze_query_embed", true));
        if (options.Dropout is < 0 or >= 1)
            throw ConfigException.At(s.KeyPath("dropout"), s.Raw("dropout")?.Location, $"must be in [0, 1), got {options.Dropout}");
        if (options.Depth != 1)
            throw ConfigException.At(s.KeyPath("depth"), s.Raw("depth")?.Location, "only depth 1 is built: PaddleClas's further decoder layers keep a self-attention that Ppcls does not build; set depth: 1");
        if (!s.Bool("remove_self_attn", true))
            throw ConfigException.At(s.KeyPath("remove_self_attn"), s.Raw("remove_self_attn")?.Location, "the decoder layer's self-attention is not built in Ppcls; set remove_self_attn: True (the default)");
        if (options.EmbedDim % options.NumHeads != 0)
            throw ConfigException.At(s.KeyPath("num_heads"), s.Raw("num_heads")?.Location, $"embed_dim {options.EmbedDim} is not divisible by num_heads {options.NumHeads}");
        if (s.OptionalStringList("remove_layers") is { } remove && !remove.SequenceEqual(["avg_pool", "flatten"]))
            throw ConfigException.At(s.KeyPath("remove_layers"), s.Raw("remove_layers")?.Location, "only the default [avg_pool, flatten] is supported; remove the key");
        if (s.OptionalString("replace_layer") is { } replace && replace != "fc")
            throw ConfigException.At(s.KeyPath("replace_layer"), s.Raw("replace_layer")?.Location, "only the default fc is supported; remove the key");
        s.Finish(_ => { });
        if (options.InChannels != network.FeatureSize)
            throw ConfigException.At(s.KeyPath("in_channels"), s.Raw("in_channels")?.Location,
                $"is {options.InChannels} but {arch.Name}'s head gives {network.FeatureSize} channels before its classifier; set in_channels: {network.FeatureSize}");
        network.UseMlDecoder(new MLDecoder(options));
    }

    static int Positive(ConfigSection s, string key, int fallback)
    {
        int value = s.Int(key, fallback);
        return value >= 1 ? value : throw ConfigException.At(s.KeyPath(key), s.Raw(key)?.Location, $"must be at least 1, got {value}");
    }
}
