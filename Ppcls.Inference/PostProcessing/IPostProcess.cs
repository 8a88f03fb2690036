namespace Ppcls.Inference;

/// <summary>
/// A PaddleClas post-process by its name (`Topk`, `ThreshOutput`, `MultiLabelThreshOutput`,
/// `PersonAttribute`, `VehicleAttribute`, `TableAttribute`): one image's scores (after
/// <see cref="Activation"/>) to its result. `ppcls infer` and `ppcls predict` run the same
/// instance type, so the formula exists once.
/// </summary>
public interface IPostProcess
{
    /// <summary>The PaddleClas name, the key of its `PostProcess` entry.</summary>
    string Name { get; }

    /// <summary>The activation the model's output goes through first.</summary>
    OutputActivation Activation { get; }

    /// <summary>Fails with one line (naming its key or label map, then <paramref name="fix"/>) when the model's class count does not fit.</summary>
    void CheckClassCount(int classes, string fix);

    IPredictionResult Apply(ReadOnlySpan<float> scores, string fileName);

    /// <summary>Its options as `inference.yml` holds them, in order (numbers, strings, string lists; class names inline as `label_list`).</summary>
    IReadOnlyList<KeyValuePair<string, object>> DeployOptions { get; }
}

/// <summary>One image's post-processed result, printed as PaddleClas prints it.</summary>
public interface IPredictionResult
{
    string FileName { get; }

    /// <summary>Python's repr of the dict PaddleClas's `tools/infer.py` logs (a batch is logged as one list of them).</summary>
    string ToPythonRepr();

    /// <summary>The line PaddleClas's deploy predictor (`predict_cls.py`) prints for the image.</summary>
    string ToPredictLine();
}
