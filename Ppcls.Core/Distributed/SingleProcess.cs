using static TorchSharp.torch;

namespace Ppcls.Core.Distributed;

/// <summary>A job of one rank: sums and broadcasts leave every value as it is.</summary>
public sealed class SingleProcess : ICommunicator
{
    public static readonly SingleProcess Instance = new();

    SingleProcess() { }

    public int Rank => 0;
    public int Size => 1;
    public int LocalRank => 0;
    public int LocalSize => 1;
    public string Backend => "single";
    public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;

    public void AllReduceSum(Tensor buffer) { }
    public void AllReduceSum(double[] values) { }
    public void Broadcast(Tensor buffer, int root) { }
    public void Broadcast(long[] values, int root) { }
    public void WaitForRankZero() { }
    public void Abort(int exitCode) => Environment.Exit(exitCode);
    public void Dispose() { }
}
