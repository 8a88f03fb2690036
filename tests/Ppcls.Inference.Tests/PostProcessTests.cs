namespace Ppcls.Inference.Tests;

public sealed class PostProcessTests
{
    [TestCase(0.92473, "0.92473")]
    [TestCase(7e-05, "7e-05")]
    [TestCase(0.0001, "0.0001")]
    [TestCase(1.0, "1.0")]
    [TestCase(0.0, "0.0")]
    [TestCase(0.01, "0.01")]
    [TestCase(1.5e-05, "1.5e-05")]
    [TestCase(1e16, "1e+16")]
    public void Floats_print_as_python_repr(double value, string expected) =>
        Assert.That(PythonRepr.Float(value), Is.EqualTo(expected));

    [Test]
    public void Strings_print_as_python_repr() =>
        Assert.That(PythonRepr.Strings(["hen", "it's", "a\\b"]), Is.EqualTo("['hen', \"it's\", 'a\\\\b']"));

    [Test]
    public void Topk_orders_by_probability_rounds_to_five_decimals_and_names_the_classes()
    {
        var topk = new TopkPostProcess(3, ["cat", "dog", "hen", "fox"]);

        var result = topk.Apply([0.1f, 0.000071234f, 0.8f, 0.0999288f], "img/a.jpg");

        Assert.That(result.ClassIds, Is.EqualTo(new[] { 2, 0, 3 }));
        Assert.That(result.Scores, Is.EqualTo(new[] { 0.8, 0.1, 0.09993 }).Within(1e-12));
        Assert.That(result.ToPythonRepr(), Is.EqualTo("{'class_ids': [2, 0, 3], 'scores': [0.8, 0.1, 0.09993], 'file_name': 'img/a.jpg', 'label_names': ['hen', 'cat', 'fox']}"));
        Assert.That(result.ToPredictLine(), Is.EqualTo("a.jpg:\tclass id(s): [2, 0, 3], score(s): [0.80000, 0.10000, 0.09993], label_name(s): ['hen', 'cat', 'fox']"));
    }

    [Test]
    public void Topk_beyond_the_class_count_returns_every_class_and_without_labels_no_names()
    {
        var result = new TopkPostProcess(5, null).Apply([0.25f, 0.75f], "b.png");

        Assert.That(result.ClassIds, Is.EqualTo(new[] { 1, 0 }));
        Assert.That(result.LabelNames, Is.Empty);
    }

    [Test]
    public void A_label_map_reads_ids_and_names_split_at_the_first_delimiter_and_a_short_one_is_refused()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "1 great white shark\n0 tench\n");
            var labels = TopkPostProcess.ReadLabelMap(path, "Infer.PostProcess.class_id_map_file");
            Assert.That(labels, Is.EqualTo(new[] { "tench", "great white shark" }));

            var e = Assert.Throws<UserInputException>(() => new TopkPostProcess(1, labels, path).CheckClassCount(5, "use the training data's map"));
            Assert.That(e!.Message, Is.EqualTo($"{path}: names 2 classes but the model predicts 5; use the training data's map"));

            File.WriteAllText(path, "0 tench\nx goldfish\n");
            var bad = Assert.Throws<UserInputException>(() => TopkPostProcess.ReadLabelMap(path, "k"));
            Assert.That(bad!.Message, Is.EqualTo($"{path}:2: expected 'id name' with a class id, got 'x goldfish'"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
