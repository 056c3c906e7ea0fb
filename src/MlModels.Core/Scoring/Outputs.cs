using System.Globalization;
using System.Text;
using System.Text.Json;
using MlModels.Core.Format;

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
    protected StreamWriter Writer { get; }

    protected PredictionFileWriter(string path, bool overwrite)
    {
        _target = Path.GetFullPath(path);
        _overwrite = overwrite;
        if (File.Exists(_target) && !overwrite) throw new TargetExistsException($"{_target} already exists.", _target);
        var dir = Path.GetDirectoryName(_target)!;
        Directory.CreateDirectory(dir);
        _temp = Path.Combine(dir, $".{Path.GetFileName(_target)}.{Guid.NewGuid():N}.tmp");
        Writer = new StreamWriter(new FileStream(_temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16), new UTF8Encoding(false),
            1 << 16)
        { NewLine = "\n" };
    }

    public static PredictionFileWriter Create(string path, PredictionFormat format, bool includeInput, bool overwrite) => format switch
    {
        PredictionFormat.Json => new JsonPredictionWriter(path, includeInput, overwrite),
        _ => new CsvPredictionWriter(path, includeInput, overwrite),
    };

    public static PredictionFormat FormatFor(string path) =>
        Path.GetExtension(path).Equals(".json", StringComparison.OrdinalIgnoreCase) ? PredictionFormat.Json : PredictionFormat.Csv;

    /// <summary>Writes the prediction of one batch (<paramref name="input"/>: the rows it was made from, when it came from a table).</summary>
    public abstract void Write(Frame? input, Prediction output);

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

/// <summary>CSV of the prediction's table form (pandas' <c>to_csv</c> of a DataFrame): a header, then one row per prediction.</summary>
public sealed class CsvPredictionWriter(string path, bool includeInput, bool overwrite) : PredictionFileWriter(path, overwrite)
{
    private bool _header;
    // Numbers are formatted straight to UTF-8 in this buffer; text cells go through the StreamWriter.
    private readonly byte[] _bytes = new byte[1 << 16];
    private int _pos;

    public override void Write(Frame? input, Prediction output)
    {
        var table = output.ToTable()
            ?? throw new PredictionShapeException(
                $"The model returned a {output.Kind}, not one value per row, which has no CSV form; write it as JSON.",
                PredictionShapeProblem.NoTableForm);
        var cols = new List<ColumnData>();
        var names = new List<string>();
        if (includeInput && input != null) { cols.AddRange(input.Columns); names.AddRange(input.Names); }
        cols.AddRange(table.Columns);
        names.AddRange(table.Names);
        Writer.Flush();
        var stream = Writer.BaseStream;
        if (!_header)
        {
            WriteText(string.Join(",", names.Select(Quote)) + "\n", stream);
            _header = true;
        }
        var inv = CultureInfo.InvariantCulture;
        for (int r = 0; r < table.RowCount; r++)
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
                    case float[] f:
                        if (!FloatText.TryFormat(f[r], _bytes.AsSpan(_pos), out n)) f[r].TryFormat(_bytes.AsSpan(_pos), out n, default, inv);
                        _pos += n;
                        break;
                    case double[] d: d[r].TryFormat(_bytes.AsSpan(_pos), out n, default, inv); _pos += n; break;
                    // Exact types only: a ulong[] or uint[] also passes as long[] or int[] and would print negative.
                    case long[] l when l.GetType() == typeof(long[]): l[r].TryFormat(_bytes.AsSpan(_pos), out n, default, inv); _pos += n; break;
                    case int[] i when i.GetType() == typeof(int[]): i[r].TryFormat(_bytes.AsSpan(_pos), out n, default, inv); _pos += n; break;
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
        Array or System.Collections.IDictionary or System.Collections.IList => PyJsonWriter.Serialize(v),
        IFormattable fm => fm.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    });
}

/// <summary>MLflow's JSON as <c>mlflow models predict -o x.json</c> writes it.</summary>
public sealed class JsonPredictionWriter : PredictionFileWriter
{
    private readonly PredictionJsonWriter _json;

