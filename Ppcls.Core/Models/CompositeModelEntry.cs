using Ppcls.Core.Config;

namespace Ppcls.Core.Models;

/// <summary>
/// An architecture assembled from registered models (PaddleClas's <c>DistillationModel</c>,
/// <c>RecModel</c>): its factory reads its own Arch options, builds the parts through the
/// registry, and validates every key it reads (the caller finishes the top-level section).
/// </summary>
public sealed record CompositeModelEntry(string Name, Func<ConfigSection, ModelRegistry, Action<string>, BuiltModel> Create);
