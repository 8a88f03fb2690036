using Ppcls.Inference;

// dotnet run -- MODEL_FOLDER IMAGE [IMAGE ...]: top-5 classes per image with their names, one line each.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Ppcls.Inference.Sample MODEL_FOLDER IMAGE [IMAGE ...]  (MODEL_FOLDER: written by 'ppcls export')");
    return 2;
}
using var model = ExportedModel.Load(args[0]);
Console.WriteLine($"model {model.Name}, {model.Labels?.Count ?? 0} labelled classes");
foreach (var image in args.Skip(1))
{
    ClassResult result = model.Predict(image);
    Console.WriteLine(result.ToPredictLine());
}
// The same image as bytes and as a stream, and a batch: the same answer.
var first = model.Predict(File.ReadAllBytes(args[1]), Path.GetFileName(args[1]));
using var stream = File.OpenRead(args[1]);
var fromStream = model.Predict(stream, Path.GetFileName(args[1]));
var batch = model.PredictBatch([.. args.Skip(1)]);
Console.WriteLine($"bytes: {first.LabelNames.FirstOrDefault()} {first.Scores[0]:F5}; stream: {fromStream.LabelNames.FirstOrDefault()} {fromStream.Scores[0]:F5}; batch of {batch.Count}");
return 0;
