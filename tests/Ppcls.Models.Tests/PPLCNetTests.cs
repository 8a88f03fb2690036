using Ppcls.Core.Config;
using Ppcls.Core.Models;
using Ppcls.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Models.Tests;

public class PPLCNetTests
{
    [Test]
    public void Print()
    {
        var r = new ModelRegistry();
        PPLCNet.Register(r); PPLCNetV2.Register(r); MobileNetV2.Register(r);
        foreach (var e in r.Entries)
        {
            var m = e.Create(ConfigSection.Empty("Arch"));
            long n = m.parameters().Sum(p => p.numel());
            long fused = m.named_parameters().Where(p => p.name.EndsWith("dw_conv.weight") || p.name.EndsWith("dw_conv.bias")).Where(p => p.parameter.dim() == 4 ? true : true).Sum(p => p.name.Contains("dw_conv.conv") ? 0 : p.parameter.numel());
            TestContext.Out.WriteLine($"{e.Name} {n} {fused}");
        }
        var v = r.Get("PPLCNetV2_base").Create(ConfigSection.Empty("Arch"));
        foreach (var (k, t) in v.state_dict()) TestContext.Out.WriteLine($"{k} {string.Join("x", t.shape)}");
        var mb = r.Get("MobileNetV2_x0_25").Create(ConfigSection.Empty("Arch"));
        foreach (var (k, t) in mb.state_dict()) TestContext.Out.WriteLine($"{k} {string.Join("x", t.shape)}");
        var l = r.Get("PPLCNet_x0_25").Create(ConfigSection.Empty("Arch"));
        foreach (var (k, t) in l.state_dict()) TestContext.Out.WriteLine($"{k} {string.Join("x", t.shape)}");
    }
}
