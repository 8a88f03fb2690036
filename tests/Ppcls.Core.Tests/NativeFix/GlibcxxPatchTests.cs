using Ppcls.NativeFix;

namespace Ppcls.Core.Tests.NativeFix;

[TestFixture]
public sealed class GlibcxxPatchTests
{
    const UnixFileMode Mode0750 =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute;

    TempDirectory temp = null!;
    string library = null!;

    [SetUp]
    public void WriteTorchSharpLikeLibrary()
    {
        temp = new TempDirectory();
        library = ElfFixture.TorchSharpLike().WriteTo(temp.File(GlibcxxPatch.LibraryName));
    }

    [TearDown]
    public void DeleteTempDirectory() => temp.Dispose();

    [Test]
    public void Without_the_system_version_only_the_GLIBCXX_3_4_32_flags_byte_gains_the_weak_bit()
    {
        byte[] before = File.ReadAllBytes(library);
        long flagsOffset = GlibcxxPatch.FindEntry(library)!.FlagsOffset;

        var outcome = GlibcxxPatch.Apply(library, systemHasVersion: false);

        byte[] after = File.ReadAllBytes(library);
        Assert.That(outcome, Is.EqualTo(PatchOutcome.Patched));
        Assert.That(after, Has.Length.EqualTo(before.Length));
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        Assert.That(changed, Is.EqualTo(new[] { (int)flagsOffset }));
        Assert.That(after[flagsOffset] ^ before[flagsOffset], Is.EqualTo(VersionNeed.WeakFlag));
    }

    [Test]
    public void After_patching_the_GLIBCXX_3_4_32_entry_reads_weak_and_every_other_entry_is_as_before()
    {
        GlibcxxPatch.Apply(library, systemHasVersion: false);

        var needed = ElfVersionTables.Read(library).Needed;

        Assert.That(needed.Where(n => n.IsWeak).Select(n => (n.File, n.Version)),
            Is.EqualTo(new[] { ("libstdc++.so.6", GlibcxxPatch.Version) }));
        Assert.That(needed, Has.Count.EqualTo(5));
    }

    [Test]
    public void Patching_keeps_the_other_bits_of_the_flags()
    {
        const ushort verFlgInfo = 0x4;
        new ElfFixture()
            .NeedsWithFlags("libstdc++.so.6", ("GLIBCXX_3.4.29", 0), (GlibcxxPatch.Version, verFlgInfo))
            .WriteTo(library);

        GlibcxxPatch.Apply(library, systemHasVersion: false);

        Assert.That(GlibcxxPatch.FindEntry(library)!.Flags, Is.EqualTo(verFlgInfo | VersionNeed.WeakFlag));
    }

