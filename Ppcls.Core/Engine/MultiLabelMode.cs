using Ppcls.Core.Config;
using Ppcls.Core.Data;
using Ppcls.Core.Metric;

namespace Ppcls.Core.Engine;

/// <summary>
/// `Global.use_multilabel` against what the run is built of: a multi-label run needs a data set of
/// 0/1 label vectors (MultiLabelDataset) and metrics that read them (ATTRMetric, MultiLabelMAP,
/// HammingDistance, AccuracyScore); a single-label run needs the opposite. A mismatch is one line
/// naming the key to change, before any step runs.
/// </summary>
public static class MultiLabelMode
{
    /// <summary>
    /// ATTRMetric and MultiLabelMAP are measured over the whole eval set; listed under Metric.Train
    /// they would never be computed (PaddleClas fails on them there), so they are refused.
    /// </summary>
    public static void CheckTrainMetrics(MetricSet? metrics)
    {
        if (metrics is null || !metrics.DatasetMetrics.Any(m => m.MultiLabel)) return;
        throw ConfigException.At("Metric.Train", null,
            $"{string.Join(", ", metrics.LabelKinds.MultiLabel.Where(n => n is "ATTRMetric" or "MultiLabelMAP"))} is measured over the whole eval set; list it under Metric.Eval (HammingDistance and AccuracyScore work in Metric.Train)");
    }

    public static void Check(bool useMultilabel, LabelSummary? labels, string loaderKey, MetricSet? metrics, string metricKey)
    {
        bool vectors = labels?.MultiLabel == true;
        if (useMultilabel && labels is not null && !vectors)
            throw ConfigException.At($"{loaderKey}.dataset.name", null,
                "Global.use_multilabel is True, but this data set gives one class id per image; use MultiLabelDataset (lines 'path<TAB>0,1,0,...') or set Global.use_multilabel: False");
        if (!useMultilabel && vectors)
            throw ConfigException.At("Global.use_multilabel", null,
                $"{loaderKey} is a multi-label data set (0/1 label vectors); set Global.use_multilabel: True");
        if (metrics is null) return;
        var (multiLabel, singleLabel) = metrics.LabelKinds;
        if (useMultilabel && singleLabel.Count > 0)
            throw ConfigException.At(metricKey, null,
                $"{string.Join(", ", singleLabel)} reads class ids, but Global.use_multilabel is True; use ATTRMetric, MultiLabelMAP, HammingDistance or AccuracyScore");
        if (!useMultilabel && multiLabel.Count > 0)
            throw ConfigException.At(metricKey, null,
                $"{string.Join(", ", multiLabel)} reads 0/1 label vectors; set Global.use_multilabel: True with a MultiLabelDataset, or use TopkAcc");
    }
}
