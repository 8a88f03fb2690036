using Ppcls.Core.Distributed;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// A metric over the whole eval set rather than an average of batches (retrieval's Recallk and
/// mAP, TprAtFpr, ATTRMetric, MultiLabelMAP): the evaluator resets it, adds every batch, and logs
/// its result after the pass. Under mpirun each rank adds its shard; <see cref="Result"/> gathers
/// what every rank collected.
/// </summary>
public interface IDatasetMetric
{
    void Reset();
    void Add(ModelOutput output, Tensor labels);
    IReadOnlyDictionary<string, double> Result(ICommunicator world);

    /// <summary>Whether it reads 0/1 label vectors (Global.use_multilabel) rather than class ids.</summary>
    bool MultiLabel => false;

    /// <summary>Its part of the `[Eval][Avg]` line in PaddleClas's words; null: its values as `name: value`.</summary>
    string? AverageText(IReadOnlyDictionary<string, double> result) => null;

    /// <summary>Whether PaddleClas logs its text alone on the `[Avg]` line, without the losses (ATTRMetric).</summary>
    bool AverageTextAlone => false;
}
