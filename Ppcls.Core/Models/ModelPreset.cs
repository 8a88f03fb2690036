namespace Ppcls.Core.Models;

/// <summary>
/// A family's PyTorch name -> PaddleClas name map. It sees every name of the file, since a
/// layout can differ between timm versions (Swin's patch merging moved from the end of a stage
/// to the start of the next: the file's own names tell which it is).
/// </summary>
public delegate string TorchNameMap(string name, IReadOnlySet<string> fileNames);

/// <summary>
/// Per-variant metadata, one record per registered model (as timm's pretrained cfg):
/// the input it was trained at, its preprocessing, and the keys of its first conv and
/// classifier (used by weight loading to drop the classifier when class_num differs).
/// </summary>
public sealed record ModelPreset(
    int InputSize,
    int ResizeShort,
    string Interpolation,
    IReadOnlyList<double> Mean,
    IReadOnlyList<double> Std,
    string FirstConvKey,
    string ClassifierKey)
{
    /// <summary>
    /// Maps a PyTorch (timm) state-dict name of this family to its PaddleClas name; null where timm has no such family.
    /// It is applied to every `.pth` and `.safetensors` file read for the model, so it must leave PaddleClas names as they are.
    /// </summary>
    public TorchNameMap? TimmKeyMap { get; init; }

    /// <summary>
    /// Where PaddleClas publishes the variant's ImageNet weights (the folder of its arch file's `MODEL_URLS`,
    /// ending in '/'); null where it publishes none. The file is `NAME_pretrained.pdparams` there.
    /// </summary>
    public string? PublishedFolder { get; init; }

    /// <summary>PaddleClas's published file is the SSLD one even without `use_ssld` (PPHGNetV2: `NAME_ssld_pretrained.pdparams`).</summary>
    public bool PublishedSsld { get; init; }

    /// <summary>PaddleClas's folder of its "legendary" models' weights.</summary>
    public const string LegendaryModels = "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/legendary_models/";

    /// <summary>PaddleClas's folder of its model-zoo weights (MobileNetV2, Res2Net, ...).</summary>
    public const string ModelZoo = "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/";

    public static readonly IReadOnlyList<double> ImageNetMean = [0.485, 0.456, 0.406];
    public static readonly IReadOnlyList<double> ImageNetStd = [0.229, 0.224, 0.225];

    /// <summary>The common ImageNet recipe: 224 crop after resize_short 256, bilinear.</summary>
    public static ModelPreset ImageNet(string firstConvKey, string classifierKey, int resizeShort = 256, string interpolation = "bilinear") =>
        new(224, resizeShort, interpolation, ImageNetMean, ImageNetStd, firstConvKey, classifierKey);
}
