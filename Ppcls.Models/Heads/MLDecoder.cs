using Ppcls.Core.Onnx;
using Ppcls.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Models.Heads;

/// <summary>The options PaddleClas's <c>MLDecoder</c> section gives, with its defaults.</summary>
public sealed record MLDecoderOptions(
    int ClassNum,
    int InChannels = 2048,
    int QueryNum = 80,
    int EmbedDim = 768,
    int Depth = 1,
    int NumHeads = 8,
    int MlpHiddenDim = 2048,
    double Dropout = 0.1,
    bool Gelu = false,
    bool FreezeQueryEmbed = true)
{
    /// <summary>PaddleClas clamps query_num to 1..class_num.</summary>
    public int Queries => Math.Min(Math.Max(QueryNum, 1), ClassNum);

    /// <summary>Outputs per query: ceil(class_num / queries); the extra ones of the last group are cut off.</summary>
    public int GroupFactor => (ClassNum + Queries - 1) / Queries;
}

/// <summary>
/// ML-Decoder (Ridnik et al., 2021), PaddleClas's <c>MLDecoder</c> head, replacing a network's <c>fc</c>:
/// the [N, in_channels, H, W] map through <c>input_proj</c> (1x1 conv) and ReLU is the memory of
/// <c>depth</c> decoder layers (<see cref="MLDecoderLayer"/>) whose queries are the learned
/// <c>query_pos_embed</c> (frozen with freeze_query_embed); each query's output embedding then gets its
/// own group of ceil(class_num / query_num) logits (<c>group_conv</c>, a grouped 1x1 conv), cut to
/// class_num. A 2-D input [N, k in_channels] is read as [N, in_channels, k, 1], as PaddleClas does.
/// </summary>
public sealed class MLDecoder : ScopedBlock, IOnnxExportable
{
    readonly Conv2d input_proj;
    readonly Embedding query_pos_embed;
    readonly MLDecoderStack decoder;
    readonly Conv2d group_conv;

    public MLDecoder(MLDecoderOptions options) : base("MLDecoder")
    {
        Options = options;
        input_proj = nn.Conv2d(options.InChannels, options.EmbedDim, 1);
        query_pos_embed = nn.Embedding(options.Queries, options.EmbedDim);
        decoder = new MLDecoderStack(options);
        group_conv = nn.Conv2d(options.Queries * (long)options.EmbedDim, options.Queries * (long)options.GroupFactor, 1, groups: options.Queries);
        using (no_grad())
        {
            nn.init.normal_(query_pos_embed.weight!);
            nn.init.xavier_normal_(group_conv.weight!);
            group_conv.bias!.zero_();
        }
        if (options.FreezeQueryEmbed) query_pos_embed.weight!.requires_grad = false;
        RegisterComponents();
    }

    public MLDecoderOptions Options { get; }

    protected override Tensor ForwardInScope(Tensor x)
    {
        var memory = nn.functional.relu(input_proj.call(Spatial(x))).flatten(2).transpose(1, 2);
        var queries = query_pos_embed.weight!.unsqueeze(0).expand(x.shape[0], -1, -1);
        var embedded = decoder.Forward(queries, memory);
        var logits = group_conv.call(embedded.flatten(1).unsqueeze(-1).unsqueeze(-1)).flatten(1);
        return logits.narrow(1, 0, Options.ClassNum);
    }

    Tensor Spatial(Tensor x)
    {
        if (x.dim() == 2 && x.shape[1] % Options.InChannels == 0) return x.reshape(x.shape[0], Options.InChannels, -1, 1);
        if (x.dim() == 3 && x.shape[1] == Options.InChannels) return x.unsqueeze(-1);
        if (x.dim() == 4 && x.shape[1] == Options.InChannels) return x;
        throw new ArgumentException($"MLDecoder: expected [N, {Options.InChannels}, H, W] features (MLDecoder.in_channels), got [{string.Join(", ", x.shape)}]");
    }

    public string ToOnnx(OnnxGraph graph, string input)
    {
        string projected = graph.Relu(graph.Module(input_proj, "input_proj", input));
        string memory = graph.Node("Transpose", [graph.Node("Reshape", [projected, graph.Int64Initializer("memory_shape", [0, Options.EmbedDim, -1])])],
            a => a.Ints("perm", [0, 2, 1]));
        // The queries [1, Q, E] broadcast to the batch: Expand to [N, Q, E] with N from the input's shape.
        string batch = graph.Node("Slice", [graph.Node("Shape", [input]), graph.Int64Initializer("batch_start", [0]), graph.Int64Initializer("batch_end", [1])]);
        string target = graph.Node("Concat", [batch, graph.Int64Initializer("query_dims", [Options.Queries, Options.EmbedDim])], a => a.Int("axis", 0));
        string queries = graph.Node("Expand", [graph.Initializer("query_pos_embed", query_pos_embed.weight!.unsqueeze(0)), target]);
        string embedded = graph.Child("decoder", () => decoder.ToOnnx(graph, queries, memory));
        string flat = graph.Node("Reshape", [embedded, graph.Int64Initializer("group_shape", [0, -1, 1, 1])]);
        string logits = graph.Flatten(graph.Module(group_conv, "group_conv", flat));
        return graph.Node("Slice", [logits, graph.Int64Initializer("class_start", [0]), graph.Int64Initializer("class_end", [Options.ClassNum]),
            graph.Int64Initializer("class_axis", [1])]);
    }
}

/// <summary>Paddle's <c>nn.TransformerDecoder</c> without a final norm: its <c>layers</c> in order, each reading the same memory.</summary>
public sealed class MLDecoderStack : nn.Module
{
    readonly ModuleList<MLDecoderLayer> layers = new();

    public MLDecoderStack(MLDecoderOptions options) : base("TransformerDecoder")
    {
        for (int i = 0; i < options.Depth; i++)
            layers.Add(new MLDecoderLayer(options.EmbedDim, options.NumHeads, options.MlpHiddenDim, options.Dropout, options.Gelu));
        RegisterComponents();
    }

    public Tensor Forward(Tensor target, Tensor memory)
    {
        foreach (var layer in layers) target = layer.Forward(target, memory);
        return target;
    }

    public string ToOnnx(OnnxGraph graph, string target, string memory)
    {
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            string input = target;
            target = graph.Child($"layers.{i}", () => layer.ToOnnx(graph, input, memory));
        }
        return target;
    }
}
