namespace Ppcls.Core.Distributed;

/// <summary>
/// The job this process belongs to. <see cref="Initialize"/> joins Open MPI when the process was
/// started by `mpirun` (Open MPI sets OMPI_COMM_WORLD_SIZE); otherwise MPI is never loaded and the
/// process is a job of one (<see cref="SingleProcess"/>), exactly as without MPI.
/// </summary>
public static class World
{
    public const string SizeVariable = "OMPI_COMM_WORLD_SIZE";

    /// <summary>The communicator set by <see cref="Initialize"/>; a single process before that.</summary>
    public static ICommunicator Current { get; private set; } = SingleProcess.Instance;

    /// <summary>True when Open MPI's launcher started this process.</summary>
    public static bool LaunchedByMpirun => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(SizeVariable));

    /// <summary>Joins the job (MPI_Init under mpirun) and makes it <see cref="Current"/>; dispose at exit (MPI_Finalize).</summary>
    public static ICommunicator Initialize()
    {
        if (!LaunchedByMpirun) return Current = SingleProcess.Instance;
        try
        {
            Current = MpiCommunicator.Initialize(EnvironmentInt("OMPI_COMM_WORLD_LOCAL_RANK", 0), EnvironmentInt("OMPI_COMM_WORLD_LOCAL_SIZE", 1));
        }
        catch (DllNotFoundException e)
        {
            throw new PpclsUserException(
                $"started by mpirun ({SizeVariable}={Environment.GetEnvironmentVariable(SizeVariable)}) but Open MPI's {MpiNative.Library} cannot be loaded ({e.Message}); " +
                "install it with: apt-get install openmpi-bin libopenmpi3 (scripts/setup.sh does), or run without mpirun");
        }
        return Current;
    }

    /// <summary>
    /// Runs <paramref name="work"/> with <see cref="Current"/> a job of one: rank 0 running a command alone while the
    /// other ranks wait for it (<see cref="ICommunicator.WaitForRankZero"/>), so it calls no collective and takes all of
    /// the machine's cores, as the command does without mpirun.
    /// </summary>
    public static T RunAlone<T>(Func<T> work)
    {
        var job = Current;
        Current = SingleProcess.Instance;
        try
        {
            return work();
        }
        finally
        {
            Current = job;
        }
    }

    /// <summary>Finalizes MPI if it was joined; <see cref="Current"/> is a single process again.</summary>
    public static void Shutdown()
    {
        Current.Dispose();
        Current = SingleProcess.Instance;
    }

    static int EnvironmentInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) ? value : fallback;
}
