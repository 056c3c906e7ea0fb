using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using MlModels.Core.Scoring;

namespace MlModels.Core.Serving.OpenInference;

/// <summary>
/// Tensor values as the protocol's gRPC messages carry them, free of any gRPC type: the typed contents
/// (<c>InferTensorContents</c>: INT8-INT32 in <c>int_contents</c>, UINT8-UINT32 in <c>uint_contents</c>, the 64-bit
/// kinds, FP32, FP64, BOOL and BYTES each in their own list) and the raw form (<c>raw_input_contents</c>,
/// <c>raw_output_contents</c>): the elements flat, row-major, little-endian, with no padding; BOOL one byte; FP16 two
/// bytes (it has no typed list, so it is raw only); BYTES each element a 4-byte little-endian length and its bytes, as
/// Triton and KServe's clients write them. Each input's count is checked against its shape and each value against its
/// datatype's range, with the same 400 messages as the REST endpoint's.
/// </summary>
public static class TensorContents
{
    /// <summary>The typed list a datatype's values travel in (MLServer's <c>_FIELDS</c>); FP16 has none.</summary>
    public static string FieldOf(ElementKind kind) => kind switch
    {
        ElementKind.Bool => "bool_contents",
        ElementKind.Int8 or ElementKind.Int16 or ElementKind.Int32 => "int_contents",
        ElementKind.Int64 => "int64_contents",
        ElementKind.UInt8 or ElementKind.UInt16 or ElementKind.UInt32 => "uint_contents",
        ElementKind.UInt64 => "uint64_contents",
        ElementKind.Float32 => "fp32_contents",
        ElementKind.Float64 => "fp64_contents",
        ElementKind.String => "bytes_contents",
        _ => "raw_input_contents",
    };

    /// <summary>The bytes of one element in the raw form; 0 for BYTES (length-prefixed).</summary>
    public static int ElementSize(ElementKind kind) => kind switch
    {
        ElementKind.Bool or ElementKind.Int8 or ElementKind.UInt8 => 1,
        ElementKind.Int16 or ElementKind.UInt16 or ElementKind.Float16 => 2,
        ElementKind.Int32 or ElementKind.UInt32 or ElementKind.Float32 => 4,
        ElementKind.Int64 or ElementKind.UInt64 or ElementKind.Float64 => 8,
        _ => 0,
    };

    /// <summary>An input's header checked (datatype, shape, content type); its kind and the number of values its shape holds.</summary>
    public static (ElementKind Kind, int Count) Header(string name, string datatype, IReadOnlyList<long> shape, string? inputContentType)
    {
        if (string.IsNullOrEmpty(name)) throw OpenInferenceException.BadRequest("An input has no \"name\".");
        if (string.IsNullOrEmpty(datatype)) throw OpenInferenceException.BadRequest($"The input '{name}' has no \"datatype\".");
        if (!TensorDatatypes.TryParse(datatype, out var kind)) throw InferenceDecoder.UnknownDatatype(name, datatype);
        return (kind, (int)InferenceDecoder.CheckHeader(name, datatype, kind, shape, inputContentType));
    }

    /// <summary>An input given in the raw form.</summary>
    public static TensorData FromRaw(string name, string datatype, ElementKind kind, long[] shape, int count, ReadOnlySpan<byte> raw)
    {
        if (kind == ElementKind.String) return FromStrings(name, shape, count, LengthPrefixed(name, raw));
        int size = ElementSize(kind);
        if ((long)count * size != raw.Length)
            throw OpenInferenceException.BadRequest($"The input '{name}' is {datatype} of shape {InferenceDecoder.Text(shape)}, which takes " +
                $"{(long)count * size:N0} raw bytes, but {raw.Length:N0} were given.");
        var values = ElementKinds.NewArray(kind, count);
        if (kind == ElementKind.Bool)
        {
            var bools = (bool[])values;
            for (int i = 0; i < count; i++)
                bools[i] = raw[i] switch
                {
                    0 => false,
                    1 => true,
                    _ => throw OpenInferenceException.BadRequest($"The input '{name}' is BOOL, and its raw byte {raw[i]} (element {i:N0}) " +
                        "is not 0 or 1."),
                };
        }
        else if (BitConverter.IsLittleEndian) raw.CopyTo(MemoryMarshal.AsBytes(Span(values, kind)));
        else Swap(raw, values, kind);
        return new TensorData(kind, shape, values);
    }

