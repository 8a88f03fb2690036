using Ppcls.Core.Models;

namespace Ppcls.Models;

/// <summary>The one call that puts every model family into the registry.</summary>
public static class ModelZoo
{
    public static ModelRegistry CreateRegistry()
    {
        var registry = new ModelRegistry();
        RegisterAll(registry);
        return registry;
    }

    public static void RegisterAll(ModelRegistry registry)
    {
        PPHGNet.Register(registry); PPHGNetV2.Register(registry);
        PPLCNet.Register(registry); PPLCNetV2.Register(registry); PPLCNetV3.Register(registry); MobileNetV2.Register(registry);
        ResNetVd.Register(registry); Res2NetVd.Register(registry); SwinTransformer.Register(registry);
        DistillationModel.Register(registry); RecModel.Register(registry);
        Heads.MLDecoderHead.Register(registry);
    }
}
