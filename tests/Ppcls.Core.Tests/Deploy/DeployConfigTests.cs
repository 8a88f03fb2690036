using Ppcls.Core.Config;
using Ppcls.Core.Deploy;

namespace Ppcls.Core.Tests.Deploy;

public sealed class DeployConfigTests
{
    [Test]
    public void Inference_yml_is_written_in_paddleclas_schema_and_reads_back_as_a_deploy_config()
    {
        var transforms = (ConfigList)YamlConfigReader.Read(new StringReader("""
            t:
              - DecodeImage: {to_rgb: True, channel_first: False}
              - ResizeImage: {resize_short: 72}
              - CropImage: {size: 64}
              - NormalizeImage: {scale: 1.0/255.0, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], order: ''}
              - ToCHWImage:
            """), "t.yaml")["t"]!;

        string yaml = ConfigYamlWriter.Write(InferenceYaml.Build("PPLCNet_x0_25", transforms, 5, ["red: circle", "it's", "null"]));
        var read = DeployConfig.Read(YamlConfigReader.Read(new StringReader(yaml), "inference.yml"), "inference.yml", _ => { });

        Assert.That(yaml, Does.StartWith("Global:\n  model_name: PPLCNet_x0_25\nPreProcess:\n  transform_ops:\n    - ResizeImage:\n        resize_short: 72\n"));
        Assert.That(yaml, Does.Contain("        scale: 0.00392156862745098\n        mean: [0.485, 0.456, 0.406]\n"));
        Assert.That(yaml, Does.Contain("        order: ''\n    - ToCHWImage:\n"));
        Assert.That(read.ModelName, Is.EqualTo("PPLCNet_x0_25"));
        Assert.That(read.TransformOps!.Select(o => o.Name), Is.EqualTo(new[] { "ResizeImage", "CropImage", "NormalizeImage", "ToCHWImage" }));
        Assert.That(read.Topk!.Topk, Is.EqualTo(5));
        Assert.That(read.Topk.LabelList, Is.EqualTo(new[] { "red: circle", "it's", "null" }));
    }

    [Test]
    public void The_shipped_deploy_config_reads_with_paddleclas_keys_accepted()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Ppcls.sln"))) root = Path.GetDirectoryName(root)!;
        var notices = new List<string>();

        var config = DeployConfig.Load(Path.Combine(root, "configs", "inference_cls.yaml"),
            ["Global.inference_model_dir=out/inference", "Global.batch_size=8", "Global.enable_mkldnn=True"], notices.Add);

        Assert.That(config.InferenceModelDir, Is.EqualTo("out/inference"));
        Assert.That(config.BatchSize, Is.EqualTo(8));
        Assert.That(config.CpuThreads, Is.EqualTo(2));
        Assert.That(config.TransformOps, Is.Null, "preprocessing comes from the model folder's inference.yml");
        Assert.That(notices, Does.Contain("Global.enable_mkldnn is a PaddleClas key with no effect in Ppcls; ignored"));
    }
}
