namespace Ppcls.Core.Distributed;

/// <summary>
/// A collective that has been started and may still be running (MPI_Iallreduce and its request).
/// Its buffer must not be read or written until it is complete. Safe to poll from several threads.
/// </summary>
public interface IPendingCollective
{
    /// <summary>True once a poll (<see cref="Test"/>, <see cref="Wait"/>, the communication thread's) has seen it complete; never blocks.</summary>
    bool IsComplete { get; }

    /// <summary>True once the collective has completed (a poll: it may advance the communication).</summary>
    bool Test();

    /// <summary>Returns when the collective has completed; ends the job after the communicator's timeout.</summary>
    void Wait();
}

/// <summary>A collective that completed as it started (one rank, or a blocking stand-in).</summary>
public sealed class CompletedCollective : IPendingCollective
{
    public static readonly CompletedCollective Instance = new();
    CompletedCollective() { }
    public bool IsComplete => true;
    public bool Test() => true;
    public void Wait() { }
}
