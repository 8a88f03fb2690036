using Ppcls.Core.Data;
using Ppcls.Core.Logging;
using Ppcls.Core.Metric;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>
/// Before a distillation run trains, each frozen model (the teacher) is evaluated once on the
/// eval set and its top-1 logged; a teacher near chance (a random one is a mistake users make:
/// PaddleClas's <c>pretrained: True</c> downloads weights, Ppcls does not) gets a warning. On a
/// multi-label eval set (0/1 label vectors) its MultiLabelMAP is logged instead, without a chance
/// level (that depends on how often each label is positive).
/// </summary>
public static class TeacherCheck
{
    /// <summary>Each frozen model's eval top-1 (multi-label: MultiLabelMAP), by name (empty when the model is no distillation model).</summary>
    public static IReadOnlyDictionary<string, double> Run(nn.Module<Tensor, Tensor> model, IBatchSource? evalLoader, int classNum, Placement placement)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        if (model is not IDistillationModel distillation) return result;
        var frozen = distillation.Models.Where(m => m.Frozen).ToList();
        if (frozen.Count == 0) return result;
        if (evalLoader is null)
        {
            PpclsLog.Warn($"the frozen model(s) {string.Join(", ", frozen.Select(m => m.Name))} could not be checked: no eval set (DataLoader.Eval, Global.eval_during_train)");
            return result;
        }
        if (evalLoader.LabelSummary?.MultiLabel == true)
        {
            var map = new Evaluator(evalLoader, null, new MetricSet([], [new MultiLabelMap()]), placement, printBatchStep: 0);
            foreach (var teacher in frozen)
            {
                double value = map.Run(teacher.Module, epoch: 0)[MultiLabelMap.Name];
                result[teacher.Name] = value;
                PpclsLog.Info($"frozen model {teacher.Name} before training: MultiLabelMAP {value:F5} on the eval set ({evalLoader.SampleCount} images)");
            }
            return result;
        }
        var metrics = new MetricSet([new TopkAccuracy([1], PpclsLog.Warn)]);
        var evaluator = new Evaluator(evalLoader, null, metrics, placement, printBatchStep: 0);
        double chance = 1.0 / Math.Max(1, classNum);
        foreach (var teacher in frozen)
        {
            double top1 = evaluator.Run(teacher.Module, epoch: 0)[TopkAccuracy.Name(1)];
            result[teacher.Name] = top1;
            PpclsLog.Info($"frozen model {teacher.Name} before training: top1 {top1:F5} on the eval set ({evalLoader.SampleCount} images)");
            if (top1 < 2 * chance)
                PpclsLog.Warn($"frozen model {teacher.Name} is near chance (top1 {top1:F5}, chance {chance:F5}): it teaches nothing useful; " +
                    "load trained weights through its pretrained key or Arch.pretrained_list");
        }
        return result;
    }
}
