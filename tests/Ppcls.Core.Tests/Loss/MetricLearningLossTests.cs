using Ppcls.Core.Config;
using Ppcls.Core.Loss;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Loss;

public sealed class MetricLearningLossTests
{
    const double Tol = 1e-5;

    static CombinedLoss Build(string yaml) =>
        LossFactory.Build(new ConfigSection(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "Loss").OptionalNamedList("Train")!, _ => { })!;

    static ModelOutput Features(float[] values, int dim) =>
        new(new Dictionary<string, Tensor> { ["features"] = tensor(values).reshape(-1, dim) }, "features");

    static Tensor TwoClasses() => tensor(new long[] { 0, 0, 1, 1 });

    [Test]
    public void MarginRankingLoss_matches_the_values_in_the_issue()
    {
        using var scope = NewDisposeScope();
        var first = new MarginRankingLoss(0.5).Compute(tensor(new float[] { 1, 2, 3 }), tensor(new float[] { 0.5f, 1.5f, 2.5f }), tensor(new float[] { 1, -1, 1 }));
        var second = new MarginRankingLoss(0).Compute(tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2), tensor(new float[] { 2, 1, 2, 4 }).reshape(2, 2),
            tensor(new float[] { 1, -1, -1, -1 }).reshape(2, 2));

        Assert.That(first.item<float>(), Is.EqualTo(1.0 / 3).Within(Tol));
        Assert.That(second.item<float>(), Is.EqualTo(0.75).Within(Tol));
    }

    [Test]
    public void TripletLoss_mines_the_farthest_positive_and_nearest_negative_per_anchor()
    {
        using var scope = NewDisposeScope();
        // a (0,0), b (0,3) class 0; c (4,0), d (4,4) class 1. Per anchor (d(a,p), d(a,n)):
        // a (3, 4) -> 0; b (3, sqrt 17) -> 0; c (4, 4) -> 1; d (4, sqrt 17) -> 5 - sqrt 17.
        var values = Build("Train:\n  - TripletLoss:\n      weight: 1.0\n      margin: 1.0\n")
            .Compute(Features([0, 0, 0, 3, 4, 0, 4, 4], 2), TwoClasses());

        Assert.That(values["TripletLoss"].item<float>(), Is.EqualTo((1 + 5 - Math.Sqrt(17)) / 4).Within(Tol));
    }

    [Test]
    public void TripletLossV2_normalises_the_features_before_mining()
    {
        using var scope = NewDisposeScope();
        // The unit vectors of the angular test below, doubled. Normalised, distances are sqrt(2 - 2 cos):
        // ab = cd = sqrt .4, bc = sqrt .8, ac = bd = sqrt 2, ad = sqrt 3.2. Anchors b and c: sqrt .4 - sqrt .8 + .5 > 0;
        // a and d: sqrt .4 - sqrt 2 + .5 < 0. Unnormalised, every distance doubles and all four hinges are 0.
        var features = Features([2, 0, 1.6f, 1.2f, 0, 2, -1.2f, 1.6f], 2);
        var v2 = Build("Train:\n  - TripletLossV2:\n      weight: 1.0\n      margin: 0.5\n").Compute(features, TwoClasses());
        var plain = Build("Train:\n  - TripletLoss:\n      weight: 1.0\n      margin: 0.5\n").Compute(features, TwoClasses());
        var off = Build("Train:\n  - TripletLossV2:\n      weight: 1.0\n      margin: 0.5\n      normalize_feature: False\n").Compute(features, TwoClasses());

        Assert.That(v2["TripletLossV2"].item<float>(), Is.EqualTo((Math.Sqrt(0.4) - Math.Sqrt(0.8) + 0.5) / 2).Within(Tol));
        Assert.That(plain["TripletLoss"].item<float>(), Is.EqualTo(0).Within(Tol));
        Assert.That(off["TripletLossV2"].item<float>(), Is.EqualTo(0).Within(Tol));
    }

    [Test]
    public void TripletAngularMarginLoss_ranks_cosine_similarities_of_normalised_features()
    {
        using var scope = NewDisposeScope();
        // Twice the unit vectors a (1,0), b (.8,.6) class 0; c (0,1), d (-.6,.8) class 1: cos ab .8, ac 0, ad -.6, bc .6, bd 0, cd .8.
        // Per anchor (least similar positive, most similar negative): a (.8, 0), b (.8, .6), c (.8, .6), d (.8, 0);
        // ranking max(0, -(ap - an) + .5): 0, .3, .3, 0 -> mean .15.
        var features = Features([2, 0, 1.6f, 1.2f, 0, 2, -1.2f, 1.6f], 2);
        var plain = Build("Train:\n  - TripletAngularMarginLoss:\n      weight: 1.0\n      margin: 0.5\n").Compute(features, TwoClasses());
        // add_absolute: mean(max(0, .9 - ap)) = .1; an - .5 where positive, else 1 (PaddleClas): 1, .1, .1, 1 -> .55.
        var absolute = Build("Train:\n  - TripletAngularMarginLoss:\n      weight: 1.0\n      margin: 0.5\n      add_absolute: True\n" +
            "      absolute_loss_weight: 1.0\n      ap_value: 0.9\n      an_value: 0.5\n").Compute(features, TwoClasses());

        Assert.That(plain["TripletAngularMarginLoss"].item<float>(), Is.EqualTo(0.15).Within(Tol));
        Assert.That(absolute["TripletAngularMarginLoss"].item<float>(), Is.EqualTo(0.55 + 0.1 + 0.15).Within(Tol));
    }

    [Test]
    public void Triplet_losses_read_the_features_output_and_name_it_when_missing()
    {
        using var scope = NewDisposeScope();
        var loss = Build("Train:\n  - TripletLoss:\n      weight: 1.0\n");

        var e = Assert.Throws<PpclsUserException>(() => loss.Compute(tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2), tensor(new long[] { 0, 1 })))!;
        Assert.That(e.Message, Does.Contain("TripletLoss: the model has no output 'features'; its outputs are logits"));
    }
}
