namespace Ppcls.Data.Ops;

/// <summary>
/// An op that only moves, drops or resamples pixels, treating every channel alike (crop,
/// resize, flip, layout). A chain made only of these after DecodeImage leaves the BGR to RGB
/// swap to the batch writer, which costs nothing there, instead of a pass over each image.
/// </summary>
public interface IGeometricOp : IImageOp;
