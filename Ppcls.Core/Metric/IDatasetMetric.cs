using Ppcls.Core.Distributed;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Metric;

/// <summary>
/// A metric over the whole eval set rather than an average of batches (retrieval's Recallk and
/// mAP, TprAtFpr): the evaluator resets it, adds every batch, and logs its result after the pass.
/// Under mpirun each rank adds its shard; <see cref="Result"/> gathers what every rank collected.
/// </summary>
public interface IDatasetMetric
{
    void Reset();
    void Add(ModelOutput output, Tensor labels);
    IReadOnlyDictionary<string, double> Result(ICommunicator world);
}
