using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>The <c>act</c> option of PaddleClas's distillation losses: softmax, sigmoid, or none.</summary>
static class OutputActivation
{
    public static Tensor Apply(Tensor output, string? act) => act switch
    {
        "softmax" => output.softmax(-1),
        "sigmoid" => output.sigmoid(),
        _ => output,
    };
}
