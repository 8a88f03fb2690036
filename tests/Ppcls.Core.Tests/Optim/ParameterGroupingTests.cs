using Ppcls.Core.Config;
using Ppcls.Core.Models;
using static TorchSharp.torch;
using Ppcls.Core.Optim;
using static Ppcls.Core.Tests.Optim.OptimizerTestKit;

namespace Ppcls.Core.Tests.Optim;

public sealed class ParameterGroupingTests
{
    static IReadOnlyList<(double Mult, double Decay, string Names)> Groups(TrainingOptimizer o) =>
        o.Groups.Select(g => (g.LearningRateMultiplier, g.WeightDecay, string.Join(" ", g.Names))).ToList();

    [Test]
    public void Momentum_L2_skips_conv_bn_batchnorm_and_applies_lr_multipliers()
    {
        var model = ConvBnFc();
        using var o = OptimizerFactory.Build(OptimizerYaml("name: Momentum\nregularizer:\n  name: L2\n  coeff: 0.0001\n"),
            Named(model), new Multipliers(new() { ["conv.weight"] = 0.5, ["bn.weight"] = 0.5, ["bn.bias"] = 0.5 }), 0.2, _ => { });

        Assert.That(Groups(o), Is.EqualTo(new[]
        {
            (0.5, 0.0001, "conv.weight"),
            (0.5, 0.0, "bn.weight bn.bias"),
            (1.0, 0.0001, "fc.weight fc.bias"),
        }));
        Assert.That(o.GroupLearningRates, Is.EqualTo(new[] { 0.1, 0.1, 0.2 }).Within(1e-12));
    }

    [Test]
    public void SetLearningRate_scales_every_group_by_its_multiplier()
    {
        var model = ConvBnFc();
        using var o = OptimizerFactory.Build(OptimizerYaml("name: Momentum\n"), Named(model),
            new Multipliers(new() { ["fc.bias"] = 0.01 }), 0.1, _ => { });

        o.SetLearningRate(0.4);

        Assert.That(o.Groups.Select(g => g.LearningRateMultiplier), Is.EqualTo(new[] { 1.0, 0.01 }));
        Assert.That(o.GroupLearningRates, Is.EqualTo(new[] { 0.4, 0.004 }).Within(1e-12));
        Assert.That(o.BaseLearningRate, Is.EqualTo(0.4));
    }

    [Test]
    public void No_weight_decay_names_and_one_dim_parameters_are_excluded()
    {
        var model = ConvBnFc();
        using var o = OptimizerFactory.Build(
            OptimizerYaml("name: Momentum\nweight_decay: 0.05\nno_weight_decay_name: conv\none_dim_param_no_weight_decay: True\n"),
            Named(model), null, 0.1, _ => { });

        Assert.That(Groups(o), Is.EqualTo(new[]
        {
            (1.0, 0.0, "conv.weight bn.weight bn.bias fc.bias"),
            (1.0, 0.05, "fc.weight"),
        }));
    }

    [Test]
    public void Momentum_ignores_one_dim_exclusion_without_no_weight_decay_name_like_PaddleClas()
    {
        var model = ConvBnFc();
        var notices = new List<string>();
        using var o = OptimizerFactory.Build(OptimizerYaml("name: Momentum\nweight_decay: 0.05\none_dim_param_no_weight_decay: True\n"),
            Named(model), null, 0.1, notices.Add);

        Assert.That(Groups(o), Is.EqualTo(new[]
        {
            (1.0, 0.05, "conv.weight fc.weight fc.bias"),
            (1.0, 0.0, "bn.weight bn.bias"),
        }));
        Assert.That(notices.Single(), Does.Contain("one_dim_param_no_weight_decay has no effect for Momentum"));
    }

