using Ppcls.Core.Checkpoint;
using Ppcls.Core.Config;
using Ppcls.Core.Data;
using Ppcls.Core.Distributed;
using Ppcls.Core.Engine;
using Ppcls.Core.Logging;
using Ppcls.Core.Models;
using Ppcls.Core.Quantization;
using Ppcls.Data;
using Ppcls.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Tools.Cli;

/// <summary>
/// What every config-driven command does first, as PaddleClas's engine does: open the
/// run's log file, pick the device, seed, and build the model from `Arch` (which validates
/// its options). Composes the registries of Ppcls.Models and Ppcls.Data for the engine.
/// </summary>
public sealed record RunSetup(PpclsConfig Config, Placement Placement, BuiltModel Built, ModelRegistry Registry)
{
    public nn.Module<Tensor, Tensor> Model => Built.Module;
    public ModelPreset Preset => Built.Preset;

    /// <param name="logName">The log file in `&lt;output_dir&gt;/&lt;Arch.name&gt;/`; null logs to the console only (benchmarks).</param>
    public static RunSetup Prepare((PpclsConfig Config, IReadOnlyList<string> Notices) loaded, string? logName)
    {
        var config = loaded.Config;
        if (logName is not null) PpclsLog.AddFile(Path.Combine(config.Global.OutputDir, config.Arch.Name, logName));
        foreach (var notice in loaded.Notices) PpclsLog.Info(notice);
        var device = DeviceSelector.Resolve(config.Global.Device, config.Tree["Global"] is ConfigMap g ? g["device"]?.Location : null);
        var world = World.Current;
        world.Timeout = config.Global.CollectiveTimeout;
        if (config.Global.NumThreads is { } threads) set_num_threads(threads);
        else if (world.LocalSize > 1) set_num_threads(Math.Max(1, Environment.ProcessorCount / world.LocalSize)); // ranks on one machine share its cores
        if (config.Global.Seed is { } seed) manual_seed(seed);
        var registry = ModelZoo.CreateRegistry();
        var built = ModelBuilder.BuildWithPreset(config.Arch, registry, PpclsLog.Info);
        if (config.QuantAware)
        {
            // PaddleClas re-parameterizes rep branches (PP-LCNetV2) before quantizing and then trains the merged conv; not done here.
            if (built.Module.modules().OfType<Ppcls.Models.Layers.RepDepthwiseSeparable>().Any(m => !m.IsReparameterized))
                throw ConfigException.At("Slim.quant", config.Tree["Slim"]?.Location,
                    $"quantization-aware training of {config.Arch.Name}, whose re-parameterizable branches PaddleClas merges before quantizing, is not supported; use a model without rep branches (PPLCNet, ResNet_vd, PPHGNet) or remove Slim");
            var (convs, linears) = QuantAware.Apply(built.Module);
            PpclsLog.Info($"Slim.quant (pact): quantization-aware training of {convs} Conv2D and {linears} Linear layers " +
                "(PACT inputs, int8 moving_average_abs_max activations with moving_rate 0.9, int8 channel_wise_abs_max weights)");
        }
        var placement = new Placement(device, config.Global.MemoryFormat);
        var model = placement.Model(built.Module); // in place: the parts' weight requests still point at the model's modules
        long parameters = model.parameters().Sum(p => p.numel());
        long frozen = model.parameters().Where(p => !p.requires_grad).Sum(p => p.numel());
        PpclsLog.Info($"config {config.SourcePath} is valid; model {config.Arch.Name} built with {parameters:N0} parameters" +
            (frozen > 0 ? $" ({frozen:N0} frozen)" : "") + $" on {device.type} ({ConfigSection.SnakeCase(config.Global.MemoryFormat)})" +
            (world.Size > 1 ? $", rank {world.Rank} of {world.Size} ({get_num_threads()} threads)" : ""));
        return new RunSetup(config, placement, built, registry);
    }

    /// <summary>A second instance of the configured model, quantization-aware as the first (EMA keeps its average in one).</summary>
    public nn.Module<Tensor, Tensor> BuildTwin()
    {
        var options = new ConfigSection((ConfigMap)Config.Arch.Options.Map.DeepClone(), Config.Arch.Options.Path);
        var twin = ModelBuilder.Build(Config.Arch with { Options = options }, Registry, _ => { });
        if (Config.QuantAware) QuantAware.Apply(twin);
        return twin;
    }

    public IDataLoaderBuilder DataLoaders() => new DataLoaderFactory(DataCatalog.CreateRegistry());

    public TrainingSession Session() => new(Config, Built, BuildTwin, DataLoaders(), Placement, World.Current);

    /// <summary>
    /// Eval, infer and export: loads the trained weights (`Arch.pretrained`, `Global.pretrained_model`,
    /// and what the model's parts name), which must fit the model, classifier included. Returns the file read last.
    /// </summary>
    public string LoadTrainedWeights() => ConfiguredWeights.LoadTrained(Built, Config, PpclsLog.Info, PpclsLog.Warn);

    /// <summary>The session's trainer, built from the config's Loss, Optimizer, Metric and DataLoader sections.</summary>
    public Trainer Trainer(ITrainingObserver? observer = null) => new(Session(), observer);
}
