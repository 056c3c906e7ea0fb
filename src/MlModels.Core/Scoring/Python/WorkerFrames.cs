using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring.Python;

/// <summary>
/// Reads the Python worker's replies: a 4-byte little-endian header length, a JSON object header, then the number of
/// payload bytes the header's <c>payload</c> field gives. Anything else (a process that writes to stdout itself, a
/// crashed writer, a hostile one) is a <see cref="PythonWorkerException"/> of type <c>BadReply</c>, and no length read
/// from the stream makes memory grow faster than the bytes that really arrive.
/// </summary>
public static class WorkerFrames
{
    public const int MaxHeaderBytes = 16 * 1024 * 1024;
    private const int Chunk = 1024 * 1024;
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>One reply. End of stream before a whole frame is an <see cref="EndOfStreamException"/> (the worker died).</summary>
    public static (JsonObject Header, byte[] Payload) Read(Stream stream, string modelName)
    {
        var len = BinaryPrimitives.ReadInt32LittleEndian(ReadExact(stream, 4));
        if (len is < 2 or > MaxHeaderBytes)
            throw Bad(modelName, $"a header of {len:N0} bytes");
        var head = ReadExact(stream, len);
        JsonNode? node;
        try { node = PyJson.Parse(StrictUtf8.GetString(head)); }
        catch (System.Text.DecoderFallbackException) { throw Bad(modelName, "a header that is not UTF-8 text"); }
        catch (JsonException ex) { throw Bad(modelName, $"a header that is not JSON ({ex.Message})"); }
        if (node is not JsonObject header) throw Bad(modelName, "a header that is not a JSON object");
        long size = header["payload"] switch
        {
            null => 0,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) => n,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) && d == Math.Floor(d)
                && Math.Abs(d) < 1e18 => (long)d,
            _ => -1,
        };
        if (size < 0 || size > Array.MaxLength) throw Bad(modelName, $"a payload size of {header["payload"]?.ToJsonString()}");
        return (header, size == 0 ? [] : ReadExact(stream, (int)size));
    }

    /// <summary>A header field that should be text; null when absent or of another type.</summary>
    public static string? Text(JsonObject header, string key) =>
        header[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>A header field that should be an integer; null when absent or of another type.</summary>
    public static int? Int(JsonObject header, string key) =>
        header[key] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var n) ? n : null;

    public static PythonWorkerException Bad(string modelName, string what) =>
        new($"The Python worker for model '{modelName}' sent a malformed reply ({what}); it was stopped.", PythonWorkerFailure.BadReply);

    // Grows with the data that arrives, so a bogus length costs at most one chunk more than was sent.
    private static byte[] ReadExact(Stream stream, int n)
    {
        var buf = new byte[Math.Min(n, Chunk)];
        int got = 0;
        while (got < n)
        {
            if (got == buf.Length) Array.Resize(ref buf, (int)Math.Min(n, (long)buf.Length * 2));
            int r = stream.Read(buf, got, buf.Length - got);
            if (r == 0) throw new EndOfStreamException();
            got += r;
        }
        return buf;
    }
}
