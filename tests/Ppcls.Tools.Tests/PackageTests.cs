using System.Diagnostics;
using Ppcls.Inference;

namespace Ppcls.Tools.Tests;

/// <summary>
/// Shipping: Ppcls.Inference's <see cref="ExportedModel"/> answers as `ppcls predict` does; the library packs with
/// `dotnet pack` and the sample console project (samples/Ppcls.Inference.Sample, copied out of the repository) restores
/// it from a local folder source and runs; the `ppcls` .NET tool packs and installs.
/// </summary>
[NonParallelizable]
public sealed class PackageTests
{
    ServingFixture _fixture = null!;

    [OneTimeSetUp]
    public void ExportModel() => _fixture = new ServingFixture();

    [OneTimeTearDown]
    public void Remove() => _fixture.Dispose();

    static (int Code, string Output) Run(string file, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }

    [Test]
    public void ExportedModel_predicts_files_bytes_streams_and_batches_as_ppcls_predict()
    {
        string[] files = [_fixture.Images[3], _fixture.Images[18], _fixture.Images[37]];
        var expected = _fixture.Predict(files);
        using var model = ExportedModel.Load(_fixture.Inference);
        Assert.That(model.Name, Is.EqualTo("PPLCNet_x0_25"));
        Assert.That(model.Topk, Is.EqualTo(3));
        Assert.That(model.Labels, Is.EqualTo(new[] { "red_circle", "green_square", "blue_triangle", "yellow_cross" }));
        var batch = model.PredictBatch(files);
        for (int i = 0; i < files.Length; i++)
        {
            var e = expected[Path.GetFileName(files[i])];
            foreach (var result in new[] { model.Predict(files[i]), batch[i], model.Predict(File.ReadAllBytes(files[i]), "x.jpg"), model.Predict(File.OpenRead(files[i]), "x.jpg") })
            {
                Assert.That(result.ClassIds, Is.EqualTo(e.Ids));
                Assert.That(result.Scores, Is.EqualTo(e.Scores).Within(1e-5));
                Assert.That(result.LabelNames, Is.EqualTo(e.Names));
            }
        }
        var top1 = model.Predict(files[0], topk: 1);
        Assert.That(top1.ClassIds, Is.EqualTo(expected[Path.GetFileName(files[0])].Ids.Take(1)));
        var missing = Assert.Throws<UserInputException>(() => ExportedModel.Load("/nonexistent/inference"));
        Assert.That(missing!.Message, Does.StartWith("model folder '/nonexistent/inference' not found"));
    }

    [Test]
    public void The_packed_library_runs_in_a_fresh_console_app_from_a_local_folder_source()
    {
        string work = Directory.CreateTempSubdirectory("ppcls-package-test-").FullName;
        try
        {
            // A version of its own, so the global packages folder cannot answer with an older pack.
            string version = $"0.1.0-test{DateTime.UtcNow:yyyyMMddHHmmssfff}";
            string feed = Path.Combine(work, "feed");
            var pack = Run("dotnet", CliRun.RepoRoot, "pack", Path.Combine("Ppcls.Inference", "Ppcls.Inference.csproj"), "-c", "Release", "--no-build",
                "-o", feed, $"-p:Version={version}", "-nologo");
            Assert.That(pack.Code, Is.EqualTo(0), pack.Output);
            Assert.That(File.Exists(Path.Combine(feed, $"Ppcls.Inference.{version}.nupkg")), Is.True, pack.Output);

            string app = Path.Combine(work, "app");
            Directory.CreateDirectory(app);
            foreach (var file in new[] { "Ppcls.Inference.Sample.csproj", "Program.cs" })
                File.Copy(Path.Combine(CliRun.RepoRoot, "samples", "Ppcls.Inference.Sample", file), Path.Combine(app, file));
            File.WriteAllText(Path.Combine(app, "nuget.config"),
                $"<?xml version=\"1.0\" encoding=\"utf-8\"?><configuration><packageSources><add key=\"local\" value=\"{feed}\" /></packageSources></configuration>");
            string[] images = [_fixture.Images[9], _fixture.Images[29]];
            var run = Run("dotnet", app, ["run", "-c", "Release", $"-p:PpclsInferenceVersion={version}", "--", _fixture.Inference, .. images]);
            Assert.That(run.Code, Is.EqualTo(0), run.Output);
            Assert.That(run.Output, Does.Contain("model PPLCNet_x0_25, 4 labelled classes"));
            foreach (var image in images)
            {
                var predict = CliRun.Of(["predict", .. _fixture.ServeArgs, "-o", $"Global.infer_imgs={image}"]);
                Assert.That(run.Output, Does.Contain(predict.Output.Trim()), "the sample prints ppcls predict's line");
            }
            Assert.That(run.Output, Does.Contain("; batch of 2"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// `dotnet pack Ppcls.Tools` then `dotnet tool install --tool-path` from that folder and `ppcls --version` from another
    /// folder. The package carries libtorch (205 MB); pack and install take about a minute and a half on 2 cores.
    /// </summary>
    [Test]
    public void The_packed_tool_installs_and_runs_from_any_folder()
    {
        string work = Directory.CreateTempSubdirectory("ppcls-tool-test-").FullName;
        try
        {
            string feed = Path.Combine(work, "feed"), tools = Path.Combine(work, "tools"), elsewhere = Path.Combine(work, "elsewhere");
            Directory.CreateDirectory(elsewhere);
            var pack = Run("dotnet", CliRun.RepoRoot, "pack", Path.Combine("Ppcls.Tools", "Ppcls.Tools.csproj"), "-c", "Release", "-o", feed, "-nologo");
            Assert.That(pack.Code, Is.EqualTo(0), pack.Output);
            var install = Run("dotnet", elsewhere, "tool", "install", "--tool-path", tools, "--add-source", feed, "ppcls");
            Assert.That(install.Code, Is.EqualTo(0), install.Output);
            var version = Run(Path.Combine(tools, "ppcls"), elsewhere, "--version");
            Assert.That(version.Code, Is.EqualTo(0), version.Output);
            Assert.That(version.Output.Trim(), Does.StartWith("0.1.0"));
            var models = Run(Path.Combine(tools, "ppcls"), elsewhere, "models", "info", "PPLCNet_x0_25", "--image-size", "64");
            Assert.That(models.Code, Is.EqualTo(0), models.Output);
            Assert.That(models.Output, Does.Contain("PPLCNet_x0_25").And.Contain("params: 1,521,184"), "the installed tool builds a model (libtorch loads)");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
