namespace Ppcls.Data.Ops;

/// <summary>
/// An op that also decides the sample's label and stores it under <see cref="LabelKey"/> in
/// <see cref="Imaging.ImageSample.OpLabels"/>, as PaddleClas's ops add keys to the sample dict
/// (`blur_image`, `random_rot90_orientation`). CustomLabelDataset's `label_key` names the key it
/// trains on.
/// </summary>
public interface ILabellingOp : IImageOp
{
    /// <summary>The sample key the label is written under.</summary>
    string LabelKey { get; }

    /// <summary>How many labels it gives (0 .. LabelCount-1): the class_num a model trained on them needs.</summary>
    int LabelCount { get; }
}