    private static Span<byte> Span(Array values, ElementKind kind) => kind switch
    {
        ElementKind.Int8 => MemoryMarshal.AsBytes(((sbyte[])values).AsSpan()),
        ElementKind.UInt8 => ((byte[])values).AsSpan(),
        ElementKind.Int16 => MemoryMarshal.AsBytes(((short[])values).AsSpan()),
        ElementKind.UInt16 => MemoryMarshal.AsBytes(((ushort[])values).AsSpan()),
        ElementKind.Float16 => MemoryMarshal.AsBytes(((Half[])values).AsSpan()),
        ElementKind.Int32 => MemoryMarshal.AsBytes(((int[])values).AsSpan()),
        ElementKind.UInt32 => MemoryMarshal.AsBytes(((uint[])values).AsSpan()),
        ElementKind.Float32 => MemoryMarshal.AsBytes(((float[])values).AsSpan()),
        ElementKind.Int64 => MemoryMarshal.AsBytes(((long[])values).AsSpan()),
        ElementKind.UInt64 => MemoryMarshal.AsBytes(((ulong[])values).AsSpan()),
        ElementKind.Float64 => MemoryMarshal.AsBytes(((double[])values).AsSpan()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a numeric kind"),
    };

    /// <summary>Big-endian hosts: each element read little-endian.</summary>
    private static void Swap(ReadOnlySpan<byte> raw, Array values, ElementKind kind)
    {
        var dest = Span(values, kind);
        raw.CopyTo(dest);
        int size = ElementSize(kind);
        for (int i = 0; i + size <= dest.Length; i += size) dest.Slice(i, size).Reverse();
    }

    private static List<ReadOnlyMemory<byte>> LengthPrefixed(string name, ReadOnlySpan<byte> raw)
    {
        var items = new List<ReadOnlyMemory<byte>>();
        int at = 0;
        while (at < raw.Length)
        {
            if (raw.Length - at < 4)
                throw OpenInferenceException.BadRequest($"The input '{name}' is BYTES, and its raw contents end inside an element's 4-byte length.");
            var length = BinaryPrimitives.ReadUInt32LittleEndian(raw[at..]);
            at += 4;
            if (length > (uint)(raw.Length - at))
                throw OpenInferenceException.BadRequest($"The input '{name}' is BYTES, and its element {items.Count:N0} says {length:N0} bytes, " +
                    $"but {raw.Length - at:N0} are left.");
            items.Add(raw.Slice(at, (int)length).ToArray());
            at += (int)length;
        }
        return items;
    }

    /// <summary>BYTES given as a list: each element UTF-8 text.</summary>
    public static TensorData FromStrings(string name, long[] shape, int count, IReadOnlyList<ReadOnlyMemory<byte>> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        InferenceDecoder.CheckCount(name, shape, count, items.Count);
        var values = new string?[count];
        var utf8 = new UTF8Encoding(false, true);
        for (int i = 0; i < count; i++)
        {
            try { values[i] = utf8.GetString(items[i].Span); }
            catch (DecoderFallbackException)
            {
                throw OpenInferenceException.BadRequest($"The input '{name}' is BYTES, and its element {i:N0} is not UTF-8 text.");
            }
        }
        return new TensorData(ElementKind.String, shape, values);
    }

    public static TensorData FromBools(string name, long[] shape, int count, IReadOnlyList<bool> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        InferenceDecoder.CheckCount(name, shape, count, items.Count);
        return new TensorData(ElementKind.Bool, shape, items.ToArray());
    }

    /// <summary>Signed integers (int_contents, int64_contents), each in its datatype's range.</summary>
    public static TensorData FromIntegers(string name, string datatype, ElementKind kind, long[] shape, int count, IReadOnlyList<long> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        InferenceDecoder.CheckCount(name, shape, count, items.Count);
        var values = ElementKinds.NewArray(kind, count);
        for (int i = 0; i < count; i++)
            if (!ValueConversion.TryStoreInteger(items[i], kind, values, i)) throw OutOfRange(name, datatype, kind, items[i], i);
        return new TensorData(kind, shape, values);
    }

    /// <summary>Unsigned integers (uint_contents, uint64_contents), each in its datatype's range.</summary>
    public static TensorData FromUnsigned(string name, string datatype, ElementKind kind, long[] shape, int count, IReadOnlyList<ulong> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        InferenceDecoder.CheckCount(name, shape, count, items.Count);
        var values = ElementKinds.NewArray(kind, count);
        for (int i = 0; i < count; i++)
        {
            var v = items[i];
            if (kind == ElementKind.UInt64) ((ulong[])values)[i] = v;
            else if (v > long.MaxValue || !ValueConversion.TryStoreInteger((long)v, kind, values, i)) throw OutOfRange(name, datatype, kind, v, i);
        }
        return new TensorData(kind, shape, values);
    }

    public static TensorData FromFloats(string name, long[] shape, int count, IReadOnlyList<float> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        InferenceDecoder.CheckCount(name, shape, count, items.Count);
        return new TensorData(ElementKind.Float32, shape, items.ToArray());
    }

    public static TensorData FromDoubles(string name, long[] shape, int count, IReadOnlyList<double> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        InferenceDecoder.CheckCount(name, shape, count, items.Count);
        return new TensorData(ElementKind.Float64, shape, items.ToArray());
    }

    /// <summary>A value given in a list that its datatype does not use.</summary>
    public static OpenInferenceException WrongList(string name, string datatype, ElementKind kind, string given) =>
        OpenInferenceException.BadRequest(kind == ElementKind.Float16
            ? $"The input '{name}' is FP16, which travels only as raw contents (raw_input_contents), but it has {given}."
            : $"The input '{name}' is {datatype}, whose values go in {FieldOf(kind)}, but it has {given}.");

    private static OpenInferenceException OutOfRange(string name, string datatype, ElementKind kind, object value, int i) =>
        OpenInferenceException.BadRequest($"The input '{name}' is {datatype}, and its value {value} (element {i:N0}) is not a whole " +
            $"number that {kind.NumpyName()} holds.");

    /// <summary>
    /// An output in the raw form: numbers little-endian (a masked or NaN float stays NaN, a masked integer 0), BOOL one
    /// byte, BYTES length-prefixed UTF-8 (a missing value empty).
    /// </summary>
    public static byte[] ToRaw(ResponseOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var values = output.Data.Values;
        if (!TensorDatatypes.TryParse(output.Datatype, out var kind)) throw new InvalidOperationException($"No datatype '{output.Datatype}'.");
        if (kind == ElementKind.String)
        {
            var buffer = new MemoryStream();
            Span<byte> length = stackalloc byte[4];
            for (int i = 0; i < values.Length; i++)
            {
                var text = Missing(output, i) ? "" : values.GetValue(i) as string ?? "";
                var bytes = Encoding.UTF8.GetBytes(text);
                BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)bytes.Length);
                buffer.Write(length);
                buffer.Write(bytes);
            }
            return buffer.ToArray();
        }
        var typed = Typed(output, kind);
        if (kind == ElementKind.Bool) return ((bool[])typed).Select(b => b ? (byte)1 : (byte)0).ToArray();
        var raw = Span(typed, kind).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            int size = ElementSize(kind);
            for (int i = 0; i + size <= raw.Length; i += size) raw.AsSpan(i, size).Reverse();
        }
        return raw;
    }

    /// <summary>An output's values as an array of its datatype's own element type, masked values NaN (floats) or 0.</summary>
    public static Array Typed(ResponseOutput output, ElementKind kind)
    {
        ArgumentNullException.ThrowIfNull(output);
        var values = output.Data.Values;
        var typed = values.GetType().GetElementType() == ElementKinds.NewArray(kind, 0).GetType().GetElementType()
            ? (Array)values.Clone()
            : Convert(values, kind);
        if (output.Data.Missing is { } missing)
            for (int i = 0; i < typed.Length && i < missing.Length; i++)
                if (missing[i])
                    typed.SetValue(kind switch
                    {
                        ElementKind.Float16 => Half.NaN,
                        ElementKind.Float32 => float.NaN,
                        ElementKind.Float64 => double.NaN,
                        ElementKind.Bool => false,
                        _ => System.Convert.ChangeType(0, ElementKinds.NewArray(kind, 0).GetType().GetElementType()!,
                            System.Globalization.CultureInfo.InvariantCulture),
                    }, i);
        return typed;
    }

    private static Array Convert(Array values, ElementKind kind)
    {
        var typed = ElementKinds.NewArray(kind, values.Length);
        var type = typed.GetType().GetElementType()!;
        for (int i = 0; i < values.Length; i++)
        {
            var v = values.GetValue(i);
            if (v == null) continue;
            if (v is Half h) v = kind == ElementKind.Float16 ? h : (float)h;
            typed.SetValue(v is Half ? v : System.Convert.ChangeType(v, type, System.Globalization.CultureInfo.InvariantCulture), i);
        }
        return typed;
    }

    private static bool Missing(ResponseOutput output, int i) => output.Data.Missing is { } m && i < m.Length && m[i];
}
