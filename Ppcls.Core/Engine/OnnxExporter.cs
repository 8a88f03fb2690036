using Ppcls.Inference;
using Ppcls.Core.Onnx;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>One set of images the exporter checks the ONNX model on: a name for the report and NCHW floats.</summary>
public sealed record ExportCheckInput(string Name, float[] Images, long[] Shape);

/// <summary>
/// The export as PaddleClas does it, then checked: the trained model's probabilities are taken
/// on the check inputs (random batches, real images), the model is brought into its inference
/// form (<c>fuse</c>: rep branches merged, BN folded), written as ONNX with Softmax (or the
/// post-process's Sigmoid, <paramref name="activation"/>) appended, and
/// the written file is run in ONNX Runtime on the same inputs. Every check must agree within
/// <see cref="ExportCheck.Tolerance"/> on every probability. An embedding model
/// (<paramref name="embedding"/>: a RecModel's <c>features</c>) is written without Softmax and
/// checked on its feature values. A quantization-aware model (<paramref name="quantized"/>, written as a
/// QDQ graph) is checked with <see cref="ExportCheck.QuantizedTolerance"/>.
/// </summary>
public sealed class OnnxExporter(nn.Module<Tensor, Tensor> model, Func<nn.Module, int> fuse, string modelName, int channels, int height, int width,
    bool embedding = false, OutputActivation activation = OutputActivation.Softmax, bool quantized = false)
{
    /// <summary>The width of the written model's output (classes, or the embedding's dimensions), once <see cref="Export"/> ran.</summary>
    public int OutputWidth { get; private set; }

    /// <summary>Random N(0, 1) images at batch 1 and 4 (seeded), the shapes the exporter always checks.</summary>
    public IReadOnlyList<ExportCheckInput> RandomInputs(long seed = 2024)
    {
        var rng = new Random((int)seed);
        return [Random("random batch 1", 1, rng), Random("random batch 4", 4, rng)];
    }

    ExportCheckInput Random(string name, int batch, Random rng)
    {
        var data = new float[batch * channels * height * width];
        for (int i = 0; i < data.Length; i++)
        {
            // Box-Muller: a normal sample from two uniform ones.
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            data[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return new ExportCheckInput(name, data, [batch, channels, height, width]);
    }

    /// <summary>Scores of the model as it is now (eval mode, no grad) after <paramref name="activation"/>, [N, classes] flat.</summary>
    public static float[] Probabilities(nn.Module<Tensor, Tensor> net, float[] images, long[] shape, OutputActivation activation = OutputActivation.Softmax) =>
        Outputs(net, images, shape, activation);

    /// <summary>The model's output as it is now (eval mode, no grad), [N, D] flat; with an <paramref name="activation"/>, after it.</summary>
    static float[] Outputs(nn.Module<Tensor, Tensor> net, float[] images, long[] shape, OutputActivation? activation)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var first = net.parameters().First();
        var x = tensor(images, shape).to(first.dtype, first.device);
        var y = net.call(x);
        var scores = activation switch
        {
            OutputActivation.Softmax => y.softmax(-1),
            OutputActivation.Sigmoid => y.sigmoid(),
            _ => y,
        };
        return scores.to(ScalarType.Float32).cpu().data<float>().ToArray();
    }

    /// <summary>
    /// Records the reference probabilities, fuses the model (in place), writes <paramref name="onnxPath"/>,
    /// and compares ONNX Runtime's output on the same inputs. Returns one check per input; the caller fails on any that did not pass.
    /// <paramref name="classNum"/> is the output width of a classifier; an embedding's is taken from its output.
    /// </summary>
    public (int FusedBlocks, IReadOnlyList<ExportCheck> Checks) Export(string onnxPath, int classNum, IReadOnlyList<ExportCheckInput> inputs,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        model.eval();
        foreach (var input in inputs)
            if (input.Shape[1] != channels || input.Shape[2] != height || input.Shape[3] != width)
                throw new OnnxExportException(
                    $"{input.Name}: images are {input.Shape[1]}x{input.Shape[2]}x{input.Shape[3]} after preprocessing, but Global.image_shape is [{channels}, {height}, {width}]; make the transforms' final crop match image_shape");
        var references = inputs.Select(i => Outputs(model, i.Images, i.Shape, embedding ? null : activation)).ToList();
        int fused = fuse(model);
        OutputWidth = embedding ? references[0].Length / (int)inputs[0].Shape[0] : classNum;
        var proto = embedding
            ? OnnxClassifierExport.BuildEmbedding(model, modelName, channels, height, width, OutputWidth, metadata)
            : OnnxClassifierExport.Build(model, modelName, channels, height, width, classNum, metadata, activation);
        OnnxClassifierExport.Save(proto, onnxPath);

        using var session = new OnnxClassifier(onnxPath);
        var checks = new List<ExportCheck>();
        for (int i = 0; i < inputs.Count; i++)
        {
            var onnx = session.Run(inputs[i].Images, inputs[i].Shape);
            checks.Add(ExportCheck.Compare(inputs[i].Name, references[i], onnx, (int)inputs[i].Shape[0], features: embedding, quantized: quantized));
        }
        return (fused, checks);
    }
}
