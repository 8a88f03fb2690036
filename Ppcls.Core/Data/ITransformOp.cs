namespace Ppcls.Core.Data;

/// <summary>
/// A per-sample transform op from `transform_ops` (DecodeImage, RandCropImage, ...). Core knows
/// only its name: the image type and the apply method live in Ppcls.Data, whose ops implement
/// this interface through its own image-op interface.
/// </summary>
public interface ITransformOp
{
    /// <summary>The PaddleClas op name, e.g. `RandCropImage`.</summary>
    string Name { get; }
}
