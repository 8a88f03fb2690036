namespace Ppcls.Core.Checkpoint.Pickle;

/// <summary>A global the unpickler may call (REDUCE) with the positional arguments of the pickle.</summary>
public interface IPickleCallable
{
    object Call(object?[] args);
}

/// <summary>An object whose state a pickle sets after construction (BUILD, Python's __setstate__).</summary>
public interface IPickleBuildable
{
    void SetState(object? state);
}

/// <summary>A reference to an allowed global, for globals that are only passed as arguments (numpy.ndarray, torch.FloatStorage).</summary>
public sealed record PickleGlobal(string Module, string Name) : IPickleCallable
{
    public string FullName => Module + "." + Name;

    public object Call(object?[] args) =>
        throw new PickleException($"the global {FullName} is allowed only as an argument, not as a call");
}

/// <summary>A malformed or refused pickle; the caller adds the file name.</summary>
public sealed class PickleException(string message) : Exception(message);
