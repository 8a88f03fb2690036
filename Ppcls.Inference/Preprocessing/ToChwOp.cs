using OpenCvSharp;

namespace Ppcls.Inference.Preprocessing;

/// <summary>`ToCHWImage`: images stay HWC in memory and are always written out as CHW planes, so this only marks the layout.</summary>
public sealed record ToChwOp : IPreprocessOp
{
    public Mat Apply(Mat image, string source) => image;
}
