using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Loss;
using Ppcls.Core.Metric;
using Ppcls.Core.Optim;
using Ppcls.Core.Tests.Optim;

namespace Ppcls.Core.Tests.Config;

/// <summary>
/// Every name a Core registry lists builds through its factory, and builds what it names. Each
/// table below gives the smallest options for every name; a name added to a registry without a
/// case here fails the first assertion.
/// </summary>
public sealed class RegistryNamesTests
{
    const string Pairs = "      model_name_pairs: [[\"Student\", \"Teacher\"]]\n";

    static readonly Dictionary<string, string> LossOptions = new()
    {
        ["CELoss"] = "",
        ["MixCELoss"] = "",
        ["DistillationCELoss"] = Pairs,
        ["DistillationGTCELoss"] = "      model_names: [\"Student\"]\n",
        ["DistillationDMLLoss"] = Pairs,
        ["DistillationKLDivLoss"] = Pairs,
        ["DistillationDistanceLoss"] = Pairs,
        ["TripletLoss"] = "",
        ["TripletLossV2"] = "",
        ["TripletAngularMarginLoss"] = "",
        ["MultiLabelLoss"] = "",
        ["MultiLabelAsymmetricLoss"] = "",
        ["DistillationMultiLabelLoss"] = "      model_names: [\"Student\"]\n",
        ["SupConLoss"] = "      views: 2\n",
    };

    /// <summary>Metric name -> its options and whether it is measured over the whole eval set.</summary>
    static readonly Dictionary<string, (string Options, bool OverDataset)> MetricOptions = new()
    {
        ["TopkAcc"] = ("", false),
        ["DistillationTopkAcc"] = ("model_key: Student", false),
        ["Recallk"] = ("", true),
        ["mAP"] = ("", true),
        ["TprAtFpr"] = ("", true),
        ["ATTRMetric"] = ("", true),
        ["MultiLabelMAP"] = ("", true),
        ["HammingDistance"] = ("", false),
        ["AccuracyScore"] = ("", false),
    };

    static readonly Dictionary<string, string> ScheduleOptions = new()
    {
        ["Cosine"] = "",
        ["Linear"] = "",
        ["Polynomial"] = "",
        ["Step"] = "step_size: 2\ngamma: 0.1\n",
        ["Piecewise"] = "decay_epochs: [2]\nvalues: [0.1, 0.01]\n",
        ["MultiStepDecay"] = "milestones: [2, 3]\n",
        ["ConstLR"] = "",
        ["Constant"] = "",
    };

    static readonly string[] OptimizerNames = ["Momentum", "SGD", "Adam", "AdamW", "RMSProp"];

    static IEnumerable<string> Sorted(IEnumerable<string> names) => names.Order(StringComparer.Ordinal);

    [Test]
    public void Every_listed_loss_builds_a_term_of_that_name()
    {
        Assert.That(LossFactory.Losses.Names, Is.EqualTo(Sorted(LossOptions.Keys)));
        foreach (var (name, options) in LossOptions)
        {
            var section = ConfigYaml.Section($"Train:\n  - {name}:\n      weight: 1.0\n{options}", "Loss");
            var loss = LossFactory.Build(section.OptionalNamedList("Train")!, _ => { })!;

            Assert.That(loss.Terms.Single().Term.Name, Is.EqualTo(name));
        }
    }

    [Test]
    public void Every_listed_metric_builds_one_metric_of_its_kind()
    {
        Assert.That(MetricFactory.Metrics.Names, Is.EqualTo(Sorted(MetricOptions.Keys)));
        foreach (var (name, (options, overDataset)) in MetricOptions)
        {
            var section = ConfigYaml.Section($"Eval:\n  - {name}: {{{options}}}\n", "Metric");
            var set = MetricFactory.Build(section.OptionalNamedList("Eval")!, _ => { }, _ => { })!;

            Assert.That((set.Metrics.Count, set.DatasetMetrics.Count), Is.EqualTo(overDataset ? (0, 1) : (1, 0)), name);
        }
    }

    [Test]
    public void Every_listed_schedule_builds_a_schedule_of_that_name()
    {
        Assert.That(LearningRateScheduleFactory.Schedules.Names, Is.EqualTo(Sorted(ScheduleOptions.Keys)));
        foreach (var (name, options) in ScheduleOptions)
        {
            var lr = ConfigYaml.Section($"name: {name}\nlearning_rate: 0.1\n{options}", "Optimizer.lr");

            Assert.That(LearningRateScheduleFactory.Build(lr, 4, 2, _ => { }).Name, Is.EqualTo(name));
        }
    }

    [Test]
    public void Every_listed_optimizer_reads_and_builds_under_its_name()
    {
        Assert.That(OptimizerFactory.Optimizers.Names, Is.EqualTo(Sorted(OptimizerNames)));
        foreach (var name in OptimizerNames)
        {
            var config = OptimizerConfig.Read(ConfigYaml.Section($"name: {name}\nlr: {{name: Constant, learning_rate: 0.1}}\n", "Optimizer"), _ => { });
            using var optimizer = OptimizerFactory.Build(config, OptimizerTestKit.ConvBnFc(), 0.1, _ => { });

            Assert.That(optimizer.Name, Is.EqualTo(name));
        }
    }
}
