using Ppcls.Core.Config;
using Ppcls.Core.Deploy;
using Ppcls.Inference;

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

        string yaml = ConfigYamlWriter.Write(InferenceYaml.Build("PPLCNet_x0_25", transforms, new TopkPostProcess(5, ["red: circle", "it's", "null"])));
        var read = DeployConfig.Read(YamlConfigReader.Read(new StringReader(yaml), "inference.yml"), "inference.yml", _ => { });

        Assert.That(yaml, Does.StartWith("Global:\n  model_name: PPLCNet_x0_25\nPreProcess:\n  transform_ops:\n    - ResizeImage:\n        resize_short: 72\n"));
        Assert.That(yaml, Does.Contain("        scale: 0.00392156862745098\n        mean: [0.485, 0.456, 0.406]\n"));
        Assert.That(yaml, Does.Contain("        order: ''\n    - ToCHWImage:\n"));
        Assert.That(read.ModelName, Is.EqualTo("PPLCNet_x0_25"));
        Assert.That(read.TransformOps!.Select(o => o.Name), Is.EqualTo(new[] { "ResizeImage", "CropImage", "NormalizeImage", "ToCHWImage" }));
        var topk = (TopkPostProcess)read.PostProcess!;
        Assert.That(topk.Topk, Is.EqualTo(5));
        Assert.That(topk.Labels, Is.EqualTo(new[] { "red: circle", "it's", "null" }));
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
    static DeployConfig ReadYaml(string yaml, List<string>? notices = null) =>
        DeployConfig.Read(YamlConfigReader.Read(new StringReader(yaml), "inference.yml"), "inference.yml", m => notices?.Add(m));

    [Test]
    public void Every_post_process_writes_its_options_into_inference_yml_and_reads_back_the_same()
    {
        var transforms = new ConfigList();
        IPostProcess[] all =
        [
            new ThreshOutputPostProcess(0.9, 1, "nobody", "someone", null, "k"),
            new MultiLabelThreshOutputPostProcess(0.4, ["car", "bus"], "k"),
            new PersonAttributePostProcess(0.55, 0.25, 0.65),
            new VehicleAttributePostProcess(0.45, 0.35),
            new TableAttributePostProcess(0.1, 0.2, 0.3, 0.4, 0.6, 0.7),
        ];
        foreach (var written in all)
        {
            string yaml = ConfigYamlWriter.Write(InferenceYaml.Build("PPLCNet_x1_0", transforms, written));
            var read = ReadYaml(yaml).PostProcess!;

            Assert.That(yaml, Does.Contain($"PostProcess:\n  {written.Name}:\n"));
            Assert.That(read.GetType(), Is.EqualTo(written.GetType()), written.Name);
            Assert.That(read.DeployOptions, Is.EqualTo(written.DeployOptions), written.Name);
        }
    }

    [Test]
    public void Main_indicator_picks_the_printed_post_process_and_an_unknown_name_lists_the_valid_ones()
    {
        var notices = new List<string>();
        var read = ReadYaml("PostProcess:\n  main_indicator: ThreshOutput\n  Topk: {topk: 2}\n  ThreshOutput: {threshold: 0.7}\n  SavePreLabel: {save_dir: x}\n", notices);

        Assert.That(((ThreshOutputPostProcess)read.PostProcess!).Threshold, Is.EqualTo(0.7));
        Assert.That(notices, Has.One.EqualTo("PostProcess.Topk: not the main_indicator; ignored"));
        var both = Assert.Throws<ConfigException>(() => ReadYaml("PostProcess:\n  Topk: {topk: 2}\n  ThreshOutput: {threshold: 0.7}\n"))!;
        Assert.That(both.Message, Does.Contain("PostProcess holds Topk, ThreshOutput; set main_indicator to the one to print, or keep one"));
        var unknown = Assert.Throws<ConfigException>(() => ReadYaml("PostProcess:\n  ThreshOutputs: {threshold: 0.7}\n"))!;
        Assert.That(unknown.Message, Does.StartWith("PostProcess.ThreshOutputs ("));
        Assert.That(unknown.Message, Does.Contain("did you mean 'ThreshOutput'?"));
        var badThreshold = Assert.Throws<ConfigException>(() => ReadYaml("PostProcess:\n  ThreshOutput: {threshold: 1.5}\n"))!;
        Assert.That(badThreshold.Message, Does.StartWith("PostProcess.ThreshOutput.threshold ("));
        Assert.That(badThreshold.Message, Does.EndWith("must be a probability within 0 .. 1, got 1.5"));
    }
}
