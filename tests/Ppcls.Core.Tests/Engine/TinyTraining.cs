using Ppcls.Core.Config;
using Ppcls.Core.Config.Sections;
using Ppcls.Core.Data;
using Ppcls.Core.Engine;
using Ppcls.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Ppcls.Core.Tests.Engine;

/// <summary>A training session on in-memory data (4 batches of 8 random 3x12x12 images, 3 classes unless asked) for engine tests.</summary>
static class TinyTraining
{
    public const int ClassNum = 3, Batches = 4;

    /// <summary>Hands out the same in-memory batches for every loader and epoch.</summary>
    sealed class MemoryLoaders : IDataLoaderBuilder
    {
        public IBatchSource Build(LoaderConfig config, int classNum, long? seed, Action<string> notice) =>
            InMemoryBatchSource.Random([8, 3, 12, 12], softLabels: false, classNum, Batches, seed ?? 0);
    }

    public static nn.Module<Tensor, Tensor> Net(bool batchNorm = true, int classNum = ClassNum) => batchNorm
        ? nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(4)), ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(4, classNum)))
        : nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(4, classNum)));

    /// <param name="global">Extra `Global` keys, e.g. "epochs: 2, update_freq: 2".</param>
    /// <param name="evalMetric">Metric.Eval's list; "[]" evaluates the loss alone.</param>
    /// <param name="extra">More top-level YAML (an EMA section, say).</param>
    public static TrainingSession Session(string output, string global, string evalMetric = "[{TopkAcc: {topk: [1, 2]}}]",
        double learningRate = 0.01, bool batchNorm = true, string extra = "", int classNum = ClassNum)
    {
        string yaml = $$$"""
            Global: {output_dir: '{{{output}}}', seed: 5, print_batch_step: 1, {{{global}}}}
            Arch: {name: Tiny, class_num: {{{classNum}}}}
            Loss:
              Train: [{CELoss: {weight: 1.0}}]
              Eval: [{CELoss: {weight: 1.0}}]
            Metric:
              Train: [{TopkAcc: {topk: [1, 2]}}]
              Eval: {{{evalMetric}}}
            Optimizer: {name: Momentum, momentum: 0.9, lr: {name: Constant, learning_rate: {{{learningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}}}
            DataLoader:
              Train: {dataset: {name: Memory}, sampler: {name: BatchSampler, batch_size: 8}}
              Eval: {dataset: {name: Memory}, sampler: {name: BatchSampler, batch_size: 8}}
            {{{extra}}}
            """;
        var config = PpclsConfig.FromTree(YamlConfigReader.Read(new StringReader(yaml), "t.yaml"), "t.yaml", _ => { });
        var placement = new Placement(CPU, config.Global.MemoryFormat);
        return new TrainingSession(config, new BuiltModel(placement.Model(Net(batchNorm, classNum)), ModelPreset.ImageNet("conv.weight", "fc")),
            () => Net(batchNorm, classNum), new MemoryLoaders(), placement);
    }
}