    [Test]
    public void AdamW_decays_batchnorm_too_unless_excluded_by_name()
    {
        var model = ConvBnFc();
        using var o = OptimizerFactory.Build(OptimizerYaml("name: AdamW\nweight_decay: 0.05\nno_weight_decay_name: fc.bias\n"),
            Named(model), null, 0.1, _ => { });

        Assert.That(Groups(o), Is.EqualTo(new[]
        {
            (1.0, 0.05, "conv.weight bn.weight bn.bias fc.weight"),
            (1.0, 0.0, "fc.bias"),
        }));
    }

    [Test]
    public void Only_parameters_named_bn_count_as_PaddleClas_no_decay_batchnorm()
    {
        Assert.That(WeightDecayRule.IsConvBnBatchNorm("stages.0.blocks.1.layers.2.bn.weight"), Is.True);
        Assert.That(WeightDecayRule.IsConvBnBatchNorm("bn.bias"), Is.True);
        Assert.That(WeightDecayRule.IsConvBnBatchNorm("conv1._batch_norm.weight"), Is.False);
        Assert.That(WeightDecayRule.IsConvBnBatchNorm("stem.stem1.lab.scale"), Is.False);
        Assert.That(WeightDecayRule.IsConvBnBatchNorm("stem.stem1.conv.weight"), Is.False);
    }

    [Test]
    public void L1_regularization_is_a_config_error()
    {
        var model = ConvBnFc();
        var e = Assert.Throws<ConfigException>(() => OptimizerFactory.Build(
            OptimizerYaml("name: Momentum\nregularizer:\n  name: L1\n  coeff: 0.0001\n"), Named(model), null, 0.1, _ => { }))!;

        Assert.That(e.Message, Is.EqualTo("Optimizer.regularizer.name: L1 regularization is not supported in Ppcls; use L2"));
    }

    [Test]
    public void SGD_with_no_weight_decay_name_is_a_config_error()
    {
        var model = ConvBnFc();
        var e = Assert.Throws<ConfigException>(() => OptimizerFactory.Build(
            OptimizerYaml("name: SGD\nno_weight_decay_name: bn\n"), Named(model), null, 0.1, _ => { }))!;

        Assert.That(e.Message, Does.Contain("SGD does not take no_weight_decay_name"));
    }

    [Test]
    public void Regularizer_wins_over_weight_decay_with_a_notice()
    {
        var model = ConvBnFc();
        var notices = new List<string>();
        using var o = OptimizerFactory.Build(OptimizerYaml("name: Momentum\nweight_decay: 0.5\nregularizer:\n  name: L2\n  coeff: 0.001\n"),
            Named(model), null, 0.1, notices.Add);

        Assert.That(o.Groups[0].WeightDecay, Is.EqualTo(0.001));
        Assert.That(notices.Single(), Does.Contain("weight_decay is ignored"));
    }

    [Test]
    public void A_multiplier_for_a_missing_parameter_is_reported()
    {
        var model = ConvBnFc();
        var e = Assert.Throws<InvalidOperationException>(() => OptimizerFactory.Build(OptimizerYaml("name: SGD\n"), Named(model),
            new Multipliers(new() { ["head.fc.weight"] = 0.1 }), 0.1, _ => { }))!;

        Assert.That(e.Message, Does.Contain("head.fc.weight"));
    }

    sealed class FcWithSlowBias : nn.Module<Tensor, Tensor>, ILearningRateMultipliers
    {
        readonly TorchSharp.Modules.Linear fc = nn.Linear(2, 2);

        public FcWithSlowBias() : base(nameof(FcWithSlowBias)) => RegisterComponents();

        public override Tensor forward(Tensor x) => fc.forward(x);

        public IReadOnlyDictionary<string, double> LearningRateMultipliers() => new Dictionary<string, double> { ["fc.bias"] = 0.1 };
    }

    [Test]
    public void A_model_that_declares_multipliers_gets_them_without_being_asked()
    {
        var model = new FcWithSlowBias();
        using var o = OptimizerFactory.Build(OptimizerYaml("name: SGD\n"), model, 1.0, _ => { });

        Assert.That(Groups(o), Is.EqualTo(new[] { (1.0, 0.0, "fc.weight"), (0.1, 0.0, "fc.bias") }));
    }
}
