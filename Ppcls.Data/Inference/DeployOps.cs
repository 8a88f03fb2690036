using Ppcls.Core.Config;
using Ppcls.Core.Data;
using Ppcls.Data.Ops;
using Ppcls.Inference.Preprocessing;

namespace Ppcls.Data.Inference;

/// <summary>
/// A deploy op list (`PreProcess.transform_ops` of inference.yml or a deploy config) as
/// Ppcls.Inference's <see cref="DeployPreprocessor"/>: the options are read by the training ops'
/// readers (one set of keys, defaults and messages), and each op hands over its deploy twin.
/// Images are decoded to RGB first unless the list starts with its own DecodeImage.
/// </summary>
public static class DeployOps
{
    public static DeployPreprocessor Build(IReadOnlyList<NamedEntry> entries, string listPath, Action<string> notice)
    {
        var registry = DataCatalog.CreateRegistry();
        var ops = registry.BuildList(registry.TransformOps, entries, new DataBuildContext(registry, 0, notice), listPath);
        var decode = ops.Count > 0 ? ops[0] as DecodeImage : null;
        var deploy = new List<IPreprocessOp>();
        foreach (var op in decode is null ? ops : ops.Skip(1))
            deploy.Add(op is IDeployableOp deployable
                ? deployable.ToDeploy(listPath)
                : throw new ConfigException($"{listPath}: {op.Name} does not run in the deploy preprocessing; use DecodeImage (first), ResizeImage, CropImage, NormalizeImage and ToCHWImage"));
        return new DeployPreprocessor(deploy, decode?.ToRgb ?? true);
    }
}
