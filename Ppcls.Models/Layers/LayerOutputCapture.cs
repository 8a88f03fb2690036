using Ppcls.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Layers;

/// <summary>
/// Captures the outputs of named layers of a network during one forward (the one mechanism behind
/// <see cref="ILayerOutputs"/> for every family): a forward hook on each layer keeps a handle to its
/// output while <see cref="Run"/> is under way, outside every dispose scope, so the network's own and
/// its blocks' scopes (<see cref="ScopedBlock"/>) cannot free it; <see cref="Run"/> hands each one to the
/// caller's scope as a new handle. The handles share the tensors' storage and autograd history, so a
/// loss on them trains the layers. A forward outside <see cref="Run"/> captures nothing.
/// </summary>
public sealed class LayerOutputCapture
{
    Dictionary<string, Tensor>? _captured;

    public LayerOutputCapture(nn.Module network, IReadOnlyList<string> patterns)
    {
        var layers = network.named_modules().Where(m => m.name.Length > 0).ToDictionary(m => m.name, m => m.module, StringComparer.Ordinal);
        foreach (var pattern in patterns)
        {
            string path = PaddlePath(pattern);
            if (!layers.TryGetValue(path, out var module) || module is not nn.Module<Tensor, Tensor> layer)
                throw new ArgumentException(
                    $"the model has no layer '{pattern}'; its layers are {string.Join(", ", network.named_children().Select(c => c.name))} " +
                    "and their sub-layers by path (e.g. blocks.0 or blocks[0])", nameof(patterns));
            string key = pattern;
            layer.register_forward_hook((_, _, output) =>
            {
                if (_captured is not null)
                {
                    if (_captured.Remove(key, out var earlier)) earlier.Dispose();
                    _captured[key] = output.alias().DetachFromDisposeScope();
                }
                return output;
            });
        }
        Patterns = [.. patterns];
    }

    public IReadOnlyList<string> Patterns { get; }

    /// <summary>PaddleClas writes a Sequential's i-th layer `blocks[i]`; the state dict says `blocks.i`.</summary>
    static string PaddlePath(string pattern) => pattern.Replace("]", "", StringComparison.Ordinal).Replace('[', '.');

    /// <summary>
    /// Runs <paramref name="forward"/> (the network's forward) and returns its logits with every
    /// pattern's output; all of them belong to the caller's dispose scope.
    /// </summary>
    public ModelOutput Run(Func<Tensor> forward)
    {
        _captured = [];
        var held = _captured;
        try
        {
            var outputs = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [ModelOutput.LogitsKey] = forward() };
            foreach (var pattern in Patterns)
            {
                if (!held.TryGetValue(pattern, out var kept))
                    throw new InvalidOperationException($"layer '{pattern}' did not run in the forward pass");
                outputs[pattern] = kept.alias();
            }
            return new ModelOutput(outputs, ModelOutput.LogitsKey);
        }
        finally
        {
            _captured = null;
            foreach (var kept in held.Values) kept.Dispose();
        }
    }
}
