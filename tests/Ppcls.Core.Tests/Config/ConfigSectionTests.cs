using Ppcls.Core.Config;

namespace Ppcls.Core.Tests.Config;

public sealed class ConfigSectionTests
{
    static ConfigSection Section(string yaml) =>
        new(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "Op");

    [Test]
    public void A_single_number_reads_as_a_one_item_list()
    {
        var s = Section("size: 224\nmean: [0.5, 0.25]\n");

        Assert.That(s.OptionalIntList("size"), Is.EqualTo(new[] { 224 }));
        Assert.That(s.OptionalDoubleList("mean"), Is.EqualTo(new[] { 0.5, 0.25 }));
    }

    [Test]
    public void Python_style_booleans_and_yaml_nulls_are_understood()
    {
        var s = Section("a: True\nb: false\nc: null\nd: ~\ne:\n");

        Assert.That(s.Bool("a", false), Is.True);
        Assert.That(s.Bool("b", true), Is.False);
        Assert.That(s.OptionalString("c"), Is.Null);
        Assert.That(s.OptionalString("d"), Is.Null);
        Assert.That(s.Int("e", 4), Is.EqualTo(4));
    }

    [Test]
    public void A_quoted_number_is_a_string_not_a_number()
    {
        var s = Section("order: ''\nx: '0.5'\n");

        Assert.That(s.OptionalString("order"), Is.EqualTo(""));
        var e = Assert.Throws<ConfigException>(() => s.OptionalDouble("x"))!;
        Assert.That(e.Message, Is.EqualTo("Op.x (t.yaml:2): expected a number, got '0.5'"));
    }

    [Test]
    public void Finish_rejects_unread_keys_and_lists_the_valid_ones()
    {
        var s = Section("size: 3\nintrpolation: bicubic\n");
        s.Int("size", 0);
        s.String("interpolation", "bilinear");

        var e = Assert.Throws<ConfigException>(() => s.Finish(_ => { }))!;
        Assert.That(e.Message, Is.EqualTo(
            "Op.intrpolation (t.yaml:2): unknown key; did you mean 'interpolation'? valid keys here: interpolation, size"));
    }
}