    public JsonPredictionWriter(string path, bool includeInput, bool overwrite, bool unwrapped = false) : base(path, overwrite) =>
        _json = new PredictionJsonWriter(Writer.BaseStream, includeInput, unwrapped);

    public override void Write(Frame? input, Prediction output) => _json.Write(input, output);

    protected override void Finish() => _json.Complete();
}

/// <summary>
/// Writes predictions as MLflow's <c>predictions_to_json</c> does (<c>{"predictions": ...}</c>, Python's json.dump
/// layout, no trailing newline), to a file or a response body. Batches of a list-shaped result (arrays, Series,
/// DataFrames, lists) append to one list as they come; other results (dicts) are combined at the end.
/// With <paramref name="includeInput"/>, each row is a record of the input's columns and the prediction's table columns.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001",
    Justification = "Complete() disposes the writer; one abandoned on a failure must not write its half-made JSON to the response.")]
public sealed class PredictionJsonWriter(Stream output, bool includeInput = false, bool unwrapped = false)
{
    private readonly PyJsonWriter _w = new(output);
    private readonly List<Prediction> _held = [];
    private bool _listStarted;

    public void Write(Frame? input, Prediction prediction)
    {
        if (includeInput && input != null && prediction.ToTable() is Frame table)
        {
            StartList();
            for (int r = 0; r < table.RowCount; r++)
            {
                _w.StartObject();
                for (int c = 0; c < input.Columns.Count; c++) Cell(input.Names[c], input.Columns[c], r);
                for (int c = 0; c < table.Columns.Count; c++) Cell(table.Names[c], table.Columns[c], r);
                _w.EndObject();
            }
        }
        else if (prediction.IsList && _held.Count == 0)
        {
            StartList();
            prediction.WriteItems(_w);
        }
        else
        {
            if (_listStarted)
                throw new PredictionShapeException(
                    $"The model returned a {prediction.Kind} for a later batch after lists for earlier ones; score the input in one batch.",
                    PredictionShapeProblem.BatchesDiffer);
            _held.Add(prediction);
        }
        _w.Flush();
    }

    private void Cell(string name, ColumnData col, int r)
    {
        _w.Key(name);
        if (col.Missing != null && col.Missing[r]) _w.Null();
        else _w.Element(col.Values, r);
    }

    private void StartList()
    {
        if (_listStarted) return;
        if (_held.Count > 0)
            throw new PredictionShapeException(
                $"The model returned a {_held[0].Kind} for one batch and a list for another; score the input in one batch.",
                PredictionShapeProblem.BatchesDiffer);
        if (!unwrapped) { _w.StartObject(); _w.Key("predictions"); }
        _w.StartArray();
        _listStarted = true;
    }

    /// <summary>Closes the document; a result with no batches at all is an empty list.</summary>
    public void Complete()
    {
        if (_listStarted)
        {
            _w.EndArray();
            if (!unwrapped) _w.EndObject();
        }
        else if (_held.Count > 0)
        {
            if (!unwrapped) { _w.StartObject(); _w.Key("predictions"); }
            Prediction.Concat(_held).WriteJson(_w);
            if (!unwrapped) _w.EndObject();
        }
        else
        {
            StartList();
            _w.EndArray();
            if (!unwrapped) _w.EndObject();
        }
        _w.Flush();
        _w.Dispose();
    }

    /// <summary>One prediction as a whole MLflow JSON document.</summary>
    public static byte[] ToBytes(Prediction prediction, bool unwrapped = false)
    {
        using var ms = new MemoryStream();
        var w = new PredictionJsonWriter(ms, false, unwrapped);
        w.Write(null, prediction);
        w.Complete();
        return ms.ToArray();
    }
}

/// <summary>Writes plain values as JSON for the worker protocol and CSV cells.</summary>
public static class JsonValues
{
    public static string Serialize(object? v) => PyJsonWriter.Serialize(v);
}
