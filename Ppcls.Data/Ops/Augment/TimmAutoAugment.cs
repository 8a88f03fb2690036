using System.Globalization;
using System.Text.RegularExpressions;
using OpenCvSharp;
using Ppcls.Core.Config;
using Ppcls.Data.Imaging;

namespace Ppcls.Data.Ops.Augment;

/// <summary>
/// `TimmAutoAugment` with a RandAugment `config_str` (`rand-m9-mstd0.5-inc1`: m magnitude,
/// n layers, mstd magnitude noise, inc increasing ops, w0 timm's op weights), applied with
/// probability `prob`. Each image gets n ops (uniform with replacement, or weighted without with
/// w0), each applied with probability 0.5. `img_size` sets the absolute translate (0.45 * size),
/// `mean` the fill colour, `interpolation` the geometric filter (`random`: bilinear or bicubic).
/// Works on uint8 RGB images; put it before NormalizeImage as PaddleClas configs do.
/// </summary>
public sealed partial class TimmAutoAugment(double prob, IReadOnlyList<TimmAugmentOp> ops, int layers, double[]? weights) : IImageOp
{
    public string Name => "TimmAutoAugment";

    static readonly string[] RandTransforms =
    [
        "AutoContrast", "Equalize", "Invert", "Rotate", "Posterize", "Solarize", "SolarizeAdd", "Color",
        "Contrast", "Brightness", "Sharpness", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel",
    ];

    static readonly string[] RandIncreasingTransforms =
    [
        "AutoContrast", "Equalize", "Invert", "Rotate", "PosterizeIncreasing", "SolarizeIncreasing", "SolarizeAdd",
        "ColorIncreasing", "ContrastIncreasing", "BrightnessIncreasing", "SharpnessIncreasing", "ShearX", "ShearY",
        "TranslateXRel", "TranslateYRel",
    ];

    static readonly Dictionary<string, double> ChoiceWeights0 = new()
    {
        ["Rotate"] = 0.3, ["ShearX"] = 0.2, ["ShearY"] = 0.2, ["TranslateXRel"] = 0.1, ["TranslateYRel"] = 0.1,
        ["Color"] = 0.025, ["Sharpness"] = 0.025, ["AutoContrast"] = 0.025, ["Solarize"] = 0.005, ["SolarizeAdd"] = 0.005,
        ["Contrast"] = 0.005, ["Brightness"] = 0.005, ["Equalize"] = 0.005, ["Posterize"] = 0, ["Invert"] = 0,
    };

    [GeneratedRegex(@"^([a-z]+)(\d.*)$")]
    private static partial Regex Section();

    public static TimmAutoAugment Create(ConfigSection s)
    {
        double prob = s.Double("prob", 1.0);
        string config = s.String("config_str", "rand-m9-mstd0.5-inc1");
        // timm's _pil_interp maps every name but bicubic, lanczos and hamming to bilinear, nearest included (hamming is bilinear here, as for the other ops).
        var interpolation = Interpolation.Named(s.Choice("interpolation", "bicubic", "bicubic", "bilinear", "lanczos", "hamming", "random", "nearest")) switch
        {
            InterpolationMode.Nearest => InterpolationMode.Bilinear,
            var mode => mode,
        };
        var sizes = s.OptionalIntList("img_size") ?? [224];
        var mean = OpOptions.Triple(s, "mean", [0.485, 0.456, 0.406]);
        var where = s.Map["config_str"]?.Location;
        var parts = config.Split('-');
        if (parts[0] != "rand")
            throw ConfigException.At(s.KeyPath("config_str"), where, $"'{config}': only RandAugment strings ('rand-m9-mstd0.5-inc1') are supported; auto/augmix are not available yet");
        double magnitude = TimmAugmentOp.MaxLevel, mstd = 0;
        int layers = 2;
        bool increasing = false, weighted = false;
        foreach (var part in parts.Skip(1))
        {
            var m = Section().Match(part);
            if (!m.Success) continue;
            string key = m.Groups[1].Value, value = m.Groups[2].Value;
            bool ok = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v);
            switch (key)
            {
                case "mstd" when ok: mstd = v; break;
                case "inc" when ok: increasing = v != 0; break;
                case "m" when ok: magnitude = (int)v; break;
                case "n" when ok: layers = (int)v; break;
                case "w" when ok && v == 0: weighted = true; break;
                default:
                    throw ConfigException.At(s.KeyPath("config_str"), where, $"'{part}' is not a RandAugment section; use m<int>, n<int>, mstd<float>, inc<0|1>, w0");
            }
        }
        var fill = mean.Select(x => Math.Min(255, Math.Round(255 * x, MidpointRounding.ToEven))).ToArray();
        var hp = new TimmHyperParams((int)(sizes.Min() * 0.45), 0.45, new Scalar(fill[0], fill[1], fill[2]),
            new Interpolation(interpolation), mstd);
        var names = increasing ? RandIncreasingTransforms : RandTransforms;
        var ops = names.Select(n => new TimmAugmentOp(n, 0.5, magnitude, hp)).ToList();
        double[]? weights = null;
        if (weighted)
        {
            var w = RandTransforms.Select(n => ChoiceWeights0[n]).ToArray();
            weights = [.. w.Select(x => x / w.Sum())];
        }
        return new TimmAutoAugment(prob, ops, layers, weights);
    }

    public void Apply(ImageSample sample, Random rng)
    {
        var image = sample.RequireImage(Name);
        if (image.Type() != MatType.CV_8UC3) throw new InvalidOperationException("TimmAutoAugment needs uint8 RGB images; put it before NormalizeImage");
        if (rng.NextDouble() >= prob) return;
        foreach (var op in Choose(rng))
        {
            var current = sample.Image!;
            var next = op.Apply(current, rng);
            sample.SetImage(next);
        }
    }

    IEnumerable<TimmAugmentOp> Choose(Random rng)
    {
        if (weights is null)
        {
            for (int i = 0; i < layers; i++) yield return ops[rng.Next(ops.Count)];
            yield break;
        }
        var remaining = Enumerable.Range(0, ops.Count).Where(i => weights[i] > 0).ToList();
        for (int i = 0; i < layers && remaining.Count > 0; i++)
        {
            double total = remaining.Sum(k => weights[k]), u = rng.NextDouble() * total, acc = 0;
            int pick = remaining[^1];
            foreach (int k in remaining)
            {
                acc += weights[k];
                if (u < acc) { pick = k; break; }
            }
            remaining.Remove(pick);
            yield return ops[pick];
        }
    }
}
