using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Ppcls.Core.Onnx.Proto;
using Ppcls.Core.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ppcls.Core.Onnx;

/// <summary>
/// Builds one ONNX graph: typed inputs, nodes, float32 / int64 initializers and outputs, with
/// value and node names taken from the module path being written (`blocks2.0.dw_conv.conv`), so
/// a graph reads like the model's state dict. Layers add themselves through
/// <see cref="Module"/> (their own <see cref="IOnnxExportable"/> emitter, or the built-in one for
/// TorchSharp's Conv2d, Linear, activations, pooling, Flatten and Sequential); the op helpers
/// (<see cref="Conv"/>, <see cref="Relu"/>, <see cref="Concat"/>, ...) add one node each.
/// Knows no model by name.
/// </summary>
public sealed class OnnxGraph
{
    /// <summary>The operator set the exporter targets (HardSwish needs 14; ONNX Runtime runs 17 everywhere).</summary>
    public const int Opset = 17;

    /// <summary>IR version 8 goes with opset 17.</summary>
    public const int IrVersion = 8;

    readonly GraphProto _graph;
    readonly Stack<string> _scope = new();
    readonly HashSet<string> _names = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _scalars = new(StringComparer.Ordinal);
    readonly Dictionary<string, int> _opCounts = new(StringComparer.Ordinal);

    public OnnxGraph(string name) => _graph = new GraphProto { Name = name };

    public GraphProto Graph => _graph;

    /// <summary>The module path being written, e.g. `stages.0.blocks.1`; empty at the top.</summary>
    public string Scope => string.Join(".", _scope.Reverse().Where(s => s.Length > 0));

    // ---- inputs, outputs, initializers ------------------------------------------------------

