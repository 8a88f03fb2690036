using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Loss;

/// <summary>
/// PaddleClas <c>SupConLoss</c> (Khosla et al., supervised contrastive; contrast_mode all): the batch's
/// <c>features</c> (L2-normalised with +1e-12 unless normalize_feature is false) form groups of
/// <paramref name="views"/> consecutive images of one identity (PKSampler with sample_per_id = views),
/// each group labelled by its first image. Every image is an anchor against every other: with
/// logits z = f_a . f_c / temperature, loss_a = -(temperature / base_temperature) * mean over the
/// anchor's positives p (same label, not itself) of [z_ap - log sum over c != a of exp(z_ac)];
/// the loss is the mean over anchors.
/// </summary>
public sealed class SupConLoss(int views, double temperature, double baseTemperature, bool normalize) : ILossTerm
{
    public string Name => "SupConLoss";
    public bool UsesLabels => true;

    public IReadOnlyDictionary<string, Tensor> Compute(ModelOutput output, Tensor target)
    {
        var features = output.Get(null, "features", Name).flatten(1);
        long count = features.shape[0];
        if (count % views != 0)
            throw new PpclsUserException($"{Name}: the batch of {count} images is not a whole number of groups of views={views}; " +
                "use a batch_size divisible by views (PKSampler with sample_per_id equal to views)");
        if (normalize) features = features / (features.norm(1, keepdim: true, p: 2) + 1e-12);
        long ids = count / views;
        // PaddleClas orders the contrast set view by view: view 0 of every group, then view 1, ...
        var contrast = features.reshape(ids, views, -1).transpose(0, 1).reshape(count, -1);
        var groupLabels = target.reshape(ids, views).select(1, 0);
        var labels = groupLabels.repeat(views);
        var notSelf = eye(count, dtype: features.dtype, device: features.device).neg().add(1.0);
        var positives = labels.reshape(-1, 1).eq(labels.reshape(1, -1)).to(features.dtype) * notSelf;
        var logits = contrast.matmul(contrast.t()) / temperature;
        logits = logits - logits.amax([1], keepdim: true).detach();
        var logProb = logits - (logits.exp() * notSelf).sum(1, keepdim: true).log();
        var meanLogProbPositive = (positives * logProb).sum(1) / positives.sum(1);
        var loss = (-(temperature / baseTemperature) * meanLogProbPositive).mean();
        return new Dictionary<string, Tensor> { [Name] = loss };
    }
}
