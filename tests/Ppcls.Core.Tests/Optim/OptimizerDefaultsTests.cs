using Ppcls.Core.Optim;
using TorchSharp.Modules;
using static Ppcls.Core.Tests.Optim.OptimizerTestKit;

namespace Ppcls.Core.Tests.Optim;

public sealed class OptimizerDefaultsTests
{
    [Test]
    public void RMSProp_without_momentum_or_epsilon_takes_Paddles_defaults()
    {
        using var optimizer = OptimizerFactory.Build(OptimizerYaml("name: RMSProp\n"), Named(ConvBnFc()), null, 0.1, _ => { });

        var options = optimizer.Inner.ParamGroups.Cast<RMSProp.ParamGroup>().Select(g => g.Options).ToList();
        Assert.That(options.Select(o => o.momentum), Is.All.EqualTo(0.0));
        Assert.That(options.Select(o => o.eps), Is.All.EqualTo(1e-6));
    }

    [Test]
    public void Adam_without_epsilon_takes_1e_8_and_a_given_epsilon_wins()
    {
        using var plain = OptimizerFactory.Build(OptimizerYaml("name: Adam\n"), Named(ConvBnFc()), null, 0.1, _ => { });
        using var given = OptimizerFactory.Build(OptimizerYaml("name: Adam\nepsilon: 0.001\n"), Named(ConvBnFc()), null, 0.1, _ => { });

        Assert.That(plain.Inner.ParamGroups.Cast<Adam.ParamGroup>().Select(g => g.Options.eps), Is.All.EqualTo(1e-8));
        Assert.That(given.Inner.ParamGroups.Cast<Adam.ParamGroup>().Select(g => g.Options.eps), Is.All.EqualTo(0.001));
    }
}
