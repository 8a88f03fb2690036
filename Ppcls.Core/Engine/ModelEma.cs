using Ppcls.Core.Checkpoint;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>
/// Exponential moving average of a model's whole state (parameters and BN statistics), as
/// PaddleClas's `EMA: {decay}`: after every optimizer step, ema = decay * ema + (1 - decay) * model.
/// The average lives in a second instance of the same architecture, kept in eval mode, which
/// is what eval and `best_model` use when EMA is on. In a distillation model a frozen sub-model (the
/// teacher) is copied once and left out of the updates: it does not change, and averaging it would only
/// cost time and add rounding.
/// </summary>
public sealed class ModelEma
{
    readonly (Tensor Ema, Tensor Model)[] _pairs;
    readonly (Tensor Ema, Tensor Model)[] _updated;

    public ModelEma(nn.Module<Tensor, Tensor> model, nn.Module<Tensor, Tensor> twin, double decay)
    {
        Module = twin;
        Decay = decay;
        var source = WeightLoader.StateDict(model);
        var target = WeightLoader.StateDict(twin);
        if (!source.Keys.Order().SequenceEqual(target.Keys.Order()))
            throw new ArgumentException("the EMA twin must have the model's architecture");
        var frozen = model is IDistillationModel distillation
            ? distillation.Models.Where(m => m.Frozen).Select(m => m.Name + ".").ToArray()
            : [];
        _pairs = target.Select(kv => (kv.Value, source[kv.Key])).ToArray();
        _updated = target.Where(kv => !frozen.Any(prefix => kv.Key.StartsWith(prefix, StringComparison.Ordinal)))
            .Select(kv => (kv.Value, source[kv.Key])).ToArray();
        twin.eval();
        foreach (var p in twin.parameters()) p.requires_grad = false;
        Set();
    }

    public nn.Module<Tensor, Tensor> Module { get; }
    public double Decay { get; }

    /// <summary>Copies the model's state into the average (start, or resume without saved EMA).</summary>
    public void Set()
    {
        using var noGrad = no_grad();
        foreach (var (ema, model) in _pairs) ema.copy_(model);
    }

    public void Update()
    {
        using var noGrad = no_grad();
        foreach (var (ema, model) in _updated)
        {
            if (ema.is_floating_point()) ema.mul_(Decay).add_(model, alpha: 1 - Decay);
            else ema.copy_(model);
        }
    }
}
