using Ppcls.Core.Config;
using Ppcls.Core.Models;

namespace Ppcls.Models.Tests;

/// <summary>The zoo's registry: what it lists is what resolves, and composites stay apart from the zoo.</summary>
public sealed class ModelRegistryTests
{
    static readonly ModelRegistry Registry = ModelZoo.CreateRegistry();

    /// <summary>Every family's variants, from the families themselves.</summary>
    static IEnumerable<string> FamilyVariants() =>
        PPHGNet.Variants.Select(v => v.Name).Concat(PPHGNetV2.Variants.Select(v => v.Name))
            .Concat(PPLCNet.Variants.Select(v => v.Name)).Concat(PPLCNetV2.Variants.Select(v => v.Name)).Concat(PPLCNetV3.Variants.Select(v => v.Name))
            .Concat(MobileNetV2.Variants.Select(v => v.Name))
            .Concat(ResNetVd.Variants.Select(v => v.Name)).Concat(Res2NetVd.Variants.Select(v => v.Name))
            .Concat(SwinTransformer.Variants.Select(v => v.Name));

    [Test]
    public void Every_listed_model_resolves_to_its_own_entry_and_every_variant_is_listed()
    {
        Assert.That(Registry.Names, Is.EquivalentTo(FamilyVariants()));
        Assert.That(Registry.Names, Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
        Assert.That(Registry.Names.Select(n => Registry.Get(n).Name), Is.EqualTo(Registry.Names));
        Assert.That(Registry.Entries.Select(e => e.Name), Is.EquivalentTo(Registry.Names), "`ppcls models list` shows each zoo model once");
        Assert.That(Registry.Entries.Select(e => (e.Family, e.Name)), Is.EqualTo(
            Registry.Entries.OrderBy(e => e.Family, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal).Select(e => (e.Family, e.Name))));
    }

    [Test]
    public void Composites_resolve_apart_from_the_zoo_and_an_unknown_name_mentions_them()
    {
        Assert.That(Registry.Composite(DistillationModel.ArchName)?.Name, Is.EqualTo("DistillationModel"));
        Assert.That(Registry.Composite(RecModel.ArchName)?.Name, Is.EqualTo("RecModel"));
        Assert.That(Registry.Composite("PPLCNet_x1_0"), Is.Null);

        var e = Assert.Throws<ConfigException>(() => Registry.Get("RecModle", "Arch.name", new SourceLocation("t.yaml", 2, 7)))!;

        Assert.That(e.Message, Is.EqualTo(
            $"Arch.name (t.yaml:2): unknown model 'RecModle'; did you mean 'RecModel'? run 'ppcls models list' for all {Registry.Names.Count} names (also: DistillationModel, RecModel)"));
    }

    [Test]
    public void A_name_is_registered_once_across_zoo_and_composites()
    {
        var registry = new ModelRegistry();
        var entry = Registry.Get("PPLCNet_x1_0");
        registry.Register(entry);
        registry.Register(new CompositeModelEntry("RecModel", (_, _, _) => throw new InvalidOperationException("not built")));

        Assert.That(() => registry.Register(entry), Throws.InvalidOperationException.With.Message.EqualTo("model PPLCNet_x1_0 is registered twice"));
        Assert.That(() => registry.Register(new CompositeModelEntry("PPLCNet_x1_0", (_, _, _) => throw new InvalidOperationException("not built"))),
            Throws.InvalidOperationException.With.Message.EqualTo("model PPLCNet_x1_0 is registered twice"));
        Assert.That(() => registry.Register(entry with { Name = "RecModel" }),
            Throws.InvalidOperationException.With.Message.EqualTo("model RecModel is registered twice"));
    }
}
