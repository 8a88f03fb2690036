namespace Ppcls.Data.BatchOps;

/// <summary>
/// A batch op from `batch_transform_ops` (MixupOperator, CutmixOperator, OpSampler): mixes the
/// images of an assembled batch in place and turns its labels into soft targets.
/// </summary>
public interface IBatchOp
{
    string Name { get; }

    /// <summary>Applies the op to <paramref name="batch"/>; <paramref name="rng"/> is derived from (seed, epoch, batch index).</summary>
    void Apply(MixBatch batch, Random rng);
}

/// <summary>
/// A batch being assembled on a worker: images as NCHW floats and labels as class ids, plus
/// soft targets [N, ClassNum] once a batch op has mixed it (null before).
/// </summary>
public sealed class MixBatch(Memory<float> images, int count, int channels, int height, int width, long[] labels, int classNum)
{
    /// <summary>The batch's NCHW values (usually the batch tensor's own storage).</summary>
    public Memory<float> Images { get; } = images;
    public int Count { get; } = count;
    public int Channels { get; } = channels;
    public int Height { get; } = height;
    public int Width { get; } = width;
    public long[] Labels { get; } = labels;
    public int ClassNum { get; } = classNum;
    public float[]? SoftLabels { get; set; }

    public int ImageLength => Channels * Height * Width;
    public Span<float> Image(int i) => Images.Span.Slice(i * ImageLength, ImageLength);

    /// <summary>Sets soft targets lam * onehot(label[i]) + (1 - lam) * onehot(label[partner[i]]).</summary>
    public void MixLabels(int[] partner, double lam)
    {
        var soft = new float[Count * ClassNum];
        for (int i = 0; i < Count; i++)
        {
            soft[i * ClassNum + Labels[i]] += (float)lam;
            soft[i * ClassNum + Labels[partner[i]]] += (float)(1 - lam);
        }
        SoftLabels = soft;
    }
}
