namespace Ppcls.Inference.Tests;

/// <summary>ThreshOutput and MultiLabelThreshOutput against hand-computed results, in PaddleClas's printed forms.</summary>
public sealed class ThresholdPostProcessTests
{
    static ThreshOutputPostProcess Binary(double threshold) => new(threshold, 0, "nobody", "someone", null, "Infer.PostProcess.class_id_map_file");

    [Test]
    public void ThreshOutput_picks_class_1_at_or_above_the_threshold_with_its_probability_and_label_1()
    {
        var result = Binary(0.9).Apply([0.05f, 0.95f], "img/a.jpg");

        Assert.That(result.ToPythonRepr(), Is.EqualTo("{'class_ids': [1], 'scores': [0.95], 'label_names': ['someone'], 'file_name': 'img/a.jpg'}"));
        Assert.That(result.ToPredictLine(), Is.EqualTo("a.jpg:\tclass id(s): [1], score(s): [0.95000], label_name(s): ['someone']"));
        Assert.That(((ThresholdResult)Binary(0.5).Apply([0.5f, 0.5f], "t.jpg")).ClassIds, Is.EqualTo(new[] { 1 }), "score == threshold is class 1");
    }

    [Test]
    public void ThreshOutput_below_the_threshold_gives_class_0_scored_one_minus_p1_in_float32()
    {
        var result = (ThresholdResult)Binary(0.9).Apply([0.2f, 0.8f], "b.jpg");

        // numpy: np.float32(1) - np.float32(0.8) == 0.19999999 (float32), printed in its shortest float32 form.
        Assert.That(result.Scores.Single(), Is.EqualTo((double)(1f - 0.8f)));
        Assert.That(result.ToPythonRepr(), Is.EqualTo("{'class_ids': [0], 'scores': [0.19999999], 'label_names': ['nobody'], 'file_name': 'b.jpg'}"));
    }

    [Test]
    public void ThreshOutput_with_more_classes_keeps_the_top_class_only_above_the_threshold_else_the_default_index()
    {
        var post = new ThreshOutputPostProcess(0.6, 2, "0", "1", ["cat", "dog", "other"], "map");

        var sure = (ThresholdResult)post.Apply([0.7f, 0.2f, 0.1f], "x.jpg");
        var unsure = (ThresholdResult)post.Apply([0.5f, 0.3f, 0.2f], "y.jpg");

        Assert.That((sure.ClassIds.Single(), sure.LabelNames.Single(), sure.Scores.Single()), Is.EqualTo((0, "cat", (double)0.7f)));
        Assert.That((unsure.ClassIds.Single(), unsure.LabelNames.Single(), unsure.Scores.Single()), Is.EqualTo((2, "other", (double)0.2f)));
        var e = Assert.Throws<UserInputException>(() => new ThreshOutputPostProcess(0.6, 5, "0", "1", null, "map").CheckClassCount(3, "fix it"))!;
        Assert.That(e.Message, Is.EqualTo("ThreshOutput.default_label_index: 5 is not a class of the model (0 .. 2); fix it"));
    }

    [Test]
    public void MultiLabelThreshOutput_lists_every_class_at_or_above_the_threshold_rounded_to_five_decimals()
    {
        var post = new MultiLabelThreshOutputPostProcess(0.5, ["car", "bus", "person", "dog"], "map");

        var result = post.Apply([0.5f, 0.49999f, 0.912345678f, 0.1f], "street.jpg");

        Assert.That(post.Activation, Is.EqualTo(OutputActivation.Sigmoid));
        Assert.That(result.ToPythonRepr(), Is.EqualTo("{'class_ids': [0, 2], 'scores': [0.5, 0.91235], 'label_names': ['car', 'person'], 'file_name': 'street.jpg'}"));
        Assert.That(result.ToPredictLine(), Is.EqualTo("street.jpg:\tclass id(s): [0, 2], score(s): [0.50000, 0.91235], label_name(s): ['car', 'person']"));
        Assert.That(new MultiLabelThreshOutputPostProcess(0.5, null, "").Apply([0.1f, 0.2f], "n.jpg").ToPythonRepr(),
            Is.EqualTo("{'class_ids': [], 'scores': [], 'label_names': [], 'file_name': 'n.jpg'}"));
    }

    [TestCase(0.19999999f, "0.19999999")]
    [TestCase(0.95f, "0.95")]
    [TestCase(1e-05f, "1e-05")]
    [TestCase(1f, "1.0")]
    public void Float32_scores_print_as_numpy_prints_a_float32(float value, string expected) =>
        Assert.That(PythonRepr.Float32(value), Is.EqualTo(expected));
}
