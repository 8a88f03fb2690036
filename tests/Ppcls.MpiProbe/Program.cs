using Ppcls.Core;
using Ppcls.Core.Config;
using Ppcls.Core.Distributed;
using Ppcls.Core.Engine;
using Ppcls.Core.Logging;
using Ppcls.Core.Models;
using Ppcls.Core.Native;
using Ppcls.Data;
using static TorchSharp.torch;

// Trains a toy network without BatchNorm with the real Trainer, data loader and checkpoints,
// in the job it was started in: `Ppcls.MpiProbe -c CONFIG [-o Key=value ...]`, with or without
// mpirun. BN statistics are per rank, so only a BN-free network reaches the same weights with
// 2 ranks x batch B as with 1 rank x batch 2B; that is what the distributed tests compare.
// `Ppcls.MpiProbe syncbn DIR` runs SyncBatchNormProbe instead.
NativeSetup.Initialize();
var world = World.Initialize();
if (world.Rank != 0) PpclsLog.ErrorsOnly();
int code = 0;
try
{
    if (args is ["syncbn", var syncBnOutput])
    {
        SyncBatchNormProbe.Run(world, syncBnOutput);
        World.Shutdown();
        return 0;
    }
    // ppcls's own options: -c CONFIG and any number of -o Key=value.
    string? configPath = null;
    var overrides = new List<string>();
    for (int i = 0; i + 1 < args.Length; i += 2)
        if (args[i] == "-c") configPath = args[i + 1];
        else if (args[i] == "-o") overrides.Add(args[i + 1]);
        else throw new PpclsUserException($"unexpected argument {args[i]}; usage: Ppcls.MpiProbe -c CONFIG [-o Key=value ...]");
    var config = PpclsConfig.Load(configPath ?? throw new PpclsUserException("usage: Ppcls.MpiProbe -c CONFIG [-o Key=value ...]"), overrides, PpclsLog.Info);
    int classNum = config.Arch.ClassNum;
    manual_seed(1000 + world.Rank); // every rank starts from other weights: training must take rank 0's
    var session = new TrainingSession(config, new BuiltModel(ToyNet(classNum), ModelPreset.ImageNet("conv1.weight", "fc")), () => ToyNet(classNum),
        new DataLoaderFactory(DataCatalog.CreateRegistry()), new Placement(CPU, config.Global.MemoryFormat), world);
    var result = new Trainer(session).Run();
    PpclsLog.Info($"probe done: {result.Epochs} epochs, rank {world.Rank} of {world.Size}");
}
catch (PpclsUserException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    code = 2;
}
finally
{
    PpclsLog.Close();
}
if (code != 0 && world.Size > 1) world.Abort(code);
World.Shutdown();
return code;

static nn.Module<Tensor, Tensor> ToyNet(int classNum) => nn.Sequential(
    ("conv1", nn.Conv2d(3, 8, 3, stride: 2, padding: 1)), ("relu1", nn.ReLU()),
    ("conv2", nn.Conv2d(8, 16, 3, stride: 2, padding: 1)), ("relu2", nn.ReLU()),
    ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(16, classNum)));
