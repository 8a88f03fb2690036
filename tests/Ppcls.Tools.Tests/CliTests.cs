namespace Ppcls.Tools.Tests;

public sealed class CliTests
{
    string _outputDir = null!;

    [SetUp]
    public void SetUp() => _outputDir = Directory.CreateTempSubdirectory("ppcls-cli-test-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_outputDir, recursive: true);

    CliRun Train(params string[] extra) =>
        CliRun.Of(["train", "-c", CliRun.QuickStartConfig, "-o", $"Global.output_dir={_outputDir}", .. extra]);

    [Test]
    public void Help_matches_the_approved_text()
    {
        var run = CliRun.Of("--help");

        string approved = File.ReadAllText(Path.Combine(CliRun.RepoRoot, "tests", "Ppcls.Tools.Tests", "Approved", "help.txt"));
        Assert.That(run.ExitCode, Is.EqualTo(0));
        Assert.That(run.Output.ReplaceLineEndings("\n").TrimEnd(), Is.EqualTo(approved.ReplaceLineEndings("\n").TrimEnd()),
            "if the change is intended, copy the new output into tests/Ppcls.Tools.Tests/Approved/help.txt");
    }

    /// <summary>Every command of the `ppcls` tree, so a new command is tested by being added.</summary>
    static IEnumerable<string> Commands() => Ppcls.Tools.Cli.PpclsCli.Build().Subcommands.Select(c => c.Name);

    [Test]
    public void The_help_cases_are_the_commands_ppcls_help_lists()
    {
        string help = CliRun.Of("--help").Output.ReplaceLineEndings("\n");
        var listed = help[help.IndexOf("Commands:\n", StringComparison.Ordinal)..].Split('\n').Skip(1)
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^  ([a-z]+)  ")).Where(m => m.Success).Select(m => m.Groups[1].Value);
        Assert.That(Commands(), Is.EqualTo(listed));
        Assert.That(Commands(), Does.Contain("weights"));
    }

    [TestCaseSource(nameof(Commands))]
    public void Every_command_has_help_with_its_options_and_an_example(string command)
    {
        var run = CliRun.Of(command, "--help");

        Assert.That(run.ExitCode, Is.EqualTo(0));
        Assert.That(run.Output, Does.Contain("Example:"));
        Assert.That(run.Output, Does.Contain($"ppcls {command}"));
        Assert.That(run.Output, Does.Contain("Options:"));
    }

    [Test]
    public void A_missing_config_file_is_one_line_and_exit_code_2()
    {
        var run = CliRun.Of("train", "-c", "configs/does_not_exist.yaml");

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error.TrimEnd(), Does.Not.Contain("\n"));
        Assert.That(run.Error, Does.StartWith("error: config file not found: configs/does_not_exist.yaml"));
    }

    [Test]
    public void A_misspelt_override_names_the_key_and_suggests_the_right_one()
    {
        var run = Train("-o", "Global.epcohs=3", "--check");

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.StartWith("error: Global.epcohs (-o Global.epcohs=3): unknown key; did you mean 'epochs'?"));
    }

    [Test]
    public void A_wrong_type_in_an_override_names_the_key()
    {
        var run = Train("-o", "Global.epochs=ten", "--check");

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error.TrimEnd(), Is.EqualTo("error: Global.epochs (-o Global.epochs=ten): expected an integer, got 'ten'"));
    }

    [Test]
    public void Bad_override_syntax_is_one_clear_line()
    {
        var run = Train("-o", "Global.epochs", "--check");

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error.TrimEnd(), Is.EqualTo("error: -o Global.epochs: an override must look like Key.Sub=value (e.g. -o Global.epochs=10)"));
    }

    [Test]
    public void An_unknown_model_option_is_rejected_with_a_suggestion()
    {
        var run = Train("-o", "Arch.class_nun=5", "--check");

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.StartWith("error: Arch.class_nun (-o Arch.class_nun=5): unknown key; did you mean 'class_num'?"));
    }

    [Test]
    public void An_unknown_model_name_suggests_the_closest_and_points_to_the_list()
    {
        var run = Train("-o", "Arch.name=PPLCNet_x0_52", "--check");

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.Contain("unknown model 'PPLCNet_x0_52'; did you mean 'PPLCNet_x0_5'?"));
        Assert.That(run.Error, Does.Contain("ppcls models list"));
    }

    [Test]
    public void Check_refuses_an_absurd_crop_size_in_one_line_before_reading_data()
    {
        const string key = "DataLoader.Train.dataset.transform_ops.1.RandCropImage.size";
        var run = Train("-o", $"{key}=100000", "--check");

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error.TrimEnd(), Does.Not.Contain("\n"));
        Assert.That(run.Error.TrimEnd(), Is.EqualTo(
            $"error: {key} (-o {key}=100000): 100000 px is beyond the largest output side supported (16384 px); classification inputs are 224-1024 px, e.g. size: 224"));
    }

    [Test]
    public void Gpu_without_cuda_fails_with_the_fix()
    {
        var run = Train("-o", "Global.device=gpu", "--check");

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.StartWith("error: Global.device (-o Global.device=gpu): 'gpu' was requested but CUDA is not available"));
        Assert.That(run.Error, Does.Contain("-o Global.device=cpu"));
    }

    [Test]
    public void Doctor_reports_every_check_with_libtorch_loaded_and_the_patch_state()
    {
        var run = CliRun.Of("doctor", "--output-dir", _outputDir);

        foreach (var check in new[] { "libtorch", "GLIBCXX patch", "threads", "malloc tuning", "CUDA", "OpenCV", "plot fonts", "ONNX Runtime", "disk space" })
            Assert.That(run.Output, Does.Contain($"] {check}: "));
        Assert.That(run.Output, Does.Contain("[ OK ] libtorch: loads and computes (libtorch 2.10"));
        Assert.That(run.Output, Does.Contain("[ OK ] malloc tuning: on (glibc"));
        Assert.That(run.Output, Does.Match(@"\[ OK \] plot fonts: SkiaSharp loads and finds [1-9]\d* font famil"));
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
    }
}
