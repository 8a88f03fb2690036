using Ppcls.Core.Config;
using Ppcls.Core.Reporting;
using Ppcls.Core.Tests.Config;

namespace Ppcls.Core.Tests.Reporting;

public sealed class ClassNamesTests
{
    ConfigTestFiles _files = null!;
    string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _files = new ConfigTestFiles();
        _dir = Directory.CreateTempSubdirectory("ppcls-names-").FullName;
    }

    [TearDown]
    public void TearDown()
    {
        _files.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    string WriteFile(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Test]
    public void A_label_map_names_its_ids_keeping_spaces_and_unnamed_ids_keep_their_number()
    {
        string path = WriteFile("label_list.txt", "0 tench, Tinca tinca\n\n2\tgoldfish\n7 beyond class_num\n");

        var names = ClassNames.Read(path, 3);

        Assert.That(names.Names, Is.EqualTo(new[] { "tench, Tinca tinca", "1", "goldfish" }));
        Assert.That(names.Source, Is.EqualTo(path));
    }

    [Test]
    public void A_line_that_is_not_id_name_is_an_error_naming_file_and_line()
    {
        string path = WriteFile("bad.txt", "0 tench\ngoldfish\n");

        var e = Assert.Throws<PpclsUserException>(() => ClassNames.Read(path, 3));

        Assert.That(e!.Message, Does.StartWith($"{path}:2: expected 'id name'"));
    }

    PpclsConfig Config(params string[] overrides) =>
        PpclsConfig.Load(_files.Write("config.yaml", ConfigTestFiles.Minimal), overrides, _ => { });

    [Test]
    public void Eval_names_come_from_class_id_map_file_first_then_label_list_beside_the_eval_list_then_ids()
    {
        string map = WriteFile("map.txt", "0 from_map\n");
        string list = WriteFile("data/val_list.txt", "a.jpg 0\n");
        WriteFile("data/label_list.txt", "0 from_label_list\n");
        string[] eval = ["DataLoader.Eval.dataset.name=ImageNetDataset", $"DataLoader.Eval.dataset.cls_label_path={list}", "DataLoader.Eval.sampler.batch_size=4"];
        var warnings = new List<string>();

        var fromMap = ClassNames.ForEval(Config([.. eval, $"Infer.PostProcess.class_id_map_file={map}"]), warnings.Add);
        var missingMap = ClassNames.ForEval(Config([.. eval, $"Infer.PostProcess.class_id_map_file={_dir}/nope.txt"]), warnings.Add);
        var noList = ClassNames.ForEval(Config(), warnings.Add);

        Assert.That(fromMap.Names[0], Is.EqualTo("from_map"));
        Assert.That(missingMap.Names[0], Is.EqualTo("from_label_list"));
        Assert.That(warnings, Has.One.StartsWith($"Infer.PostProcess.class_id_map_file: '{_dir}/nope.txt' not found"));
        Assert.That(noList.Names, Is.EqualTo(Enumerable.Range(0, 10).Select(i => i.ToString())));
        Assert.That(noList.Source, Is.Null);
    }
}