    /// <summary>A float32 graph input; a null dimension is dynamic (named <paramref name="dynamicName"/>).</summary>
    public string Input(string name, IReadOnlyList<long?> dims, string dynamicName = "N")
    {
        Claim(name);
        _graph.Input.Add(ValueInfo(name, dims, dynamicName));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> a float32 graph output of the given shape.</summary>
    public void Output(string value, IReadOnlyList<long?> dims, string dynamicName = "N") =>
        _graph.Output.Add(ValueInfo(value, dims, dynamicName));

    static ValueInfoProto ValueInfo(string name, IReadOnlyList<long?> dims, string dynamicName)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = dynamicName });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>A float32 initializer holding <paramref name="value"/> (any float dtype; copied), named `scope.name`.</summary>
    public string Initializer(string name, Tensor value)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var cpu = value.detach().to(ScalarType.Float32).cpu().contiguous();
        var data = cpu.data<float>().ToArray();
        return Initializer(name, data, cpu.shape);
    }

    /// <summary>A float32 initializer of shape <paramref name="dims"/>, named `scope.name`.</summary>
    public string Initializer(string name, float[] data, long[] dims)
    {
        string full = Unique(Qualify(name));
        var tensor = new TensorProto { Name = full, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
        _graph.Initializer.Add(tensor);
        return full;
    }

    /// <summary>An int8 initializer (quantized weights, zero points), named `scope.name`.</summary>
    public string Int8Initializer(string name, sbyte[] values, long[] dims)
    {
        string full = Unique(Qualify(name));
        var tensor = new TensorProto { Name = full, DataType = (int)TensorProto.Types.DataType.Int8 };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        _graph.Initializer.Add(tensor);
        return full;
    }

    /// <summary>An int64 initializer (shapes, pads), named `scope.name`.</summary>
    public string Int64Initializer(string name, long[] values)
    {
        string full = Unique(Qualify(name));
        var tensor = new TensorProto { Name = full, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        _graph.Initializer.Add(tensor);
        return full;
    }

    /// <summary>A float32 scalar constant (shape []), shared by every node that uses the same value.</summary>
    public string Scalar(float value)
    {
        string key = value.ToString("R", CultureInfo.InvariantCulture);
        if (_scalars.TryGetValue(key, out var existing)) return existing;
        string name = Unique("const_" + key.Replace('-', 'm'));
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.RawData = ByteString.CopyFrom(BitConverter.GetBytes(value));
        _graph.Initializer.Add(tensor);
        _scalars[key] = name;
        return name;
    }

    // ---- modules ----------------------------------------------------------------------------

    /// <summary>
    /// Writes <paramref name="module"/> (a child called <paramref name="name"/> of the module being
    /// written) reading <paramref name="input"/>; returns its output. A module without an emitter
    /// is an error naming its path and type.
    /// </summary>
    public string Module(nn.Module module, string name, string input)
    {
        _scope.Push(name);
        try
        {
            return module switch
            {
                IOnnxExportable exportable => exportable.ToOnnx(this, input),
                Conv2d conv => Conv(input, conv),
                Linear linear => Gemm(input, linear),
                TorchSharp.Modules.ReLU => Relu(input),
                TorchSharp.Modules.ReLU6 => Clip(input, 0f, 6f),
                TorchSharp.Modules.Hardswish => HardSwish(input),
                TorchSharp.Modules.Sigmoid => Sigmoid(input),
                Identity or Dropout => input,
                TorchSharp.Modules.Flatten flatten when flatten.end_dim == -1 => Flatten(input, flatten.start_dim),
                AdaptiveAvgPool2d pool when pool.output_size.All(s => s == 1) => GlobalAveragePool(input),
                Sequential sequential => Chain(sequential, input),
                _ => throw new OnnxExportException(
                    $"no ONNX emitter for {(Scope.Length == 0 ? "the model" : Scope)} ({module.GetType().Name}); implement IOnnxExportable on it"),
            };
        }
        finally
        {
            _scope.Pop();
        }
    }

    /// <summary>Runs <paramref name="emit"/> with <paramref name="name"/> added to the scope (names its values and initializers).</summary>
    public T Child<T>(string name, Func<T> emit)
    {
        _scope.Push(name);
        try
        {
            return emit();
        }
        finally
        {
            _scope.Pop();
        }
    }

    /// <summary>The children of a container in registration order, each reading the previous output.</summary>
    public string Chain(nn.Module container, string input)
    {
        var y = input;
        foreach (var (childName, child) in container.named_children()) y = Module(child, childName, y);
        return y;
    }

    // ---- ops --------------------------------------------------------------------------------

    /// <summary>
    /// A 2-D convolution with <paramref name="conv"/>'s kernel, bias, stride, dilation and groups.
    /// Pads are the module's own (symmetric) unless given as [top, left, bottom, right].
    /// </summary>
    public string Conv(string x, Conv2d conv, long[]? pads = null)
    {
        if (conv.padding_mode != PaddingModes.Zeros)
            throw new OnnxExportException($"{Scope}: Conv2d padding mode {conv.padding_mode} has no ONNX Conv equivalent");
        if (pads is null)
        {
            if (conv.padding is { } p) pads = [p[0], p[1], p[0], p[1]];
            else if (conv.padding_type == Padding.Valid) pads = [0, 0, 0, 0];
            else throw new OnnxExportException($"{Scope}: Conv2d padding 'same' is not exported; give explicit pads");
        }
        var inputs = new List<string> { QdqOnnx.Input(this, conv, x), QdqOnnx.Weight(this, conv, conv.weight!) };
        if (conv.bias is { } b) inputs.Add(Initializer("bias", b));
        return Node("Conv", inputs, a => a
            .Ints("kernel_shape", conv.kernel_size)
            .Ints("strides", conv.stride)
            .Ints("dilations", conv.dilation)
            .Ints("pads", pads)
            .Int("group", conv.groups));
    }

    /// <summary>A Conv with Paddle's "SAME" padding computed by the runtime (the odd pixel after: SAME_UPPER).</summary>
    public string ConvSameUpper(string x, Conv2d conv)
    {
        var inputs = new List<string> { QdqOnnx.Input(this, conv, x), QdqOnnx.Weight(this, conv, conv.weight!) };
        if (conv.bias is { } b) inputs.Add(Initializer("bias", b));
        return Node("Conv", inputs, a => a
            .Ints("kernel_shape", conv.kernel_size)
            .Ints("strides", conv.stride)
            .Ints("dilations", conv.dilation)
            .String("auto_pad", "SAME_UPPER")
            .Int("group", conv.groups));
    }

    /// <summary>x W^T + b for a TorchSharp Linear (weight [out, in]).</summary>
    public string Gemm(string x, Linear linear)
    {
        var inputs = new List<string> { QdqOnnx.Input(this, linear, x), QdqOnnx.Weight(this, linear, linear.weight!) };
        if (linear.bias is { } b) inputs.Add(Initializer("bias", b));
        return Node("Gemm", inputs, a => a.Int("transB", 1));
    }

    /// <summary>Inference batch norm: (x - mean) / sqrt(var + eps) * gamma + beta per channel.</summary>
    public string BatchNormalization(string x, Tensor gamma, Tensor beta, Tensor mean, Tensor variance, double epsilon) =>
        Node("BatchNormalization",
            [x, Initializer("weight", gamma), Initializer("bias", beta), Initializer("_mean", mean), Initializer("_variance", variance)],
            a => a.Float("epsilon", (float)epsilon));

    public string Relu(string x) => Node("Relu", [x]);
    public string Sigmoid(string x, string? outputName = null) => Node("Sigmoid", [x], null, outputName);
    public string HardSwish(string x) => Node("HardSwish", [x]);

    /// <summary>max(0, min(1, alpha x + beta)).</summary>
    public string HardSigmoid(string x, double alpha, double beta) =>
        Node("HardSigmoid", [x], a => a.Float("alpha", (float)alpha).Float("beta", (float)beta));

    /// <summary>min(max(x, min), max), e.g. ReLU6 as Clip(0, 6).</summary>
    public string Clip(string x, float min, float max) => Node("Clip", [x, Scalar(min), Scalar(max)]);

    public string Add(string a, string b) => Node("Add", [a, b]);
    public string Mul(string a, string b) => Node("Mul", [a, b]);

    /// <summary>x times a constant.</summary>
    public string Scale(string x, double factor) => Mul(x, Scalar((float)factor));

    public string Concat(IReadOnlyList<string> inputs, long axis = 1) => Node("Concat", inputs, a => a.Int("axis", axis));
    public string GlobalAveragePool(string x) => Node("GlobalAveragePool", [x]);
    public string Flatten(string x, long axis = 1) => Node("Flatten", [x], a => a.Int("axis", axis));
    /// <summary>A named copy of a value (gives a graph output its public name).</summary>
    public string Copy(string x, string? outputName = null) => Node("Identity", [x], null, outputName);
    public string Softmax(string x, long axis = -1, string? outputName = null) => Node("Softmax", [x], a => a.Int("axis", axis), outputName);

    /// <summary>Max pooling; pads [top, left, bottom, right] never win the max (as torch and Paddle pad).</summary>
    public string MaxPool(string x, long kernel, long stride, long[] pads) => MaxPool(x, kernel, stride, stride, pads);

    /// <summary>The same with the height and width strides apart (PaddleClas's `[2, 1]` strides).</summary>
    public string MaxPool(string x, long kernel, long strideHeight, long strideWidth, long[] pads) =>
        Node("MaxPool", [x], a => a.Ints("kernel_shape", [kernel, kernel]).Ints("strides", [strideHeight, strideWidth]).Ints("pads", pads));

    /// <summary>
    /// Average pooling over square windows with symmetric <paramref name="pad"/>; with
    /// <paramref name="countIncludePad"/> false the divisor counts only input pixels (Paddle's `exclusive=True`).
    /// </summary>
    public string AveragePool(string x, long kernel, long stride, long pad, bool countIncludePad) =>
        Node("AveragePool", [x], a => a.Ints("kernel_shape", [kernel, kernel]).Ints("strides", [stride, stride]).Ints("pads", [pad, pad, pad, pad])
            .Int("count_include_pad", countIncludePad ? 1 : 0));

    /// <summary>
    /// Paddle's `AvgPool2D(padding="SAME", exclusive=True)`: ceil(size / stride) windows per axis, the odd
    /// pixel of padding after, and each window averaging only the input pixels it covers.
    /// </summary>
    public string AveragePoolSameUpper(string x, long kernel, long strideHeight, long strideWidth) =>
        Node("AveragePool", [x], a => a.Ints("kernel_shape", [kernel, kernel]).Ints("strides", [strideHeight, strideWidth])
            .String("auto_pad", "SAME_UPPER").Int("count_include_pad", 0));

    // Transformer ops (Swin Transformer, ML-Decoder): shapes are static but for the batch (-1 / 0 in Reshape).

    /// <summary>Reshape to <paramref name="shape"/> (0 copies the input's dimension, -1 is inferred).</summary>
    public string Reshape(string x, long[] shape) => Node("Reshape", [x, Int64Initializer("shape", shape)]);

    public string Transpose(string x, long[] perm) => Node("Transpose", [x], a => a.Ints("perm", perm));

    public string MatMul(string a, string b) => Node("MatMul", [a, b]);

    /// <summary>Picks <paramref name="indices"/> along <paramref name="axis"/> (a fixed permutation, e.g. a cyclic shift).</summary>
    public string Gather(string x, long[] indices, long axis) => Node("Gather", [x, Int64Initializer("indices", indices)], a => a.Int("axis", axis));

    /// <summary>LayerNormalization over the last axis with <paramref name="norm"/>'s weight, bias and epsilon.</summary>
    public string LayerNorm(string x, LayerNorm norm) =>
        Node("LayerNormalization", [x, Initializer("weight", norm.weight!), Initializer("bias", norm.bias!)],
            a => a.Int("axis", -1).Float("epsilon", (float)norm.eps));

    /// <summary>Exact GELU, x (1 + erf(x / sqrt 2)) / 2 (ONNX's Gelu op needs opset 20).</summary>
    public string Gelu(string x)
    {
        string erf = Node("Erf", [Scale(x, 1 / Math.Sqrt(2))]);
        return Mul(Scale(x, 0.5), Add(erf, Scalar(1f)));
    }

    /// <summary>Pads the spatial axes of an NCHW value by [top, left, bottom, right] in <paramref name="mode"/> (constant, edge, reflect).</summary>
    public string Pad(string x, long[] pads, string mode)
    {
        string padsName = Int64Initializer("pads", [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]]);
        return Node("Pad", [x, padsName], a => a.String("mode", mode));
    }

    /// <summary>
    /// Adds one node; returns its (single) output's name, <paramref name="outputName"/> or one made
    /// from the scope and the op.
    /// </summary>
    public string Node(string opType, IReadOnlyList<string> inputs, Action<OnnxAttributes>? attributes = null, string? outputName = null)
    {
        int n = _opCounts.TryGetValue(opType, out int c) ? c + 1 : 0;
        _opCounts[opType] = n;
        string scope = Scope;
        string output = outputName is not null ? Claim(outputName) : Unique(scope.Length == 0 ? $"{opType}_{n}" : $"{scope}.{opType}");
        var node = new NodeProto { OpType = opType, Name = $"{(scope.Length == 0 ? "" : scope + "/")}{opType}_{n}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        attributes?.Invoke(new OnnxAttributes(node));
        _graph.Node.Add(node);
        return output;
    }

    /// <summary>The model around this graph: IR version, opset, producer and metadata.</summary>
    public ModelProto ToModel(string producerVersion, IReadOnlyDictionary<string, string>? metadata = null, string? docString = null)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "ppcls",
            ProducerVersion = producerVersion,
            Graph = _graph,
        };
        if (docString is not null) model.DocString = docString;
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    string Qualify(string name) => Scope.Length == 0 ? name : $"{Scope}.{name}";

    string Claim(string name) =>
        _names.Add(name) ? name : throw new OnnxExportException($"value name '{name}' is used twice in the graph");

    string Unique(string name)
    {
        if (_names.Add(name)) return name;
        for (int i = 1; ; i++)
            if (_names.Add($"{name}_{i}")) return $"{name}_{i}";
    }
}

/// <summary>Attributes of one node, added fluently: `a => a.Ints("strides", [2, 2]).Int("group", 1)`.</summary>
public sealed class OnnxAttributes(NodeProto node)
{
    public OnnxAttributes Int(string name, long value)
    {
        node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
        return this;
    }

    public OnnxAttributes Float(string name, float value)
    {
        node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value });
        return this;
    }

    public OnnxAttributes Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        node.Attribute.Add(attribute);
        return this;
    }

    public OnnxAttributes String(string name, string value)
    {
        node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) });
        return this;
    }
}

/// <summary>A model that cannot be written as ONNX (a layer without an emitter, an unsupported option).</summary>
public sealed class OnnxExportException(string message) : PpclsUserException(message);
