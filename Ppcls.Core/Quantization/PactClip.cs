using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Quantization;

/// <summary>
/// PaddleSlim's PACT activation preprocess before a quantized layer's input: a learnable clip
/// bound `alpha` (shape [1], initial value 20, trained at 1000x the learning rate as PaddleSlim sets it).
/// State-dict key: `&lt;layer&gt;._act_preprocess.alpha`.
/// </summary>
public sealed class PactClip : nn.Module<Tensor, Tensor>
{
    public const double InitialAlpha = 20.0;
    public const double LearningRateMultiplier = 1000.0;

    readonly Parameter alpha;

    public PactClip() : base(nameof(PactClip))
    {
        alpha = nn.Parameter(full(1, InitialAlpha));
        RegisterComponents();
    }

    public Parameter Alpha => alpha;

    public override Tensor forward(Tensor x) => FakeQuant.Pact(x, alpha);
}
