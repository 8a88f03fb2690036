using Ppcls.Core.Config;
using Ppcls.Data.BatchOps;
using Ppcls.Data.Datasets;
using Ppcls.Data.Ops;
using Ppcls.Data.Ops.Augment;

namespace Ppcls.Data;

/// <summary>Registers Ppcls.Data's data sets, transform ops and batch ops by their PaddleClas names: the one explicit call.</summary>
public static class DataCatalog
{
    /// <summary>PaddleClas ops not built yet: named so a config using one gets a clear message, not "unknown".</summary>
    static readonly string[] PendingTransformOps =
    [
        "RandAugmentV2", "RandAugmentV3", "ColorJitter", "CropWithPadding", "RandomGrayscale", "GridMask", "HideAndSeek",
        "RandomResizedCrop", "ResizeImageV2",
    ];

    static readonly string[] PendingBatchOps = ["FmixOperator", "MixupCutmixHybrid"];

    /// <summary>ImageNetDataset's list format, with each batch's image size set by MultiScaleSampler.</summary>
    public const string MultiScaleDatasetName = "MultiScaleDataset";

    public static DataRegistry CreateRegistry()
    {
        var registry = new DataRegistry();
        RegisterAll(registry);
        return registry;
    }

    public static void RegisterAll(DataRegistry registry)
    {
        registry.Datasets.Register("ImageNetDataset", ImageNetDataset.Create);
        registry.Datasets.Register("ClassFolderDataset", ClassFolderDataset.Create);
        registry.Datasets.Register(MultiScaleDatasetName, ImageNetDataset.Create);
        registry.Datasets.Register("CustomLabelDataset", CustomLabelDataset.Create);
        registry.Datasets.Register("MultiLabelDataset", MultiLabelDataset.Create);
        registry.Datasets.Register("VeriWild", VeriWildDataset.Create);

        var ops = registry.TransformOps;
        ops.Register("DecodeImage", (s, c) => DecodeImage.Create(s, c.Notice));
        ops.Register("ResizeImage", (s, c) => ResizeImage.Create(s, c.Notice));
        ops.Register("CropImage", (s, c) => CropImage.Create(s, c.Notice));
        ops.Register("RandCropImage", (s, c) => RandCropImage.Create(s, c.Notice));
        ops.Register("RandFlipImage", (s, _) => RandFlipImage.Create(s));
        ops.Register("NormalizeImage", (s, _) => NormalizeImage.Create(s));
        ops.Register("ToCHWImage", (_, _) => new ToCHWImage());
        ops.Register("RandomErasing", (s, _) => RandomErasing.Create(s));
        ops.Register("TimmAutoAugment", (s, _) => TimmAutoAugment.Create(s));
        ops.Register("RandAugment", (s, _) => RandAugment.Create(s));
        ops.Register("AutoAugment", (_, _) => new AutoAugment());
        ops.Register("BlurImage", (s, _) => BlurImage.Create(s));
        ops.Register("RandomRot90", (_, _) => new RandomRot90());
        ops.Register("Padv2", (s, _) => Padv2.Create(s));
        ops.Register("RandomCropImage", (s, c) => RandomCropImage.Create(s, c.Notice));
        ops.Register("Cutout", (s, _) => Cutout.Create(s));
        ops.Register("RandAugmentV4", (s, c) =>
        {
            s.Finish(c.Notice);
            return new RandAugmentV4();
        });
        ops.Register("Pad", (s, c) => Pad.Create(s, c.Notice));
        ops.Register("RandCropImageV2", (s, c) => RandCropImageV2.Create(s, c.Notice));
        ops.Register("RandomRotation", (s, c) => RandomRotation.Create(s, c.Notice));
        ops.Register("AugMix", (s, c) => AugMix.Create(s, c.Notice));
        foreach (var name in PendingTransformOps) ops.Register(name, (s, _) => throw Pending(s, name));

        var batch = registry.BatchOps;
        batch.Register("MixupOperator", (s, _) => MixupOperator.Create(s));
        batch.Register("CutmixOperator", (s, _) => CutmixOperator.Create(s));
        batch.Register("OpSampler", OpSampler.Create);
        foreach (var name in PendingBatchOps) batch.Register(name, (s, _) => throw Pending(s, name));
    }

    static ConfigException Pending(ConfigSection s, string name) =>
        ConfigException.At(s.Path, s.Location, $"the PaddleClas op {name} is not available in this version of Ppcls yet; remove it or use another op");
}
