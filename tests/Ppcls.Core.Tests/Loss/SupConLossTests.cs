using Ppcls.Core.Config;
using Ppcls.Core.Loss;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Loss;

/// <summary>PaddleClas's SupConLoss against a float64 recomputation of its formula.</summary>
public sealed class SupConLossTests
{
    static CombinedLoss Build(string options) =>
        LossFactory.Build(new ConfigSection(YamlConfigReader.Read(new StringReader($"Train:\n  - SupConLoss:\n      weight: 1.0\n{options}"), "t.yaml"), "Loss")
            .OptionalNamedList("Train")!, _ => { })!;

    /// <summary>
    /// The formula, written out: features grouped by `views` consecutive rows, group label = its first row's;
    /// contrast order view-major; per anchor a: -(T / T_base) * mean over positives p != a of
    /// [s_ap - log sum_{c != a} exp(s_ac)], s = f . f / T; averaged over anchors.
    /// </summary>
    static double Reference(double[][] rows, long[] labels, int views, double t, double tBase, bool normalize)
    {
        int n = rows.Length, ids = n / views;
        var f = rows.Select(r =>
        {
            double norm = normalize ? Math.Sqrt(r.Sum(v => v * v)) + 1e-12 : 1.0;
            return r.Select(v => v / norm).ToArray();
        }).ToArray();
        var order = new List<int>();
        for (int v = 0; v < views; v++)
            for (int g = 0; g < ids; g++) order.Add(g * views + v);
        var label = order.Select(i => labels[i / views * views]).ToArray();
        var c = order.Select(i => f[i]).ToArray();
        double total = 0;
        for (int a = 0; a < n; a++)
        {
            double Dot(int b) => c[a].Zip(c[b], (x, y) => x * y).Sum() / t;
            double logDenominator = Math.Log(Enumerable.Range(0, n).Where(b => b != a).Sum(b => Math.Exp(Dot(b))));
            var positives = Enumerable.Range(0, n).Where(b => b != a && label[b] == label[a]).ToList();
            total += -(t / tBase) * positives.Average(p => Dot(p) - logDenominator);
        }
        return total / n;
    }

    [TestCase(2, 0.07, 0.07, true)]
    [TestCase(2, 0.5, 0.1, true)]
    [TestCase(3, 0.2, 0.07, false)]
    public void SupConLoss_matches_its_formula_in_float64(int views, double t, double tBase, bool normalize)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        int groups = 4;
        var features = randn(groups * views, 5);
        // Group labels: two groups share identity 1, so positives also come from another group.
        long[] groupLabels = [1, 0, 1, 2];
        long[] labels = [.. Enumerable.Range(0, groups * views).Select(i => groupLabels[i / views])];
        var rows = Enumerable.Range(0, groups * views).Select(i => features[i].to(ScalarType.Float64).data<double>().ToArray()).ToArray();
        string options = $"      views: {views}\n      temperature: {t}\n      base_temperature: {tBase}\n      normalize_feature: {normalize}\n";

        var loss = Build(options).Compute(new ModelOutput(new Dictionary<string, Tensor> { ["features"] = features }, "features"), tensor(labels));

        Assert.That(loss["SupConLoss"].item<float>(), Is.EqualTo(Reference(rows, labels, views, t, tBase, normalize)).Within(1e-4));
    }

    [Test]
    public void A_batch_that_is_not_whole_groups_of_views_is_a_one_line_error()
    {
        var features = new ModelOutput(new Dictionary<string, Tensor> { ["features"] = randn(5, 4) }, "features");

        var e = Assert.Throws<PpclsUserException>(() => Build("      views: 2\n").Compute(features, tensor(new long[] { 0, 0, 1, 1, 2 })))!;

        Assert.That(e.Message, Does.StartWith("SupConLoss: the batch of 5 images is not a whole number of groups of views=2"));
        Assert.That(e.Message.Split('\n'), Has.Length.EqualTo(1));
    }
}
