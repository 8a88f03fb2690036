namespace Ppcls.Inference.Tests;

/// <summary>Ppcls.Inference serves an exported model without TorchSharp: its assembly says so.</summary>
public sealed class DependencyTests
{
    [Test]
    public void The_inference_assembly_references_onnx_runtime_and_opencv_but_no_torchsharp_and_no_other_ppcls_assembly()
    {
        var references = typeof(OnnxClassifier).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.That(references, Does.Contain("Microsoft.ML.OnnxRuntime"));
        Assert.That(references, Does.Contain("OpenCvSharp"));
        Assert.That(references.Where(n => n.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase)), Is.Empty);
        Assert.That(references.Where(n => n.StartsWith("Ppcls", StringComparison.Ordinal)), Is.Empty);
    }
}
