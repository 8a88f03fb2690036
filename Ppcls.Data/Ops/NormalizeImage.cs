using Ppcls.Core.Config;
using Ppcls.Data.Imaging;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Data.Ops;

/// <summary>
/// `NormalizeImage`: (x * scale - mean) / std per channel, float32 out (<see cref="NormalizeOp"/>).
/// `scale` accepts `1.0/255.0`. `order` ('chw', 'hwc' or '') only says how PaddleClas shapes
/// mean/std; images stay HWC in memory here, so channels are matched either way. As the last op
/// it is fused into the batch writer (uint8 pixels normalised straight into the batch buffer).
/// </summary>
public sealed class NormalizeImage(NormalizeOp op) : IImageOp, IDeployableOp
{
    public string Name => "NormalizeImage";
    public NormalizeOp Op { get; } = op;

    public IPreprocessOp ToDeploy(string keyPath) => Op;

    public static NormalizeImage Create(ConfigSection s)
    {
        double scale = s.Double("scale", 1.0 / 255.0);
        var mean = OpOptions.Triple(s, "mean", [0.485, 0.456, 0.406]);
        var std = OpOptions.Triple(s, "std", [0.229, 0.224, 0.225]);
        s.Choice("order", "chw", "chw", "hwc", "");
        if (s.Bool("output_fp16", false))
            throw ConfigException.At(s.KeyPath("output_fp16"), s.Map["output_fp16"]?.Location, "float16 output is not supported; batches are float32 (remove the key)");
        if (s.Int("channel_num", 3) != 3)
            throw ConfigException.At(s.KeyPath("channel_num"), s.Map["channel_num"]?.Location, "only channel_num: 3 is supported");
        if (std.Any(v => v == 0)) throw ConfigException.At(s.KeyPath("std"), s.Map["std"]?.Location, "std must not be 0");
        return new NormalizeImage(new NormalizeOp(scale, mean, std));
    }

    public void Apply(ImageSample sample, Random rng) => sample.SetImage(Op.Apply(sample.RequireImage(Name), sample.Source));
}