    [Test]
    public void Patching_preserves_the_file_mode_and_leaves_no_temporary_file()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("Unix file modes only");
            return;
        }
        File.SetUnixFileMode(library, Mode0750);

        GlibcxxPatch.Apply(library, systemHasVersion: false);

        Assert.That(File.GetUnixFileMode(library), Is.EqualTo(Mode0750));
        Assert.That(Directory.GetFiles(temp.Path), Is.EqualTo(new[] { library }));
    }

    [Test]
    public void A_second_apply_reports_already_weak_and_changes_nothing()
    {
        Assert.That(GlibcxxPatch.Apply(library, systemHasVersion: false), Is.EqualTo(PatchOutcome.Patched));
        byte[] patched = File.ReadAllBytes(library);

        var outcome = GlibcxxPatch.Apply(library, systemHasVersion: false);

        Assert.That(outcome, Is.EqualTo(PatchOutcome.AlreadyWeak));
        Assert.That(File.ReadAllBytes(library), Is.EqualTo(patched));
    }

    [Test]
    public void A_library_already_weak_when_built_reports_already_weak_and_is_untouched()
    {
        new ElfFixture()
            .NeedsWithFlags("libstdc++.so.6", ("GLIBCXX_3.4.29", 0), (GlibcxxPatch.Version, VersionNeed.WeakFlag))
            .WriteTo(library);
        byte[] before = File.ReadAllBytes(library);

        Assert.That(GlibcxxPatch.Apply(library, systemHasVersion: false), Is.EqualTo(PatchOutcome.AlreadyWeak));
        Assert.That(File.ReadAllBytes(library), Is.EqualTo(before));
    }

    [Test]
    public void When_the_system_has_the_version_apply_reports_not_needed_and_leaves_the_file_untouched()
    {
        byte[] before = File.ReadAllBytes(library);
        var writtenBefore = File.GetLastWriteTimeUtc(library);

        var outcome = GlibcxxPatch.Apply(library, systemHasVersion: true);

        Assert.That(outcome, Is.EqualTo(PatchOutcome.NotNeeded));
        Assert.That(File.ReadAllBytes(library), Is.EqualTo(before));
        Assert.That(File.GetLastWriteTimeUtc(library), Is.EqualTo(writtenBefore));
    }

    [Test]
    public void A_library_that_does_not_need_GLIBCXX_3_4_32_reports_not_required_and_is_untouched()
    {
        new ElfFixture()
            .Needs("libstdc++.so.6", "CXXABI_1.3", "GLIBCXX_3.4.29", "GLIBCXX_3.4.30")
            .Needs("libc.so.6", "GLIBC_2.34")
            .WriteTo(library);
        byte[] before = File.ReadAllBytes(library);

        var outcome = GlibcxxPatch.Apply(library, systemHasVersion: false);

        Assert.That(outcome, Is.EqualTo(PatchOutcome.NotRequired));
        Assert.That(File.ReadAllBytes(library), Is.EqualTo(before));
    }

    [Test]
    public void A_corrupt_library_throws_naming_the_file_and_is_left_as_it_was()
    {
        byte[] corrupt = ElfFixture.TorchSharpLike().Build();
        corrupt[4] = 1; // ELFCLASS32
        File.WriteAllBytes(library, corrupt);

        Assert.That(() => GlibcxxPatch.Apply(library, systemHasVersion: false),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains(library));
        Assert.That(File.ReadAllBytes(library), Is.EqualTo(corrupt));
    }

    [Test]
    public void Find_entry_returns_the_libstdcxx_GLIBCXX_3_4_32_entry()
    {
        var entry = GlibcxxPatch.FindEntry(library);

        Assert.That(entry, Is.Not.Null);
        Assert.That(entry!.File, Is.EqualTo("libstdc++.so.6"));
        Assert.That(entry.Version, Is.EqualTo(GlibcxxPatch.Version));
        Assert.That(entry.IsWeak, Is.False);
    }

    [Test]
    public void Defines_sees_GLIBCXX_3_4_30_but_not_3_4_32_in_a_gcc_12_libstdcxx()
    {
        string libStdCxx = ElfFixture.LibStdCxxLike("GLIBCXX_3.4.30").WriteTo(temp.File("libstdc++.so.6"));

        Assert.That(GlibcxxPatch.Defines(libStdCxx, "GLIBCXX_3.4.30"), Is.True);
        Assert.That(GlibcxxPatch.Defines(libStdCxx, GlibcxxPatch.Version), Is.False);
    }

    [Test]
    public void Defines_sees_GLIBCXX_3_4_32_in_a_gcc_13_libstdcxx()
    {
        string libStdCxx = ElfFixture.LibStdCxxLike("GLIBCXX_3.4.32").WriteTo(temp.File("libstdc++.so.6"));

        Assert.That(GlibcxxPatch.Defines(libStdCxx, GlibcxxPatch.Version), Is.True);
    }

    [Test]
    public void Defines_does_not_count_a_version_the_library_only_needs()
    {
        string other = new ElfFixture()
            .Defines("libfoo.so.1", "FOO_1.0")
            .Needs("libstdc++.so.6", GlibcxxPatch.Version)
            .WriteTo(temp.File("libfoo.so.1"));

        Assert.That(GlibcxxPatch.Defines(other, GlibcxxPatch.Version), Is.False);
    }
}
