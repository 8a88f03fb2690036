using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpenCvSharp;
using Ppcls.Core.Checkpoint;
using Ppcls.TestSupport;
using Ppcls.Tools.Reporting;

namespace Ppcls.Tools.Tests;

/// <summary>The real CLI trains, evaluates and resumes on a tiny generated data set.</summary>
[NonParallelizable]
public sealed class TrainEvalTests
{
    DemoData _demo = null!;
    string _output = null!;

    [OneTimeSetUp]
    public void MakeData() => _demo = new DemoData();

    [OneTimeTearDown]
    public void RemoveData() => _demo.Dispose();

    [SetUp]
    public void NewOutput() => _output = _demo.NewOutput();

    string[] Overrides(int epochs) => _demo.Overrides(_output, epochs);

    string ModelDir => Path.Combine(_output, "PPLCNet_x0_25");
    string Log(string name) => File.ReadAllText(Path.Combine(ModelDir, name));

    /// <summary>PULC configs start evaluating late (start_eval_epoch: 18); a shorter run ends without a best metric and says so.</summary>
    [Test]
    public void A_run_that_never_evaluated_says_so_at_the_end()
    {
        var run = CliRun.Of(["train", .. Overrides(epochs: 1), "-o", "Global.start_eval_epoch=3"]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string log = Log("train.log");
        Assert.That(log, Does.Contain("training done: 1 epoch(s), no evaluation ran (see Global.eval_during_train, start_eval_epoch); checkpoints in"));
        Assert.That(log, Does.Contain("[Train][Epoch 1/1]").And.Not.Contain("[Eval]"));
    }

    [Test]
    public void Train_check_validates_everything_then_stops_before_training()
    {
        var run = CliRun.Of(["train", .. Overrides(epochs: 2), "--check"]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        string log = Log("train.log");
        Assert.That(log, Does.Match(@"^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\] ppcls INFO: "));
        Assert.That(log, Does.Contain("model PPLCNet_x0_25 built with"));
        Assert.That(log, Does.Contain("Global.use_visualdl is a PaddleClas key with no effect in Ppcls; ignored"));
        Assert.That(log, Does.Contain("check passed: loaders, losses, metrics, LR schedule (Cosine) and optimizer (Momentum) are valid; eval: 8 images"));
        Assert.That(log, Does.Not.Contain("[Train]"));
        Assert.That(Directory.GetFiles(ModelDir, "*.safetensors"), Is.Empty);
    }

    [Test]
    public void Train_check_reports_a_misspelt_op_key_with_its_path()
    {
        var run = CliRun.Of(["train", .. Overrides(epochs: 1), "-o", "DataLoader.Train.dataset.transform_ops.1.RandCropImage.sise=32", "--check"]);

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.StartWith("error: DataLoader.Train.dataset.transform_ops.1.RandCropImage.sise"));
        Assert.That(run.Error, Does.Contain("did you mean 'size'?"));
    }

    [Test]
    public void Train_writes_paddleclas_log_lines_and_checkpoints_then_eval_reads_best_model()
    {
        var train = CliRun.Of(["train", .. Overrides(epochs: 2)]);

        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string log = Log("train.log");
        Assert.That(log, Does.Match(@"\[Train\]\[Epoch 1/2\]\[Iter: 0/4\]lr\(Cosine\): 0\.\d{8}, CELoss: \d+\.\d{5}, loss: \d+\.\d{5}, top1: \d\.\d{5}, top2: \d\.\d{5}, batch_cost: \d+\.\d{5}s, reader_cost: \d+\.\d{5}, ips: \d+\.\d{5} samples/s, eta: \d+:\d\d:\d\d"));
        Assert.That(log, Does.Match(@"\[Train\]\[Epoch 2/2\]\[Avg\]CELoss: \d+\.\d{5}, loss: \d+\.\d{5}, top1: \d\.\d{5}, top2: \d\.\d{5}"));
        Assert.That(log, Does.Match(@"\[Eval\]\[Epoch 2\]\[Avg\]CELoss: \d+\.\d{5}, loss: \d+\.\d{5}, top1: \d\.\d{5}, top2: \d\.\d{5}"));
        Assert.That(log, Does.Contain("[Eval][Epoch 2][best metric: "));
        foreach (var file in new[] { "latest.safetensors", "latest.state.json", "latest.optim", "best_model.safetensors", "epoch_1.safetensors", "epoch_2.state.json" })
            Assert.That(File.Exists(Path.Combine(ModelDir, file)), Is.True, file);
        Assert.That(Directory.GetFiles(ModelDir, "*.tmp-*"), Is.Empty);

        var eval = CliRun.Of(["eval", .. Overrides(epochs: 2), "-o", $"Global.pretrained_model={ModelDir}/best_model"]);

        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        Assert.That(Log("eval.log"), Does.Match(@"\[Eval\]\[Epoch 0\]\[Avg\]CELoss: \d+\.\d{5}, loss: \d+\.\d{5}, top1: \d\.\d{5}, top2: \d\.\d{5}"));
    }

    [Test]
    public void Resuming_from_latest_continues_at_the_next_epoch()
    {
        Assert.That(CliRun.Of(["train", .. Overrides(epochs: 1)]).ExitCode, Is.EqualTo(0));

        var resumed = CliRun.Of(["train", .. Overrides(epochs: 2), "-o", $"Global.checkpoints={ModelDir}/latest"]);

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.Error);
        string log = Log("train.log");
        Assert.That(log, Does.Contain($"resume from {ModelDir}/latest: epoch 1 done, step 4"));
        Assert.That(log, Does.Contain("[Train][Epoch 2/2][Iter: 0/4]"));
        Assert.That(log.Split("[Train][Epoch 1/").Length - 1, Is.EqualTo(5), "epoch 1 ran once (4 step lines and its average), before the resume");
    }

