namespace Ppcls.Tools.Cli;

/// <summary>What a command does when `mpirun -np N` (N &gt; 1) starts it; each command's is in <see cref="RankRules"/>.</summary>
public enum RankRule
{
    /// <summary>Every rank runs it and the ranks share the work (train, eval, benchmark dist).</summary>
    DataParallel,

    /// <summary>
    /// Rank 0 runs it alone, with all of the machine's cores, as without mpirun; the other ranks wait for it to finish
    /// and exit 0 without a word. Its output is printed, and its files written, once.
    /// </summary>
    RankZeroOnly,

    /// <summary>No rank runs it: rank 0 prints one line saying to run it without mpirun, and every rank exits 2.</summary>
    Refused,
}
