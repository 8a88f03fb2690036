namespace Ppcls.Serving;

/// <summary>GET /: the page (Page/index.html, embedded) where images are dropped or picked and their top-k shown as bars with the latency.</summary>
public static class WebPage
{
    public static string Html { get; } = Load();

    static string Load()
    {
        using var stream = typeof(WebPage).Assembly.GetManifestResourceStream("Ppcls.Serving.index.html")
            ?? throw new InvalidOperationException("Ppcls.Serving.index.html is missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
