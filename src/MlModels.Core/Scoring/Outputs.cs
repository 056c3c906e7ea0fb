using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MlModels.Core.Scoring;

public enum PredictionFormat { Csv, Json }

/// <summary>
/// Writes predictions to a file that is complete or absent: rows go to a temporary file beside the target,
/// which is renamed over it only when every batch has been written.
/// </summary>
public abstract class PredictionFileWriter : IDisposable
{
    private readonly string _target;
    private readonly string _temp;
    private readonly bool _overwrite;
    private bool _committed;
    protected readonly StreamWriter Writer;

    protected PredictionFileWriter(string path, bool overwrite)
    {
        _target = Path.GetFullPath(path);
        _overwrite = overwrite;
        if (File.Exists(_target) && !overwrite) throw new IOException($"{_target} already exists; use -Force to replace it.");
        var dir = Path.GetDirectoryName(_target)!;
        Directory.CreateDirectory(dir);
        _temp = Path.Combine(dir, $".{Path.GetFileName(_target)}.{Guid.NewGuid():N}.tmp");
        Writer = new StreamWriter(new FileStream(_temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16), new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
    }

    public static PredictionFileWriter Create(string path, PredictionFormat format, bool includeInput, bool overwrite) => format switch
    {
        PredictionFormat.Json => new JsonPredictionWriter(path, includeInput, overwrite),
        _ => new CsvPredictionWriter(path, includeInput, overwrite),
    };

    public static PredictionFormat FormatFor(string path) =>
        Path.GetExtension(path).Equals(".json", StringComparison.OrdinalIgnoreCase) ? PredictionFormat.Json : PredictionFormat.Csv;

    public abstract void Write(Frame input, Frame output);

    /// <summary>Writes a non-tabular result (tensor outputs) as MLflow's {"predictions": ...}.</summary>
    public virtual void WriteValue(object? predictions) => throw new InvalidOperationException("Tensor predictions can only be written as JSON; use a .json output path or -OutputFormat Json.");

    protected virtual void Finish() { }

    public void Commit()
    {
        Finish();
        Writer.Flush();
        Writer.Dispose();
        File.Move(_temp, _target, _overwrite);
        _committed = true;
    }

    public void Dispose()
    {
        if (_committed) return;
        Writer.Dispose();
        try { File.Delete(_temp); } catch (IOException) { }
        GC.SuppressFinalize(this);
    }
}

/// <summary>CSV as <c>mlflow models predict -o x.csv</c> writes a DataFrame: a header, then one row per prediction.</summary>
public sealed class CsvPredictionWriter(string path, bool includeInput, bool overwrite) : PredictionFileWriter(path, overwrite)
{
    private bool _header;
    // Numbers are formatted straight to UTF-8 in this buffer; text cells go through the StreamWriter.
    private readonly byte[] _bytes = new byte[1 << 16];
    private int _pos;

    public override void Write(Frame input, Frame output)
    {
        var cols = new List<ColumnData>();
        var names = new List<string>();
        if (includeInput) { cols.AddRange(input.Columns); names.AddRange(input.Names); }
        cols.AddRange(output.Columns);
        names.AddRange(output.Names);
        Writer.Flush();
        var stream = Writer.BaseStream;
        if (!_header)
        {
            WriteText(string.Join(",", names.Select(Quote)) + "\n", stream);
            _header = true;
        }
        var inv = CultureInfo.InvariantCulture;
        for (int r = 0; r < output.RowCount; r++)
        {
            for (int c = 0; c < cols.Count; c++)
            {
                if (_pos > _bytes.Length - 512) Flush(stream);
                if (c > 0) _bytes[_pos++] = (byte)',';
                var col = cols[c];
                if (col.Missing != null && col.Missing[r]) continue;
                int n;
                switch (col.Values)
                {
                    case float[] f: f[r].TryFormat(_bytes.AsSpan(_pos), out n, default, inv); _pos += n; break;
                    case double[] d: d[r].TryFormat(_bytes.AsSpan(_pos), out n, default, inv); _pos += n; break;
                    case long[] l: l[r].TryFormat(_bytes.AsSpan(_pos), out n, default, inv); _pos += n; break;
                    case int[] i: i[r].TryFormat(_bytes.AsSpan(_pos), out n, default, inv); _pos += n; break;
                    default: WriteText(Cell(col.Values.GetValue(r)), stream); break;
                }
            }
            _bytes[_pos++] = (byte)'\n';
        }
        Flush(stream);
    }

