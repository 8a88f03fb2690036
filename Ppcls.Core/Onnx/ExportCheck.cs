using System.Globalization;

namespace Ppcls.Core.Onnx;

/// <summary>
/// One comparison of the exported model in ONNX Runtime with the TorchSharp model on the same
/// input: the largest absolute difference of any probability, where it is, and how many images
/// keep their top-1 class. For an embedding (<paramref name="Features"/>) the differences are of
/// feature values, and the tolerance scales with the largest |value| of the TorchSharp output (at least 1).
/// </summary>
public sealed record ExportCheck(string Input, int Images, double MaxAbsDifference, int Image, int Class, float TorchSharp, float OnnxRuntime, int Top1Agreeing,
    bool Features = false, double Scale = 1, bool Quantized = false)
{
    /// <summary>PaddleClas-style tolerance on probabilities.</summary>
    public const double Tolerance = 1e-4;

    /// <summary>
    /// A quantization-aware model's (QDQ graph): ONNX Runtime and libtorch sum a conv in another order, so a value
    /// within float rounding of a rounding boundary lands one quantization step apart at the next layer's input;
    /// such one-step flips move the probabilities by up to this much (measured: 8e-3 on PPLCNet_x0_25).
    /// </summary>
    public const double QuantizedTolerance = 5e-2;

    /// <summary>The largest difference this check accepts.</summary>
    public double Limit => (Quantized ? QuantizedTolerance : Tolerance) * Scale;

    public bool Passed => MaxAbsDifference <= Limit;

    public static ExportCheck Compare(string input, float[] torchSharp, float[] onnxRuntime, int images, bool features = false, bool quantized = false)
    {
        if (torchSharp.Length != onnxRuntime.Length)
            throw new OnnxExportException($"{input}: ONNX Runtime returned {onnxRuntime.Length} values, TorchSharp {torchSharp.Length}");
        int classes = torchSharp.Length / images;
        double worst = -1;
        int at = 0;
        for (int i = 0; i < torchSharp.Length; i++)
        {
            double d = Math.Abs((double)torchSharp[i] - onnxRuntime[i]);
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            if (d > worst) (worst, at) = (d, i);
        }
        int agreeing = 0;
        for (int n = 0; n < images; n++)
            if (ArgMax(torchSharp.AsSpan(n * classes, classes)) == ArgMax(onnxRuntime.AsSpan(n * classes, classes))) agreeing++;
        double scale = features ? Math.Max(1.0, torchSharp.Length == 0 ? 0 : torchSharp.Max(Math.Abs)) : 1;
        return new ExportCheck(input, images, worst, at / classes, at % classes, torchSharp[at], onnxRuntime[at], agreeing, features, scale, quantized);
    }

    static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>`ORT vs TorchSharp, random batch 4: max |dp| 3.1e-08 (image 2, class 7: 0.1012 vs 0.1012), top-1 4/4`.</summary>
    /// <summary>An embedding's: `ORT vs TorchSharp, random batch 4: max |df| 2.4e-07 (image 1, dim 5: TorchSharp 1.234567 vs ORT 1.234567), tolerance 3.1e-04`.</summary>
    public override string ToString() =>
        Features
            ? string.Create(CultureInfo.InvariantCulture,
                $"ORT vs TorchSharp, {Input}: max |df| {MaxAbsDifference:0.0e+00} (image {Image}, dim {Class}: TorchSharp {TorchSharp:0.000000} vs ORT {OnnxRuntime:0.000000}), tolerance {Limit:0.0e+00}")
            : string.Create(CultureInfo.InvariantCulture,
                $"ORT vs TorchSharp, {Input}: max |dp| {MaxAbsDifference:0.0e+00} (image {Image}, class {Class}: TorchSharp {TorchSharp:0.000000} vs ORT {OnnxRuntime:0.000000}), top-1 agrees on {Top1Agreeing}/{Images}");
}
