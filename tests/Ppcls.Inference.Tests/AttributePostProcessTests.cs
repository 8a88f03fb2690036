namespace Ppcls.Inference.Tests;

/// <summary>PersonAttribute, VehicleAttribute and TableAttribute on hand-made sigmoid scores, against results worked out by hand from PaddleClas's rules.</summary>
public sealed class AttributePostProcessTests
{
    [Test]
    public void PersonAttribute_words_each_attribute_with_its_threshold_and_outputs_the_vector_against_half_glasses_and_hold()
    {
        float[] s =
        [
            0.5f, 0.35f, 0.3f, 0.6f, 0.6f, 0.1f, 0.7f, 0.1f, 0.1f, 0.1f, 0.1f, 0.4f, 0.1f, 0.1f, 0.9f,
            0.3f, 0.45f, 0.2f, 0.55f, 0.2f, 0.6f, 0.3f, 0.7f, 0.1f, 0.2f, 0.8f,
        ];
        var result = (AttributeResult)new PersonAttributePostProcess(0.5, 0.3, 0.6).Apply(s, "people/p1.jpg");

        Assert.That(result.Attributes, Is.EqualTo(new[]
        {
            "Female", "Age18-60", "Back", "Glasses: True", "Hat: False", "HoldObjectsInFront: False", "No bag",
            "Upper: LongSleeve UpperStride UpperPlaid", "Lower:  Trousers", "Boots",
        }));
        int[] output = [0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1];
        Assert.That(result.Output, Is.EqualTo(output));
        Assert.That(result.ToPythonRepr(), Is.EqualTo(
            "{'attributes': ['Female', 'Age18-60', 'Back', 'Glasses: True', 'Hat: False', 'HoldObjectsInFront: False', 'No bag', " +
            "'Upper: LongSleeve UpperStride UpperPlaid', 'Lower:  Trousers', 'Boots'], 'output': [" + string.Join(", ", output) + "]}"));
        Assert.That(result.ToPredictLine(), Does.StartWith("p1.jpg:\t {'attributes': ['Female', "));
    }

    [Test]
    public void VehicleAttribute_names_the_likeliest_colour_and_type_above_their_thresholds_in_one_sentence()
    {
        var s = Enumerable.Repeat(0.1f, 19).ToArray();
        s[4] = 0.8f;
        s[11] = 0.3f;
        var result = new VehicleAttributePostProcess(0.5, 0.5).Apply(s, "car.jpg");

        // Python prints float(np.float32(0.8)): 0.800000011920929.
        const string sentence = "Color: (red, prob: 0.800000011920929), Type unknown";
        string output = "[0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]";
        Assert.That(result.ToPythonRepr(), Is.EqualTo($"{{'attr': '{sentence}', 'pred': {output}, 'file_name': 'car.jpg'}}"));
        Assert.That(result.ToPredictLine(), Is.EqualTo($"car.jpg:\t {{'attributes': '{sentence}', 'output': {output}}}"));
    }

    [Test]
    public void TableAttribute_words_obstruction_and_angle_by_number_threshold_but_outputs_them_by_their_own()
    {
        var post = new TableAttributePostProcess(source: 0.5, number: 0.5, color: 0.5, clarity: 0.5, obstruction: 0.6, angle: 0.4);

        var result = (AttributeResult)post.Apply([0.9f, 0.2f, 0.6f, 0.4f, 0.55f, 0.45f], "t.png");

        Assert.That(result.Attributes, Is.EqualTo(new[] { "Scanned", "Numerous", "Black-and-White", "Blurry", "Without-Obstacles", "Tilted" }));
        Assert.That(result.Output, Is.EqualTo(new[] { 1, 0, 1, 0, 0, 1 }));
        Assert.That(result.ToPythonRepr(), Is.EqualTo(
            "{'attributes': ['Scanned', 'Numerous', 'Black-and-White', 'Blurry', 'Without-Obstacles', 'Tilted'], 'output': [1, 0, 1, 0, 0, 1], 'file_name': 't.png'}"));
    }

    [Test]
    public void An_attribute_post_process_on_a_model_with_another_class_count_is_refused()
    {
        var e = Assert.Throws<UserInputException>(() => new PersonAttributePostProcess(0.5, 0.3, 0.6).CheckClassCount(10, "Arch.class_num is 10"))!;

        Assert.That(e.Message, Is.EqualTo("PersonAttribute: reads 26 attribute scores but the model predicts 10; train it with Arch.class_num: 26 or use another post-process (Arch.class_num is 10)"));
    }
}
