using Ppcls.Core.Config.Sections;
using Ppcls.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Optim;

/// <summary>Small models, configs and gradients for the optimizer tests.</summary>
static class OptimizerTestKit
{
    public static OptimizerConfig OptimizerYaml(string yaml) =>
        OptimizerConfig.Read(ConfigYaml.Section(yaml + "lr:\n  name: Constant\n  learning_rate: 0.1\n", "Optimizer"), _ => { });

    /// <summary>conv.weight [2,1,1,1], bn.weight/bias [2], fc.weight [3,2], fc.bias [3].</summary>
    public static nn.Module<Tensor, Tensor> ConvBnFc() => nn.Sequential(
        ("conv", nn.Conv2d(1, 2, 1, bias: false)),
        ("bn", nn.BatchNorm2d(2)),
        ("flat", nn.Flatten()),
        ("fc", nn.Linear(2, 3)));

    public static IEnumerable<(string, Parameter)> Named(nn.Module module) => module.named_parameters();

    public static Parameter Vector(params float[] values) => new(tensor(values));

    /// <summary>Sets w.grad to c (through loss = sum(w * c)).</summary>
    public static void GradientIs(Parameter w, double[] c)
    {
        using var scope = NewDisposeScope();
        (w * tensor(c.Select(v => (float)v).ToArray())).sum().backward();
    }

    public static double[] Values(Parameter w)
    {
        using var scope = NewDisposeScope();
        return w.detach().to_type(ScalarType.Float64).data<double>().ToArray();
    }

    public sealed class Multipliers(Dictionary<string, double> map) : ILearningRateMultipliers
    {
        public IReadOnlyDictionary<string, double> LearningRateMultipliers() => map;
    }
}
