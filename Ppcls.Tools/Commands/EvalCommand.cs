using System.CommandLine;
using Ppcls.Core;
using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Engine;
using Ppcls.Core.Logging;
using Ppcls.Core.Loss;
using Ppcls.Core.Metric;
using Ppcls.Core.Reporting;
using Ppcls.Tools.Cli;
using Ppcls.Tools.Reporting;

namespace Ppcls.Tools.Commands;

/// <summary>`ppcls eval -c CONFIG -o Global.pretrained_model=PATH`.</summary>
public static class EvalCommand
{
    public static Command Build()
    {
        var config = new ConfigOptions();
        var command = new Command("eval",
            "Evaluate a trained model on DataLoader.Eval: PaddleClas's [Eval] lines, plus eval_report.json and confusion_matrix.png " +
            "in <Global.output_dir>/<Arch.name>/; with Global.eval_mode: retrieval, Recallk and mAP of DataLoader.Eval.Query against .Gallery.\n\n" +
            "Example:\n  ppcls eval -c configs/quick_start/PPLCNet_x0_25_demo.yaml -o Global.pretrained_model=output/PPLCNet_x0_25/best_model");
        config.AddTo(command);
        command.SetAction(parse =>
        {
            var setup = RunSetup.Prepare(config.Load(parse), "eval.log");
            var c = setup.Config;
            if (c.Global.EvalMode == EvalMode.Retrieval) return Retrieval(setup, parse);
            var evalConfig = c.DataLoader?.Eval ?? throw new PpclsUserException("DataLoader.Eval: missing; add the eval loader to the config");
            string file = setup.LoadTrainedWeights();
            using var loader = setup.DataLoaders().Build(evalConfig, c.Arch.ClassNum, c.Global.Seed, PpclsLog.Info);
            var loss = LossFactory.Build(c.Loss.Eval, PpclsLog.Info, new LossContext(c.Arch.ClassNum, null, "the training list", PpclsLog.Info));
            var metrics = MetricFactory.Build(c.Metric.Eval, PpclsLog.Info, PpclsLog.Warn);
            MultiLabelMode.Check(c.Global.UseMultilabel, loader.LabelSummary, "DataLoader.Eval", metrics, "Metric.Eval");
            var names = ClassNames.ForEval(c, PpclsLog.Warn);
            var confusion = new ConfusionMatrix(c.Arch.ClassNum);
            var result = ProgressDisplay.Run(ProgressDisplay.For(parse.InvocationConfiguration.Output), observer =>
                new Evaluator(loader, loss, metrics, setup.Placement, c.Global.PrintBatchStep, observer).Run(setup.Model, epoch: 0, confusion));
            if (c.Global.UseMultilabel)
                PpclsLog.Info("eval report: a multi-label model has no class confusion matrix; the [Eval] lines above hold its metrics");
            else WriteReport(Path.Combine(c.Global.OutputDir, c.Arch.Name), EvalReport.Create(c.Arch.Name, file, confusion, names, result.Values), confusion);
            return 0;
        });
        return command;
    }

    /// <summary>`Global.eval_mode: retrieval`: Recallk and mAP of the query set against the gallery; no confusion matrix.</summary>
    static int Retrieval(RunSetup setup, ParseResult parse)
    {
        var c = setup.Config;
        setup.LoadTrainedWeights();
        var metrics = MetricFactory.Build(c.Metric.Eval, PpclsLog.Info, PpclsLog.Warn, c.Global.Retrieval);
        ProgressDisplay.Run(ProgressDisplay.For(parse.InvocationConfiguration.Output), observer =>
        {
            using var evaluator = RetrievalEvaluator.Build(c, setup.DataLoaders(), metrics, c.Global.Seed, setup.Placement, observer, null, PpclsLog.Info);
            return evaluator.Run(setup.Model, epoch: 0);
        });
        return 0;
    }

    static void WriteReport(string dir, EvalReport report, ConfusionMatrix confusion)
    {
        if (confusion.Total == 0)
        {
            PpclsLog.Warn("eval report: no sample with a class label was evaluated (soft labels only?), so no eval_report.json or confusion_matrix.png");
            return;
        }
        string json = Path.GetFullPath(Path.Combine(dir, EvalReport.FileName));
        string png = Path.GetFullPath(Path.Combine(dir, ConfusionMatrixPlot.FileName));
        report.Write(json);
        ConfusionMatrixPlot.Save(png, confusion, report.ClassNames);
        PpclsLog.Info($"eval report: {json} and {png} (classes named by {report.ClassNamesSource ?? "their ids"})");
    }
}