    [Test]
    public void A_run_killed_mid_epoch_and_resumed_ends_with_the_weights_and_metrics_of_an_uninterrupted_run()
    {
        string[] Run() => [.. Overrides(epochs: 3), "-o", "DataLoader.Train.sampler.batch_size=4", "-o", "Optimizer.lr.learning_rate=0.02"]; // 8 steps an epoch
        Assert.That(CliRun.Of(["train", .. Run()]).ExitCode, Is.EqualTo(0));
        byte[] uninterrupted = File.ReadAllBytes(Path.Combine(ModelDir, "latest.safetensors"));
        string lastEval = LastEvalLine(Log("train.log"));
        NewOutput();

        var killed = CliRun.KilledWhen(line => line.Contains("[Train][Epoch 2/3][Iter: 2/8]"), ["train", .. Run()]);
        Assert.That(killed.Output, Does.Contain("[Train][Epoch 2/3][Iter: 2/8]"));
        Assert.That(killed.Output, Does.Not.Contain("training done"), "killed before the end");
        Assert.That(killed.ExitCode, Is.Not.EqualTo(0));

        var resumed = CliRun.Of(["train", .. Run(), "-o", $"Global.checkpoints={ModelDir}/latest"]);

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.Error);
        Assert.That(Log("train.log"), Does.Match(@"resume from .*latest: epoch [12] done"));
        Assert.That(File.ReadAllBytes(Path.Combine(ModelDir, "latest.safetensors")), Is.EqualTo(uninterrupted));
        Assert.That(LastEvalLine(Log("train.log")), Is.EqualTo(lastEval));
        Assert.That(Directory.GetFiles(ModelDir, "*.tmp-*"), Is.Empty);
    }

    /// <summary>The last `[Eval][Epoch N][Avg]...` line without its time stamp.</summary>
    static string LastEvalLine(string log) =>
        log.Split('\n').Last(l => l.Contains("[Eval][Epoch 3][Avg]")).Split("ppcls INFO: ")[1].Trim();

    [Test]
    public void The_same_seed_trains_to_byte_identical_weights_in_another_process()
    {
        Assert.That(CliRun.Of(["train", .. Overrides(epochs: 2)]).ExitCode, Is.EqualTo(0));
        byte[] first = File.ReadAllBytes(Path.Combine(ModelDir, "latest.safetensors"));
        NewOutput();

        var second = CliRun.InChildProcess(["train", .. Overrides(epochs: 2)]);
        Assert.That(second.ExitCode, Is.EqualTo(0), second.Error);

        Assert.That(File.ReadAllBytes(Path.Combine(ModelDir, "latest.safetensors")), Is.EqualTo(first));
    }

    [Test]
    public void Redirected_standard_output_gets_the_plain_paddleclas_lines_and_no_terminal_codes()
    {
        var train = CliRun.InChildProcess(["train", .. Overrides(epochs: 1)]);

        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string[] lines = train.Output.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        const string Prefix = @"^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\] ppcls INFO: ";
        Assert.That(lines, Has.All.Match(@"^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\] ppcls (INFO|WARN): "), "only log lines, no bar");
        Assert.That(lines.Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, Prefix + @"\[Train\]\[Epoch 1/1\]\[Iter: \d/4\]")), Is.EqualTo(4));
        Assert.That(train.Output.Contains('\u001b'), Is.False, "no terminal escape codes");
        string[] logged = File.ReadAllLines(Path.Combine(ModelDir, "train.log"));
        Assert.That(lines.Where(l => l.Contains("[Train]") || l.Contains("[Eval]")),
            Is.EqualTo(logged.Where(l => l.Contains("[Train]") || l.Contains("[Eval]"))), "the console and the file have the same lines");
    }

    [Test]
    public void Fine_tuning_to_another_class_count_loads_everything_but_the_classifier()
    {
        Assert.That(CliRun.Of(["train", .. Overrides(epochs: 1)]).ExitCode, Is.EqualTo(0));
        string weights = Path.Combine(ModelDir, "latest");
        NewOutput();

        var tuned = CliRun.Of(["train", .. Overrides(epochs: 1), "-o", "Arch.class_num=6", "-o", $"Arch.pretrained={weights}"]);

        Assert.That(tuned.ExitCode, Is.EqualTo(0), tuned.Error);
        string log = Log("train.log");
        Assert.That(log, Does.Contain($"{weights}.safetensors: classifier keys skipped (class_num differs, fine-tuning): fc.bias, fc.weight"));
        Assert.That(log, Does.Match(@"loaded \d+ tensors from "));
    }

    [Test]
    public void A_class_folder_tree_trains_with_the_class_folders_config_and_both_splits_share_the_written_map()
    {
        string tree = Path.Combine(_output, "custom");
        foreach (var (split, list) in new[] { ("train", "train_list.txt"), ("val", "val_list.txt") })
            foreach (var fields in File.ReadAllLines(Path.Combine(_demo.Data, list)).Select(l => l.Split(' ')))
            {
                string folder = Path.Combine(tree, split, "class" + fields[1]);
                Directory.CreateDirectory(folder);
                File.Copy(Path.Combine(_demo.Data, fields[0]), Path.Combine(folder, Path.GetFileName(fields[0])));
            }
        string map = Path.Combine(tree, "train", "label_list.txt");

        var run = CliRun.Of("train", "-c", Path.Combine(CliRun.RepoRoot, "configs", "quick_start", "PPLCNet_x0_25_class_folders.yaml"),
            "-o", $"Global.output_dir={_output}", "-o", "Global.epochs=1", "-o", "Arch.class_num=4",
            "-o", $"DataLoader.Train.dataset.image_root={tree}/train", "-o", $"DataLoader.Train.dataset.label_list_path={map}",
            "-o", $"DataLoader.Eval.dataset.image_root={tree}/val", "-o", $"DataLoader.Eval.dataset.label_list_path={map}",
            "-o", "DataLoader.Train.dataset.transform_ops.1.RandCropImage.size=32",
            "-o", "DataLoader.Eval.dataset.transform_ops.1.ResizeImage.resize_short=36", "-o", "DataLoader.Eval.dataset.transform_ops.2.CropImage.size=32",
            "-o", "Metric.Train.0.TopkAcc.topk=[1,2]", "-o", "Metric.Eval.0.TopkAcc.topk=[1,2]");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(File.ReadAllLines(map), Is.EqualTo(new[] { "0 class0", "1 class1", "2 class2", "3 class3" }));
        Assert.That(Log("train.log"), Does.Contain("ClassFolderDataset: wrote the label map"));
        Assert.That(Log("train.log"), Does.Match(@"\[Eval\]\[Epoch 1\]\[Avg\]CELoss: \d+\.\d{5}"));
        Assert.That(File.Exists(Path.Combine(tree, "val", "label_list.txt")), Is.False);
    }

    [Test]
    public void Resuming_with_another_class_num_says_to_fine_tune_instead()
    {
        Assert.That(CliRun.Of(["train", .. Overrides(epochs: 1)]).ExitCode, Is.EqualTo(0));

        var resumed = CliRun.Of(["train", .. Overrides(epochs: 2), "-o", "Arch.class_num=6", "-o", $"Global.checkpoints={ModelDir}/latest"]);

        Assert.That(resumed.ExitCode, Is.EqualTo(2));
        Assert.That(resumed.Error, Does.Contain("was trained as PPLCNet_x0_25 with class_num 4, but this config has PPLCNet_x0_25 with class_num 6"));
        Assert.That(resumed.Error, Does.Contain("set Global.pretrained_model instead"));
    }

    [Test]
    public void Eval_without_weights_says_which_key_to_set()
    {
        var eval = CliRun.Of(["eval", .. Overrides(epochs: 1)]);

        Assert.That(eval.ExitCode, Is.EqualTo(2));
        Assert.That(eval.Error, Does.StartWith("error: Global.pretrained_model: not set; pass -o Global.pretrained_model="));
    }

    [Test]
    public void A_label_outside_class_num_stops_before_training_naming_the_list_file()
    {
        var train = CliRun.Of(["train", .. Overrides(epochs: 1), "-o", "Arch.class_num=3"]);

        Assert.That(train.ExitCode, Is.EqualTo(2));
        Assert.That(train.Error, Does.Contain("train_list.txt:").And.Contain("label 3 is out of range for class_num 3"));
        Assert.That(train.Error, Does.Contain("the labels go up to 3: set Arch.class_num to at least 4 (-o Arch.class_num=4)"));
    }

    [Test]
    public void Far_fewer_labels_than_class_num_are_reported_before_training_but_do_not_stop_it()
    {
        var run = CliRun.Of(["train", .. Overrides(epochs: 1), "-o", "Arch.class_num=9", "--check"]);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(Log("train.log"), Does.Contain(
            $"ppcls WARN: DataLoader.Train.dataset.cls_label_path: {_demo.Data}/train_list.txt has 4 distinct labels but Arch.class_num is 9, " +
            "so 5 classifier outputs never see a training image; if this is not a subset on purpose, set -o Arch.class_num=4"));
        Assert.That(Log("train.log"), Does.Contain("check passed"));
    }

    [Test]
    public void A_class_num_matching_the_labels_gives_no_class_count_warning()
    {
        Assert.That(CliRun.Of(["train", .. Overrides(epochs: 1), "--check"]).ExitCode, Is.EqualTo(0));

        Assert.That(Log("train.log"), Does.Not.Contain("distinct label"));
    }

    /// <summary>The value of <paramref name="key"/> on the last log line that starts with <paramref name="prefix"/>.</summary>
    static double LoggedValue(string log, string prefix, string key)
    {
        string line = log.Split('\n').Last(l => l.Contains(prefix, StringComparison.Ordinal));
        var match = Regex.Match(line[line.IndexOf(prefix, StringComparison.Ordinal)..], $@"\b{key}: (\d+\.\d+)");
        Assert.That(match.Success, Is.True, $"{key} on: {line}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    static (int Width, int Height) PngSize(string path)
    {
        using var image = Cv2.ImRead(path, ImreadModes.Color);
        Assert.That(image.Empty(), Is.False, $"{path} does not decode");
        return (image.Width, image.Height);
    }

    [Test]
    public void Eval_writes_a_report_with_per_class_figures_and_a_confusion_matrix_png()
    {
        Assert.That(CliRun.Of(["train", .. Overrides(epochs: 1)]).ExitCode, Is.EqualTo(0));

        var eval = CliRun.Of(["eval", .. Overrides(epochs: 1), "-o", $"Global.pretrained_model={ModelDir}/latest"]);

        Assert.That(eval.ExitCode, Is.EqualTo(0), eval.Error);
        string log = Log("eval.log");
        string report = Path.Combine(ModelDir, "eval_report.json"), png = Path.Combine(ModelDir, "confusion_matrix.png");
        Assert.That(log, Does.Contain($"eval report: {report} and {png} (classes named by {_demo.Data}/label_list.txt)"));
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var root = json.RootElement;
        string[] names = File.ReadAllLines(Path.Combine(_demo.Data, "label_list.txt")).Select(l => l.Split(' ', 2)[1]).ToArray();
        Assert.That(names, Has.Length.EqualTo(4));
        Assert.That(root.GetProperty("class_names").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(names));
        Assert.That(root.GetProperty("weights").GetString(), Is.EqualTo($"{ModelDir}/latest.safetensors"));
        long[][] rows = root.GetProperty("confusion_matrix").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
        Assert.That(rows.Select(r => r.Sum()), Is.EqualTo(new long[] { 2, 2, 2, 2 }), "the val split holds 2 images per class");
        Assert.That(root.GetProperty("samples").GetInt64(), Is.EqualTo(8));
        double top1 = root.GetProperty("top1").GetDouble();
        Assert.That(top1, Is.EqualTo(Enumerable.Range(0, 4).Sum(i => rows[i][i]) / 8.0));
        Assert.That(top1, Is.EqualTo(LoggedValue(log, "[Eval][Epoch 0][Avg]", "top1")).Within(5e-6), "the same top-1 as the [Eval] line");
        var classes = root.GetProperty("classes").EnumerateArray().ToArray();
        for (int c = 0; c < 4; c++)
        {
            long predicted = rows.Sum(r => r[c]);
            Assert.That(classes[c].GetProperty("name").GetString(), Is.EqualTo(names[c]));
            Assert.That(classes[c].GetProperty("support").GetInt64(), Is.EqualTo(2));
            Assert.That(classes[c].GetProperty("recall").GetDouble(), Is.EqualTo(rows[c][c] / 2.0));
            Assert.That(classes[c].GetProperty("accuracy").GetDouble(), Is.EqualTo(rows[c][c] / 2.0));
            Assert.That(classes[c].GetProperty("precision").GetDouble(), Is.EqualTo(predicted == 0 ? 0 : (double)rows[c][c] / predicted));
        }
        Assert.That(PngSize(png), Is.EqualTo(ConfusionMatrixPlot.Size(4)));
        Assert.That(PngSize(png), Is.EqualTo((800, 640)));
        Assert.That(Directory.GetFiles(ModelDir, "*.tmp-*"), Is.Empty);
        Assert.That(Directory.Exists(Path.Combine(ModelDir, "tensorboard")), Is.False, "no TensorBoard files unless asked");
    }

    [Test]
    public void Training_curves_are_drawn_at_the_end_and_a_resumed_run_keeps_every_epoch_in_them()
    {
        Assert.That(CliRun.Of(["train", .. Overrides(epochs: 1)]).ExitCode, Is.EqualTo(0));
        string curves = Path.Combine(ModelDir, "training_curves.png");
        Assert.That(PngSize(curves), Is.EqualTo((TrainingCurvesPlot.Width, TrainingCurvesPlot.Height)));
        var first = CheckpointStore.Load(Path.Combine(ModelDir, "latest"), "test").State.History!;
        File.Delete(curves);

        var resumed = CliRun.Of(["train", .. Overrides(epochs: 2), "-o", $"Global.checkpoints={ModelDir}/latest"]);

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.Error);
        var history = CheckpointStore.Load(Path.Combine(ModelDir, "latest"), "test").State.History!;
        Assert.That(history.Select(r => r.Epoch), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(history[0], Is.EqualTo(first.Single()), "epoch 1 as the first run recorded it");
        string log = Log("train.log");
        foreach (var record in history)
        {
            Assert.That(record.TrainLoss, Is.EqualTo(LoggedValue(log, $"[Train][Epoch {record.Epoch}/", "loss")).Within(5e-6));
            Assert.That(record.EvalLoss, Is.EqualTo(LoggedValue(log, $"[Eval][Epoch {record.Epoch}][Avg]", "loss")).Within(5e-6));
            Assert.That(record.EvalTop1, Is.EqualTo(LoggedValue(log, $"[Eval][Epoch {record.Epoch}][Avg]", "top1")).Within(5e-6));
            Assert.That(record.LearningRate, Is.GreaterThan(0));
        }
        var best = CheckpointStore.Load(Path.Combine(ModelDir, "best_model"), "test").State;
        Assert.That(best.History!.Select(r => r.Epoch), Is.EqualTo(Enumerable.Range(1, best.BestEpoch)), "best_model holds the history up to its own epoch");
        Assert.That(log, Does.Contain($"training curves (2 epoch(s)): {curves}"));
        Assert.That(PngSize(curves), Is.EqualTo((900, 1050)));
    }

    [Test]
    public void Use_tensorboard_writes_train_scalars_per_print_step_and_eval_scalars_per_epoch()
    {
        var train = CliRun.Of(["train", .. Overrides(epochs: 1), "-o", "Global.use_tensorboard=True"]);

        Assert.That(train.ExitCode, Is.EqualTo(0), train.Error);
        string file = Directory.GetFiles(Path.Combine(ModelDir, "tensorboard"), "events.out.tfevents.*").Single();
        var (version, scalars) = EventFileReader.Read(file);
        Assert.That(version, Is.EqualTo("brain.Event:2"));
        Assert.That(scalars.Select(s => s.Tag).Distinct().Order(StringComparer.Ordinal), Is.EqualTo(new[]
        {
            "eval/CELoss", "eval/loss", "eval/top1", "eval/top2", "train/CELoss", "train/loss", "train/lr", "train/top1", "train/top2",
        }));
        Assert.That(scalars.Where(s => s.Tag == "train/loss").Select(s => s.Step), Is.EqualTo(new long[] { 0, 1, 2, 3 }), "print_batch_step=1, 4 iterations");
        Assert.That(scalars.Where(s => s.Tag == "train/lr").Select(s => s.Value), Is.Ordered.Ascending, "warm-up epoch");
        var top1 = scalars.Single(s => s.Tag == "eval/top1");
        Assert.That(top1.Step, Is.EqualTo(1));
        string log = Log("train.log");
        Assert.That(top1.Value, Is.EqualTo(LoggedValue(log, "[Eval][Epoch 1][Avg]", "top1")).Within(5e-6));
        Assert.That(log, Does.Contain($"TensorBoard scalars: {file}"));
    }
}
