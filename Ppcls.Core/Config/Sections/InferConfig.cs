namespace Ppcls.Core.Config.Sections;

/// <summary>`Infer`: images to predict, their transforms, and the post-process (`Topk`, `ThreshOutput`, ..., read by <c>PostProcessFactory</c>).</summary>
public sealed record InferConfig(
    string? InferImgs,
    int BatchSize,
    IReadOnlyList<NamedEntry> Transforms,
    string? PostProcessName,
    ConfigSection? PostProcess,
    string? SaveDir)
{
    public static InferConfig Read(ConfigSection s, Action<string> notice)
    {
        var post = s.OptionalSection("PostProcess");
        var config = new InferConfig(
            s.OptionalString("infer_imgs"),
            s.Int("batch_size", 1),
            s.OptionalNamedList("transforms") ?? [],
            post?.RequiredString("name", "Topk"),
            post,
            s.OptionalString("save_dir"));
        s.Finish(notice);
        return config;
    }
}
