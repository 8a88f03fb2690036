using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>
/// `Arch.freeze_backbone: true`: only the classifier (the module owning the preset's classifier
/// key, e.g. `fc`) trains. Every other parameter stops taking gradients and is left out of the
/// optimizer (so it has no optimizer state), and every layer outside the classifier that keeps
/// running statistics (BatchNorm) stays in eval mode while training, so the pretrained
/// statistics are used and kept. Dropout keeps its training behaviour.
/// </summary>
public sealed class BackboneFreeze
{
    readonly string _classifierPrefix;

    BackboneFreeze(string classifierPrefix) => _classifierPrefix = classifierPrefix;

    /// <summary>Freezes every parameter of <paramref name="model"/> outside the classifier.</summary>
    public static BackboneFreeze Apply(nn.Module model, string classifierKey)
    {
        var freeze = new BackboneFreeze(classifierKey[..(classifierKey.LastIndexOf('.') + 1)]);
        foreach (var (name, parameter) in model.named_parameters())
            if (!freeze.IsClassifier(name)) parameter.requires_grad = false;
        return freeze;
    }

    public bool IsClassifier(string name) => name.StartsWith(_classifierPrefix, StringComparison.Ordinal);

    /// <summary>Call after <c>model.train()</c>: puts the frozen layers with running statistics back in eval mode.</summary>
    public void KeepStatistics(nn.Module model)
    {
        foreach (var (name, module) in model.named_modules())
            if (name.Length > 0 && !IsClassifier(name + ".") && module.named_buffers(recurse: false).Any())
                module.eval();
    }
}
