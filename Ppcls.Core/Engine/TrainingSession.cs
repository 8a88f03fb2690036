using Ppcls.Core.Config;
using Ppcls.Core.Data;
using Ppcls.Core.Distributed;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>
/// What the engine needs from the caller, composed by the CLI: the validated config, the built
/// model (with its preset and the weights its parts name) and a way to build its twin (for EMA),
/// the data loader builder (Ppcls.Data), the device and memory format, and the job's communicator (null: one process, no MPI).
/// </summary>
public sealed record TrainingSession(
    PpclsConfig Config,
    BuiltModel Built,
    Func<nn.Module<Tensor, Tensor>> BuildTwin,
    IDataLoaderBuilder Data,
    Placement Placement,
    ICommunicator? Communicator = null)
{
    public nn.Module<Tensor, Tensor> Model => Built.Module;
    public ModelPreset Preset => Built.Preset;
}
