using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MlModels.Core.Scoring.Onnx;

/// <summary>Conversion between the module's typed tensors and ONNX Runtime's values, in both directions.</summary>
internal static class OrtValues
{
    public static ElementKind KindOf(TensorElementType t) => t switch
    {
        TensorElementType.Float => ElementKind.Float32,
        TensorElementType.Double => ElementKind.Float64,
        TensorElementType.Int64 => ElementKind.Int64,
        TensorElementType.Int32 => ElementKind.Int32,
        TensorElementType.Int16 => ElementKind.Int16,
        TensorElementType.Int8 => ElementKind.Int8,
        TensorElementType.UInt8 => ElementKind.UInt8,
        TensorElementType.UInt16 => ElementKind.UInt16,
        TensorElementType.UInt32 => ElementKind.UInt32,
        TensorElementType.UInt64 => ElementKind.UInt64,
        TensorElementType.Bool => ElementKind.Bool,
        TensorElementType.String => ElementKind.String,
        TensorElementType.Float16 => ElementKind.Float16,
        _ => ElementKind.Object,
    };

    /// <summary>A tensor as ONNX Runtime input for <paramref name="port"/>: numeric data pinned, not copied.</summary>
    public static OrtValue ToOrtValue(TensorData t, OnnxPort port)
    {
        if (t.Kind != port.Kind && port.Kind != ElementKind.Object)
            throw new SchemaViolationException($"Input '{port.Name}' must be {port.Kind.NumpyName()}, but it is {t.Kind.NumpyName()}.", port.Name);
        var n = (int)t.ElementCount;
        // By kind, not by array type: the runtime lets a byte[] pass as an sbyte[] (and ushort[] as short[], and so on),
        // so an array-type switch would feed a uint8 tensor as int8.
        return t.Kind switch
        {
            // Rented buffers may be longer than the tensor: only its first n elements are passed.
            ElementKind.Float32 => OrtValue.CreateTensorValueFromMemory(Cpu, new Memory<float>((float[])t.Data, 0, n), t.Shape),
            ElementKind.Float64 => OrtValue.CreateTensorValueFromMemory(Cpu, new Memory<double>((double[])t.Data, 0, n), t.Shape),
            ElementKind.Int64 => OrtValue.CreateTensorValueFromMemory(Cpu, new Memory<long>((long[])t.Data, 0, n), t.Shape),
            ElementKind.Int32 => OrtValue.CreateTensorValueFromMemory((int[])t.Data, t.Shape),
            ElementKind.Int16 => OrtValue.CreateTensorValueFromMemory((short[])t.Data, t.Shape),
            ElementKind.Int8 => OrtValue.CreateTensorValueFromMemory((sbyte[])t.Data, t.Shape),
            ElementKind.UInt8 => OrtValue.CreateTensorValueFromMemory((byte[])t.Data, t.Shape),
            ElementKind.UInt16 => OrtValue.CreateTensorValueFromMemory((ushort[])t.Data, t.Shape),
            ElementKind.UInt32 => OrtValue.CreateTensorValueFromMemory((uint[])t.Data, t.Shape),
            ElementKind.UInt64 => OrtValue.CreateTensorValueFromMemory((ulong[])t.Data, t.Shape),
            ElementKind.Bool => OrtValue.CreateTensorValueFromMemory((bool[])t.Data, t.Shape),
            ElementKind.Float16 => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                new Memory<Float16>(((Half[])t.Data).Select(h => (Float16)(float)h).ToArray()), t.Shape),
            ElementKind.String when t.Data is string?[] a => StringTensor(a, t.Shape),
            _ => throw new SchemaViolationException($"Input '{port.Name}': {t.Kind.NumpyName()} data cannot feed an ONNX tensor.", port.Name),
        };
    }

    private static OrtMemoryInfo Cpu => OrtMemoryInfo.DefaultInstance;

    private static OrtValue StringTensor(string?[] a, long[] shape)
    {
        var v = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
        for (int i = 0; i < a.Length; i++) v.StringTensorSetElementAt((a[i] ?? "").AsSpan(), i);
        return v;
    }

    /// <summary>An output as plain data: a TensorData, or a list of dictionaries for a sequence of maps (ZipMap).</summary>
    public static object FromOrtValue(OrtValue v)
    {
        switch (v.OnnxType)
        {
            case OnnxValueType.ONNX_TYPE_TENSOR:
                return ToTensorData(v);
            case OnnxValueType.ONNX_TYPE_SEQUENCE:
            {
                var count = v.GetValueCount();
                var items = new List<object>(count);
                for (int i = 0; i < count; i++)
                {
                    using var item = v.GetValue(i, OrtAllocator.DefaultInstance);
                    items.Add(FromOrtValue(item));
                }
                return items;
            }
            case OnnxValueType.ONNX_TYPE_MAP:
            {
                using var keys = v.GetValue(0, OrtAllocator.DefaultInstance);
                using var vals = v.GetValue(1, OrtAllocator.DefaultInstance);
                var k = ToTensorData(keys);
                var x = ToTensorData(vals);
                var map = new Dictionary<object, object?>();
                for (int i = 0; i < k.Data.Length; i++) map[k.Data.GetValue(i)!] = x.Data.GetValue(i);
                return map;
            }
            default:
                throw new NotSupportedException($"ONNX output of type {v.OnnxType} is not supported.");
        }
    }

    private static TensorData ToTensorData(OrtValue v)
    {
        var info = v.GetTensorTypeAndShape();
        var kind = KindOf(info.ElementDataType);
        var shape = info.Shape;
        var n = (int)info.ElementCount;
        Array data = kind switch
        {
            ElementKind.Float32 => v.GetTensorDataAsSpan<float>().ToArray(),
            ElementKind.Float64 => v.GetTensorDataAsSpan<double>().ToArray(),
            ElementKind.Int64 => v.GetTensorDataAsSpan<long>().ToArray(),
            ElementKind.Int32 => v.GetTensorDataAsSpan<int>().ToArray(),
            ElementKind.Int16 => v.GetTensorDataAsSpan<short>().ToArray(),
            ElementKind.Int8 => v.GetTensorDataAsSpan<sbyte>().ToArray(),
            ElementKind.UInt8 => v.GetTensorDataAsSpan<byte>().ToArray(),
            ElementKind.UInt16 => v.GetTensorDataAsSpan<ushort>().ToArray(),
            ElementKind.UInt32 => v.GetTensorDataAsSpan<uint>().ToArray(),
            ElementKind.UInt64 => v.GetTensorDataAsSpan<ulong>().ToArray(),
            ElementKind.Bool => v.GetTensorDataAsSpan<bool>().ToArray(),
            ElementKind.Float16 => v.GetTensorDataAsSpan<Float16>().ToArray().Select(h => (Half)(float)h).ToArray(),
            ElementKind.String => Enumerable.Range(0, n).Select(i => (string?)v.GetStringElement(i)).ToArray(),
            _ => throw new NotSupportedException($"ONNX tensor element type {info.ElementDataType} is not supported."),
        };
        return new TensorData(kind, shape, data);
    }
}
