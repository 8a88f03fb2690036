using Ppcls.Core.Config;

namespace Ppcls.Core.Tests.Config;

public sealed class NameTableTests
{
    static readonly SourceLocation Line3 = new("t.yaml", 3, 5);

    /// <summary>Registered out of order, to show that the listing is sorted.</summary>
    static NameTable<int> Losses()
    {
        var table = new NameTable<int>("loss");
        table.Register("TripletLoss", 3);
        table.Register("CELoss", 1);
        table.Register("MixCELoss", 2);
        return table;
    }

    [Test]
    public void A_registered_name_resolves_to_its_entry_and_names_are_sorted_ordinally()
    {
        var table = Losses();
        table.Register("mAP", 4);

        Assert.That(table.Get("MixCELoss", "Loss.Train.0"), Is.EqualTo(2));
        Assert.That(table.Names, Is.EqualTo(new[] { "CELoss", "MixCELoss", "TripletLoss", "mAP" }));
        Assert.That(table.Entries, Is.EqualTo(new[] { 1, 2, 3, 4 }));
        Assert.That(table.TryGet("CELoss", out int found), Is.True);
        Assert.That(found, Is.EqualTo(1));
        Assert.That(table.TryGet("celoss", out _), Is.False, "names are case-sensitive, as in PaddleClas");
    }

    [Test]
    public void Registering_a_name_twice_is_refused_and_keeps_the_first_entry()
    {
        var table = Losses();

        var e = Assert.Throws<InvalidOperationException>(() => table.Register("CELoss", 9))!;

        Assert.That(e.Message, Is.EqualTo("loss CELoss is registered twice"));
        Assert.That(table.Get("CELoss", "k"), Is.EqualTo(1));
    }

    [Test]
    public void An_unknown_name_names_key_and_line_suggests_the_closest_and_lists_the_sorted_names()
    {
        var e = Assert.Throws<ConfigException>(() => Losses().Get("CELos", "Loss.Train.0.CELos", Line3))!;

        Assert.That(e.Message, Is.EqualTo(
            "Loss.Train.0.CELos (t.yaml:3): unknown loss 'CELos'; did you mean 'CELoss'? use one of: CELoss, MixCELoss, TripletLoss"));
    }

    [Test]
    public void A_name_far_from_every_entry_gets_no_suggestion()
    {
        var e = Assert.Throws<ConfigException>(() => Losses().Get("FocalLoss", "Loss.Train.0.FocalLoss"))!;

        Assert.That(e.Message, Is.EqualTo("Loss.Train.0.FocalLoss: unknown loss 'FocalLoss'; use one of: CELoss, MixCELoss, TripletLoss"));
    }

    [Test]
    public void A_long_table_points_at_its_list_command_and_names_the_other_valid_names()
    {
        var table = new NameTable<string>("model", listCommand: "ppcls models list");
        table.Register("PPLCNet_x1_0", "a");
        table.Register("PPLCNet_x0_5", "b");

        var near = Assert.Throws<ConfigException>(() => table.Get("PPLCNet_x0_52", "Arch.name", Line3, alsoValid: ["DistillationModel", "RecModel"]))!;
        var composite = Assert.Throws<ConfigException>(() => table.Get("RecModle", "Arch.name", null, alsoValid: ["DistillationModel", "RecModel"]))!;

        Assert.That(near.Message, Is.EqualTo(
            "Arch.name (t.yaml:3): unknown model 'PPLCNet_x0_52'; did you mean 'PPLCNet_x0_5'? run 'ppcls models list' for all 2 names (also: DistillationModel, RecModel)"));
        Assert.That(composite.Message, Does.Contain("did you mean 'RecModel'?"), "the other names are suggested too");
    }
}
