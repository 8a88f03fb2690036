using Ppcls.Core.Config;
using Ppcls.Core.Data;
using Ppcls.Core.Distributed;
using Ppcls.Core.Models;
using static TorchSharp.torch;

namespace Ppcls.Core.Engine;

/// <summary>
/// What the engine needs from the caller, composed by the CLI: the validated config, the built
/// model and a way to build its twin (for EMA), the model's preset, the data loader builder
/// (Ppcls.Data), the device, and the job's communicator (null: one process, no MPI).
/// </summary>
public sealed record TrainingSession(
    PpclsConfig Config,
    nn.Module<Tensor, Tensor> Model,
    Func<nn.Module<Tensor, Tensor>> BuildTwin,
    ModelPreset Preset,
    IDataLoaderBuilder Data,
    Device Device,
    ICommunicator? Communicator = null);
