using Ppcls.Core;
using Ppcls.Core.Checkpoint;
using Ppcls.Core.Logging;

namespace Ppcls.Tools.Cli;

/// <summary>
/// Loads `Global.pretrained_model` into the configured model for infer and export: the weights
/// must fit the model exactly, including the classifier (a checkpoint trained for another class
/// count is an error naming both counts, not a silently re-initialised head).
/// </summary>
public static class TrainedWeights
{
    public static string Load(RunSetup setup)
    {
        var c = setup.Config;
        string weights = c.Global.PretrainedModel
            ?? throw new PpclsUserException("Global.pretrained_model: not set; pass -o Global.pretrained_model=output/<Arch.name>/best_model (the trained weights)");
        string file = WeightLoader.Resolve(weights, "Global.pretrained_model");
        var tensors = WeightFile.Read(file, setup.Preset.TimmKeyMap);
        try
        {
            string classifierKey = setup.Preset.ClassifierKey;
            var report = WeightLoader.Load(setup.Model, tensors, classifierKey, c.Global.StrictLoad, file);
            if (report.SkippedClassifier.Count > 0)
            {
                long trained = tensors.TryGetValue(classifierKey, out var head) ? head.shape[0] : -1;
                throw new PpclsUserException(
                    $"{file}: the weights were trained for {trained} classes ({classifierKey} has {trained} rows) but Arch.class_num is {c.Arch.ClassNum}; pass -o Arch.class_num={trained}");
            }
            if (!report.Clean) PpclsLog.Warn($"{file}: loaded anyway (Global.strict_load=false): {WeightLoader.Describe(report)}");
            PpclsLog.Info($"loaded {report.Loaded} tensors from {file}");
            return file;
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }
}
