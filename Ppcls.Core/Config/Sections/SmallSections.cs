namespace Ppcls.Core.Config.Sections;

/// <summary>`EMA`: exponential moving average of the weights.</summary>
public sealed record EmaConfig(double Decay)
{
    public static EmaConfig Read(ConfigSection s, Action<string> notice)
    {
        double decay = s.Double("decay", 0.9999);
        if (decay is <= 0 or >= 1)
            throw ConfigException.At(s.KeyPath("decay"), s.Raw("decay")?.Location, $"must be between 0 and 1, got {decay}");
        s.Finish(notice);
        return new EmaConfig(decay);
    }
}

/// <summary>`AMP`: mixed precision. Read so PaddleClas configs load; a CPU run trains in float32.</summary>
public sealed record AmpConfig(bool UseAmp, string Level, double ScaleLoss)
{
    public static AmpConfig Read(ConfigSection s, Action<string> notice)
    {
        var amp = new AmpConfig(s.Bool("use_amp", true), s.Choice("level", "O1", "O1", "O2"), s.Double("scale_loss", 1.0));
        s.Bool("use_dynamic_loss_scaling", true);
        s.Bool("use_fp16_test", false);
        s.Bool("use_promote", false);
        s.Finish(notice);
        return amp;
    }
}
