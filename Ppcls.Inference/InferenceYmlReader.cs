using System.Globalization;
using OpenCvSharp;
using Ppcls.Inference.Preprocessing;
using YamlDotNet.RepresentationModel;

namespace Ppcls.Inference;

/// <summary>
/// Reads the `inference.yml` that `ppcls export` writes, for <see cref="ExportedModel"/> (the NuGet package, without
/// Ppcls.Core): `Global.model_name`, `PreProcess.transform_ops` (DecodeImage, ResizeImage, CropImage, NormalizeImage,
/// ToCHWImage with the keys export writes) and `PostProcess.Topk` (topk, label_list). Anything else is refused with one
/// line that points at `ppcls predict`, which reads every PaddleClas deploy key (Ppcls.Core's DeployConfig).
/// </summary>
public static class InferenceYmlReader
{
    public sealed record Contents(string? ModelName, DeployPreprocessor Preprocessor, int Topk, IReadOnlyList<string>? Labels);

    public static Contents Read(string path)
    {
        if (!File.Exists(path)) throw new UserInputException($"{path} not found: export the model with 'ppcls export' (it writes inference.yml beside inference.onnx)");
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            yaml.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new UserInputException($"{path}: not valid YAML ({e.Message})");
        }
        var root = yaml.Documents.Count > 0 ? yaml.Documents[0].RootNode as YamlMappingNode : null;
        if (root is null) throw new UserInputException($"{path}: expected a mapping with Global, PreProcess and PostProcess");
        string? name = Child(Child(root, "Global"), "model_name") is YamlScalarNode n ? n.Value : null;
        var ops = Child(Child(root, "PreProcess"), "transform_ops") as YamlSequenceNode
            ?? throw new UserInputException($"{path}: PreProcess.transform_ops is missing; export the model again");
        var (preprocessor, _) = Ops(ops, path);
        var post = Child(root, "PostProcess") as YamlMappingNode;
        int topk = 1;
        IReadOnlyList<string>? labels = null;
        if (post is not null)
        {
            foreach (var (key, _) in post.Children)
                if (((YamlScalarNode)key).Value is not ("Topk" or "main_indicator"))
                    throw new UserInputException($"{path}: PostProcess.{key} is not read by Ppcls.Inference's ExportedModel (Topk only); run the folder with 'ppcls predict', or use {key}'s IPostProcess class directly");
            if (Child(post, "Topk") is YamlMappingNode t)
            {
                topk = Child(t, "topk") is YamlScalarNode k ? Int(k, path, "PostProcess.Topk.topk") : 1;
                labels = Child(t, "label_list") is YamlSequenceNode list ? [.. list.Children.Select(l => ((YamlScalarNode)l).Value ?? "")] : null;
            }
        }
        return new Contents(name, preprocessor, topk, labels);
    }

    static (DeployPreprocessor, bool) Ops(YamlSequenceNode list, string path)
    {
        var ops = new List<IPreprocessOp>();
        bool toRgb = true;
        foreach (var item in list.Children)
        {
            if (item is not YamlMappingNode { Children.Count: 1 } entry) throw new UserInputException($"{path}: PreProcess.transform_ops: each entry is one op, e.g. - CropImage: {{size: 224}}");
            var (key, value) = entry.Children.First();
            string op = ((YamlScalarNode)key).Value ?? "";
            var options = value as YamlMappingNode;
            string where = $"{path}: PreProcess.transform_ops.{op}";
            switch (op)
            {
                case "DecodeImage":
                    toRgb = Child(options, "to_rgb") is not YamlScalarNode rgb || Bool(rgb);
                    break;
                case "ResizeImage":
                    int? resizeShort = Child(options, "resize_short") is YamlScalarNode r ? Int(r, path, where + ".resize_short") : null;
                    Size? size = Child(options, "size") is { } s ? SizeOf(s, where + ".size") : null;
                    if (resizeShort is null && size is null) throw new UserInputException($"{where}: needs size or resize_short");
                    ops.Add(new ResizeOp(size, resizeShort, Interpolation(Child(options, "interpolation"), where)));
                    break;
                case "CropImage":
                    ops.Add(new CropOp(SizeOf(Child(options, "size") ?? throw new UserInputException($"{where}: needs size"), where + ".size")));
                    break;
                case "NormalizeImage":
                    double scale = Child(options, "scale") is YamlScalarNode sc ? Number(sc.Value ?? "", where + ".scale") : 1.0 / 255.0;
                    ops.Add(new NormalizeOp(scale, Numbers(Child(options, "mean"), [0.485, 0.456, 0.406], where + ".mean"), Numbers(Child(options, "std"), [0.229, 0.224, 0.225], where + ".std")));
                    break;
                case "ToCHWImage":
                    ops.Add(new ToChwOp());
                    break;
                default:
                    throw new UserInputException($"{where}: not an op Ppcls.Inference's ExportedModel reads (DecodeImage, ResizeImage, CropImage, NormalizeImage, ToCHWImage); run the folder with 'ppcls predict'");
            }
        }
        return (new DeployPreprocessor(ops, toRgb), toRgb);
    }

    static YamlNode? Child(YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    static bool Bool(YamlScalarNode node) => node.Value is "True" or "true" or "1";

    static int Int(YamlScalarNode node, string path, string key) =>
        int.TryParse(node.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new UserInputException($"{key}: expected an integer, got '{node.Value}' ({path})");

    /// <summary>A number, or a quotient such as `1.0/255.0` as PaddleClas's configs write the scale.</summary>
    static double Number(string text, string key)
    {
        var parts = text.Split('/');
        if (parts.Length is 1 or 2 && parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
        {
            var values = parts.Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            return values.Length == 1 ? values[0] : values[0] / values[1];
        }
        throw new UserInputException($"{key}: expected a number, got '{text}'");
    }

    static double[] Numbers(YamlNode? node, double[] fallback, string key) =>
        node is YamlSequenceNode list ? [.. list.Children.Select(c => Number(((YamlScalarNode)c).Value ?? "", key))] : fallback;

    static Size SizeOf(YamlNode node, string key) => node switch
    {
        YamlScalarNode s => new Size(Int(s, "", key), Int(s, "", key)),
        YamlSequenceNode { Children.Count: 2 } l => new Size(Int((YamlScalarNode)l.Children[0], "", key), Int((YamlScalarNode)l.Children[1], "", key)),
        _ => throw new UserInputException($"{key}: expected a size (224 or [w, h])"),
    };

    static InterpolationFlags Interpolation(YamlNode? node, string where) => (node as YamlScalarNode)?.Value switch
    {
        null or "" or "bilinear" or "linear" or "1" or "INTER_LINEAR" => InterpolationFlags.Linear,
        "nearest" or "0" or "INTER_NEAREST" => InterpolationFlags.Nearest,
        "bicubic" or "cubic" or "2" or "INTER_CUBIC" => InterpolationFlags.Cubic,
        "area" or "box" or "3" or "INTER_AREA" => InterpolationFlags.Area,
        "lanczos" or "4" or "INTER_LANCZOS4" => InterpolationFlags.Lanczos4,
        var other => throw new UserInputException($"{where}.interpolation: '{other}' is not read by ExportedModel; use bilinear, bicubic, nearest, area or lanczos"),
    };
}
