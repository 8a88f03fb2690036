using Ppcls.Core.Config.Sections;
using static TorchSharp.torch;

namespace Ppcls.Core.Models;

/// <summary>Builds the model an `Arch` section names, validating its options against what the model reads.</summary>
public static class ModelBuilder
{
    /// <summary>Arch keys PaddleClas has that change nothing here (accepted with a notice).</summary>
    static readonly string[] PaddleOnlyArchKeys = ["use_sync_bn", "use_ssld", "data_format", "use_fused_attn", "use_fused_linear"];

    public static nn.Module<Tensor, Tensor> Build(ArchConfig arch, ModelRegistry registry, Action<string> notice)
    {
        var entry = registry.Get(arch.Name, arch.Options.KeyPath("name"), arch.NameLocation);
        var model = entry.Create(arch.Options);
        arch.Options.Finish(notice, PaddleOnlyArchKeys);
        return model;
    }
}
