using Ppcls.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models;

/// <summary>
/// Turns a trained model into its inference form, as the exporter needs it: every
/// <see cref="IReparameterizable"/> block reparameterizes (PP-LCNetV2's parallel depthwise
/// branches fused into one depthwise conv, then every Conv+BN pair folded into a conv with
/// bias), parents before children, so a fusing parent still sees its children's BNs. The model
/// is left in eval mode; eval outputs are unchanged up to float rounding. Fusion is one-way:
/// the folded BN modules and branches leave the module tree and the state dict.
/// </summary>
public static class ModelFusion
{
    /// <summary>Fuses <paramref name="model"/> in place and returns how many blocks changed.</summary>
    public static int Fuse(nn.Module model)
    {
        model.eval();
        int fused = 0;
        using (no_grad()) Visit(model, ref fused);
        return fused;
    }

    static void Visit(nn.Module module, ref int fused)
    {
        if (module is IReparameterizable block && !block.IsReparameterized)
        {
            block.Reparameterize();
            fused++;
        }
        // Children are read after the parent fused: modules it dropped are not visited.
        foreach (var (_, child) in module.named_children().ToList()) Visit(child, ref fused);
    }
}
