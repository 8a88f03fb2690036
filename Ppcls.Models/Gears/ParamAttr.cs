using Ppcls.Core.Config;
using Ppcls.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Gears;

/// <summary>
/// PaddleClas's <c>weight_attr</c> / <c>bias_attr</c> of a gear (Paddle's <c>ParamAttr</c>): absent
/// keeps the gear's default; <c>False</c> drops the parameter (a bias only); a mapping may name an
/// <c>initializer</c> ({name: Normal, mean, std}, Constant, Uniform, TruncatedNormal, XavierNormal,
/// XavierUniform) and a <c>learning_rate</c> multiplier. <c>regularizer</c> and <c>trainable</c>
/// change training in ways Ppcls does not follow, so they are refused.
/// </summary>
public sealed record ParamAttr(bool Enabled, Action<Tensor>? Initializer, double LearningRate)
{
    public static readonly ParamAttr Default = new(true, null, 1.0);

    static readonly string[] Initializers = ["Constant", "Normal", "TruncatedNormal", "Uniform", "XavierNormal", "XavierUniform"];

    public static ParamAttr Read(ConfigSection gear, string key, bool canDisable)
    {
        var node = gear.Raw(key);
        if (node is null or ConfigScalar { IsNull: true }) return Default;
        if (node is ConfigScalar scalar)
        {
            bool on = gear.Bool(key, true);
            if (!on && !canDisable)
                throw ConfigException.At(gear.KeyPath(key), scalar.Location, "a weight cannot be switched off; remove the key or give {initializer: {name: Normal, std: 0.01}}");
            return Default with { Enabled = on };
        }
        var s = gear.RequiredSection(key, "{initializer: {name: Constant, value: 0.0}}");
        foreach (var refused in new[] { "regularizer", "trainable" })
            if (s.Has(refused))
                throw ConfigException.At(s.KeyPath(refused), s.Raw(refused)?.Location,
                    "is not supported in Ppcls (it changes how this parameter trains); remove it");
        Action<Tensor>? init = s.OptionalSection("initializer") is { } i ? ReadInitializer(i) : null;
        double lr = s.Double("learning_rate", 1.0);
        if (lr < 0) throw ConfigException.At(s.KeyPath("learning_rate"), s.Raw("learning_rate")?.Location, $"must be non-negative, got {lr}");
        s.Finish(_ => { });
        return new ParamAttr(true, init, lr);
    }

    /// <summary>Applies the initializer (if any) to <paramref name="parameter"/>, without recording gradients.</summary>
    public void Apply(Tensor? parameter)
    {
        if (Initializer is null || parameter is null) return;
        using var noGrad = no_grad();
        Initializer(parameter);
    }

    static Action<Tensor> ReadInitializer(ConfigSection s)
    {
        string name = s.RequiredString("name", "Normal");
        if (!Initializers.Contains(name))
            throw ConfigException.At(s.KeyPath("name"), s.Raw("name")?.Location,
                $"unknown initializer '{name}'; {KeySuggester.Hint(name, Initializers)}use one of: {string.Join(", ", Initializers)}");
        Action<Tensor> init = name switch
        {
            "Constant" => ConstantInit(s.Double("value", 0.0)),
            "Normal" => NormalInit(s.Double("mean", 0.0), s.Double("std", 1.0)),
            "TruncatedNormal" => TruncatedInit(s.Double("mean", 0.0), s.Double("std", 1.0), s.Double("a", -2.0), s.Double("b", 2.0)),
            "Uniform" => UniformInit(s.Double("low", -1.0), s.Double("high", 1.0)),
            "XavierNormal" => t => nn.init.xavier_normal_(t),
            _ => t => nn.init.xavier_uniform_(t),
        };
        s.Finish(_ => { });
        return init;
    }

    static Action<Tensor> ConstantInit(double value) => t => t.fill_(value);
    static Action<Tensor> NormalInit(double mean, double std) => t => nn.init.normal_(t, mean, std);
    static Action<Tensor> UniformInit(double low, double high) => t => nn.init.uniform_(t, low, high);

    // Paddle's TruncatedNormal cuts at the absolute values a and b.
    static Action<Tensor> TruncatedInit(double mean, double std, double a, double b) =>
        t => PaddleInit.TruncatedNormal(t, mean, std, a, b);
}
