using System.Diagnostics;
using System.Runtime.InteropServices;
using Ppcls.Core.Logging;

namespace Ppcls.Core.Distributed;

/// <summary>
/// Waits for a nonblocking MPI collective for at most <see cref="Timeout"/> (`Global.dist_timeout_s`),
/// so that a rank which stays alive but stops answering (a paused process, a stuck loader, a lost
/// machine) cannot hold the others forever. While waiting, a rank answers the roll calls of the
/// others. When the deadline passes it calls the roll itself: the ranks that answer within a short
/// grace are waiting too, the rest are silent. The lowest rank that answers prints one line naming
/// the silent ranks and ends the job (MPI_Abort, exit code <see cref="ExitCode"/>); the other waiting
/// ranks end it a moment later in case that rank cannot. Checkpoints are written to a temporary file
/// and renamed, so `latest` is the last one completed.
/// </summary>
sealed unsafe class CollectiveDeadline(int rank, int size, object mpi)
{
    public const int ExitCode = 124;
    const int RollCallTag = 0x7c01, AnswerTag = 0x7c02;
    static readonly TimeSpan RollCallCheck = TimeSpan.FromMilliseconds(20);
    static readonly TimeSpan LongestGrace = TimeSpan.FromSeconds(10);
    static readonly TimeSpan ReporterHeadStart = TimeSpan.FromSeconds(3);

    // Sends from these may still be pending when the process ends, so they are never freed.
    readonly int* _sent = (int*)NativeMemory.AllocZeroed(sizeof(int));
    readonly int* _received = (int*)NativeMemory.AllocZeroed(sizeof(int));

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(600);

    /// <summary>
    /// Returns when <paramref name="completed"/> (a poll of the collective) says so; ends the job when
    /// <see cref="Timeout"/> passes first. Every MPI call here is made under the lock <c>mpi</c>.
    /// </summary>
    public void Wait(Func<bool> completed, string call)
    {
        long start = Stopwatch.GetTimestamp();
        var nextRollCallCheck = RollCallCheck;
        var spin = new SpinWait();
        while (true)
        {
            if (completed()) return;
            var waited = Stopwatch.GetElapsedTime(start);
            if (waited >= nextRollCallCheck)
            {
                AnswerRollCalls();
                nextRollCallCheck = waited + RollCallCheck;
            }
            if (waited >= Timeout) EndJob(call);
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    void AnswerRollCalls()
    {
        while (Probe(RollCallTag) is { } caller)
        {
            Receive(caller, RollCallTag);
            Send(caller, AnswerTag);
        }
    }

    /// <summary>The ranks other than this one that answer a roll call within the grace.</summary>
    HashSet<int> RollCall()
    {
        for (int peer = 0; peer < size; peer++)
            if (peer != rank) Send(peer, RollCallTag);
        var answered = new HashSet<int>();
        long start = Stopwatch.GetTimestamp();
        var grace = Timeout < LongestGrace ? Timeout : LongestGrace;
        while (answered.Count < size - 1 && Stopwatch.GetElapsedTime(start) < grace)
        {
            AnswerRollCalls();
            while (Probe(AnswerTag) is { } peer)
            {
                Receive(peer, AnswerTag);
                answered.Add(peer);
            }
            Thread.Sleep(1);
        }
        return answered;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    void EndJob(string call)
    {
        var answered = RollCall();
        var silent = Enumerable.Range(0, size).Where(r => r != rank && !answered.Contains(r)).ToList();
        int reporter = Enumerable.Range(0, size).First(r => r == rank || answered.Contains(r));
        if (reporter == rank)
        {
            Console.Error.WriteLine($"error: {Message(silent, call)}");
            PpclsLog.Close();
        }
        else Thread.Sleep(ReporterHeadStart);
        MpiNative.MPI_Abort(MpiNative.CommWorld, ExitCode);
        Environment.Exit(ExitCode); // MPI_Abort does not return; this says so to the compiler
    }

    string Message(List<int> silent, string call)
    {
        string limit = $"Global.dist_timeout_s = {Timeout.TotalSeconds:0.###} s";
        if (silent.Count == 0)
            return $"{call} did not complete within {limit} although all {size} ranks answer (they wait in different collectives); ending the job";
        string who = silent.Count == 1 ? $"rank {silent[0]}" : $"ranks {string.Join(", ", silent)}";
        return $"{who} of {size} did not reach {call} within {limit} and {(silent.Count == 1 ? "does" : "do")} not answer (stopped, stuck, or on a lost machine); " +
            "ending the job. Checkpoints written before are intact: resume with -o Global.checkpoints=OUTPUT_DIR/ARCH/latest, " +
            "or raise Global.dist_timeout_s if a rank is only slow";
    }

    int? Probe(int tag)
    {
        lock (mpi)
        {
            Check(MpiNative.MPI_Iprobe(MpiNative.AnySource, tag, MpiNative.CommWorld, out int found, out var status), "MPI_Iprobe");
            return found != 0 ? status.Source : null;
        }
    }

    /// <summary>Takes a probed (so already arrived) message.</summary>
    void Receive(int peer, int tag)
    {
        lock (mpi) Check(MpiNative.MPI_Recv(_received, 1, MpiNative.Int, peer, tag, MpiNative.CommWorld, MpiNative.StatusIgnore), "MPI_Recv");
    }

    void Send(int peer, int tag)
    {
        lock (mpi)
        {
            Check(MpiNative.MPI_Isend(_sent, 1, MpiNative.Int, peer, tag, MpiNative.CommWorld, out var request), "MPI_Isend");
            Check(MpiNative.MPI_Request_free(ref request), "MPI_Request_free"); // a silent peer never takes it; nothing waits for it
        }
    }

    static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error code {code}");
    }
}