    private void Flush(Stream stream)
    {
        stream.Write(_bytes, 0, _pos);
        _pos = 0;
    }

    private void WriteText(string text, Stream stream)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_pos + max > _bytes.Length) Flush(stream);
        if (max > _bytes.Length) { stream.Write(Encoding.UTF8.GetBytes(text)); return; }
        _pos += Encoding.UTF8.GetBytes(text, _bytes.AsSpan(_pos));
    }

    private static string Quote(string s) => s.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    private static string Cell(object? v) => Quote(v switch
    {
        null => "",
        bool b => b ? "True" : "False",
        DateTime dt => dt.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        Array a => JsonValues.Serialize(a),
        IFormattable fm => fm.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    });
}

/// <summary>MLflow's JSON response form: <c>{"predictions": [...records...]}</c>.</summary>
public sealed class JsonPredictionWriter : PredictionFileWriter
{
    private readonly Utf8JsonWriter _json;
    private readonly bool _includeInput;
    private bool _started;

    public JsonPredictionWriter(string path, bool includeInput, bool overwrite) : base(path, overwrite)
    {
        _includeInput = includeInput;
        _json = new Utf8JsonWriter(Writer.BaseStream, JsonValues.WriterOptions);
    }

    public override void Write(Frame input, Frame output)
    {
        if (!_started) { _json.WriteStartObject(); _json.WritePropertyName("predictions"); _json.WriteStartArray(); _started = true; }
        for (int r = 0; r < output.RowCount; r++)
        {
            _json.WriteStartObject();
            if (_includeInput) for (int c = 0; c < input.Columns.Count; c++) WriteCell(_json, input.Names[c], input.Columns[c], r);
            for (int c = 0; c < output.Columns.Count; c++) WriteCell(_json, output.Names[c], output.Columns[c], r);
            _json.WriteEndObject();
        }
        _json.Flush();
    }

    public override void WriteValue(object? predictions)
    {
        _json.WriteStartObject();
        _json.WritePropertyName("predictions");
        JsonValues.Write(_json, predictions);
        _json.WriteEndObject();
        _started = false;
        _json.Flush();
    }

    protected override void Finish()
    {
        if (_started) { _json.WriteEndArray(); _json.WriteEndObject(); }
        _json.Flush();
    }

    private static void WriteCell(Utf8JsonWriter w, string name, ColumnData col, int r)
    {
        w.WritePropertyName(name);
        JsonValues.Write(w, col.Get(r));
    }
}

/// <summary>Writes scoring values as JSON (NaN and infinities as MLflow's server writes them: NaN, Infinity).</summary>
public static class JsonValues
{
    // Quotes and apostrophes stay readable in messages; the output is UTF-8 JSON, not HTML.
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case float f when float.IsFinite(f): w.WriteNumberValue(f); break;
            case double d when double.IsFinite(d): w.WriteNumberValue(d); break;
            case float or double: w.WriteRawValue(Convert.ToDouble(v, CultureInfo.InvariantCulture) switch { double.NaN => "NaN", > 0 => "Infinity", _ => "-Infinity" }, skipInputValidation: true); break;
            case Half h: Write(w, (float)h); break;
            case long or int or short or sbyte or byte or ushort or uint: w.WriteNumberValue(Convert.ToInt64(v, CultureInfo.InvariantCulture)); break;
            case ulong u: w.WriteNumberValue(u); break;
            case bool b: w.WriteBooleanValue(b); break;
            case string s: w.WriteStringValue(s); break;
            case DateTime dt: w.WriteStringValue(dt.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture)); break;
            case TensorData t: WriteTensor(w, t, 0, 0); break;
            case System.Collections.IDictionary d:
                w.WriteStartObject();
                foreach (System.Collections.DictionaryEntry e in d) { w.WritePropertyName(Convert.ToString(e.Key, CultureInfo.InvariantCulture)!); Write(w, e.Value); }
                w.WriteEndObject();
                break;
            case System.Collections.IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list) Write(w, item);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>A tensor as nested lists, the way numpy's tolist() gives it.</summary>
    private static long WriteTensor(Utf8JsonWriter w, TensorData t, int dim, long offset)
    {
        if (dim == t.Shape.Length) { Write(w, t.Data.GetValue(offset)); return offset + 1; }
        w.WriteStartArray();
        for (long i = 0; i < t.Shape[dim]; i++) offset = WriteTensor(w, t, dim + 1, offset);
        w.WriteEndArray();
        return offset;
    }

    public static string Serialize(object? v)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, WriterOptions)) Write(w, v);
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
