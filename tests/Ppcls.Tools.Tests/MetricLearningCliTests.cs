using System.Globalization;
using System.Text.RegularExpressions;

namespace Ppcls.Tools.Tests;

/// <summary>The real CLI trains the quick-start triplet config (RecModel, PKSampler, Recallk and mAP on the eval set).</summary>
[NonParallelizable]
public sealed class MetricLearningCliTests
{
    static readonly string TripletConfig = Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_triplet_demo.yaml");

    [Test]
    public void A_retrieval_run_tracks_and_reports_recall1_as_its_best_metric()
    {
        using var demo = new DemoData();
        string output = demo.NewOutput();
        var run = CliRun.Of(["train", "-c", TripletConfig, .. demo.DataOverrides(output, epochs: 2), "-o", "DataLoader.Train.sampler.sample_per_id=2"]);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);

        string log = File.ReadAllText(Path.Combine(output, "RecModel", "train.log"));
        var evals = Regex.Matches(log, @"\[Eval\]\[Epoch \d\]\[Avg\].*recall1: (\d\.\d{5})").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.That(evals, Has.Count.EqualTo(2));
        var done = Regex.Match(log, @"training done: 2 epoch\(s\), best (\S+) (\d\.\d{5}) at epoch (\d)");
        Assert.That(done.Success, Is.True, log);
        Assert.That(done.Groups[1].Value, Is.EqualTo("recall1"));
        Assert.That(double.Parse(done.Groups[2].Value, CultureInfo.InvariantCulture), Is.EqualTo(evals.Max()).Within(1e-5));
    }
}
