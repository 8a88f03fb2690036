namespace Ppcls.Core.Config.Sections;

/// <summary>
/// `Slim`: PaddleClas's model compression. Only quantization-aware training with PACT
/// (`quant: {name: pact}`) is implemented (<see cref="Quantization.QuantAware"/>); pruning and any
/// other quantization method change what is trained and are refused with the key named.
/// </summary>
public sealed record SlimConfig(bool QuantPact)
{
    public static SlimConfig Read(ConfigSection s, Action<string> notice)
    {
        if (s.Raw("prune") is { } prune and not ConfigScalar { IsNull: true })
            throw ConfigException.At(s.KeyPath("prune"), prune.Location ?? s.Location,
                "PaddleSlim pruning (FPGM / L1-norm filter pruning) is not supported in Ppcls; remove Slim.prune to train the unpruned model");
        bool pact = false;
        if (s.OptionalSection("quant") is { } quant)
        {
            string name = quant.RequiredString("name", "pact");
            if (!string.Equals(name, "pact", StringComparison.OrdinalIgnoreCase))
                throw ConfigException.At(quant.KeyPath("name"), quant.Raw("name")?.Location ?? quant.Location,
                    $"quantization method '{name}' is not supported; PaddleClas and Ppcls train only PACT quantization (name: pact)");
            quant.Finish(notice);
            pact = true;
        }
        s.Finish(notice);
        return new SlimConfig(pact);
    }
}
