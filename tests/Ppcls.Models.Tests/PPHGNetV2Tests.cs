using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Models;
using Ppcls.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

public class PPHGNetV2Tests
{
    static ConfigSection Arch(string yaml = "") =>
        yaml.Length == 0
            ? ConfigSection.Empty("Arch")
            : new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "test.yaml"), "Arch");

    static PPHGNetV2 Build(PPHGNetV2.Variant variant, string yaml = "") => PPHGNetV2.Create(variant, Arch(yaml));

    static long TrainableParameters(nn.Module model) =>
        model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    [Test]
    public void Measure()
    {
        foreach (var v in PPHGNetV2.Variants)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            using var m = Build(v);
            long n = TrainableParameters(m);
            var build = sw.Elapsed.TotalSeconds;
            m.eval();
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                var y = m.call(randn(1, 3, 224, 224));
                TestContext.Out.WriteLine($"{v.Name}: {n} params, build {build:F2}s, forward {sw.Elapsed.TotalSeconds - build:F2}s, {string.Join(",", y.shape)}");
            }
        }
        foreach (var v in PPHGNet.Variants)
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            using var m = PPHGNet.Create(v, Arch());
            long n = TrainableParameters(m);
            var build = sw.Elapsed.TotalSeconds;
            m.eval();
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                var y = m.call(randn(1, 3, 224, 224));
                TestContext.Out.WriteLine($"{v.Name}: {n} params, build {build:F2}s, forward {sw.Elapsed.TotalSeconds - build:F2}s, {string.Join(",", y.shape)}");
            }
        }
    }
}
