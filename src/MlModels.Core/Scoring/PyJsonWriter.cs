using System.Buffers;
using System.Globalization;
using System.Text;
using MlModels.Core.Format.Yaml;

namespace MlModels.Core.Scoring;

/// <summary>
/// Writes JSON byte for byte as Python's <c>json.dump</c> does with its defaults, which is how MLflow writes
/// predictions: ", " and ": " separators, ASCII-only strings, floats as <c>repr</c> (<c>2.0</c>, <c>1e-05</c>),
/// NaN and infinities as the bare tokens NaN, Infinity, -Infinity.
/// </summary>
public sealed class PyJsonWriter : IDisposable
{
    private readonly Stream _out;
    private byte[] _buf = ArrayPool<byte>.Shared.Rent(1 << 16);
    private int _pos;
    private bool _first = true;
    private bool _afterKey;

    public PyJsonWriter(Stream output) => _out = output;

    public void StartObject() { BeforeValue(); Byte((byte)'{'); _first = true; }
    public void EndObject() { Byte((byte)'}'); _first = false; }
    public void StartArray() { BeforeValue(); Byte((byte)'['); _first = true; }
    public void EndArray() { Byte((byte)']'); _first = false; }

    public void Key(string name)
    {
        if (!_first) Ascii(", ");
        _first = false;
        QuotedString(name);
        Ascii(": ");
        _afterKey = true;
    }

    public void Null() { BeforeValue(); Ascii("null"); }
    public void Bool(bool b) { BeforeValue(); Ascii(b ? "true" : "false"); }
    public void String(string? s) { BeforeValue(); if (s == null) Ascii("null"); else QuotedString(s); }

    public void Number(long v)
    {
        BeforeValue();
        Ensure(24);
        v.TryFormat(_buf.AsSpan(_pos), out var n, default, CultureInfo.InvariantCulture);
        _pos += n;
    }

    public void Number(ulong v)
    {
        BeforeValue();
        Ensure(24);
        v.TryFormat(_buf.AsSpan(_pos), out var n, default, CultureInfo.InvariantCulture);
        _pos += n;
    }

    /// <summary>A float as Python's repr writes it (a float32 value is widened first, as numpy's tolist() does).</summary>
    public void Number(double d)
    {
        BeforeValue();
        if (!double.IsFinite(d)) { Ascii(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity"); return; }
        Ensure(32);
        d.TryFormat(_buf.AsSpan(_pos), out var n, "R", CultureInfo.InvariantCulture);
        var written = _buf.AsSpan(_pos, n);
        if (written.IndexOf((byte)'E') >= 0) { Ascii(PyRepr.Float(d)); return; } // exponent rules differ; rare
        _pos += n;
        if (written.IndexOf((byte)'.') < 0) Ascii(".0");
    }

    /// <summary>A plain value: null, bool, numbers, string, dictionaries, lists, arrays, tensors.</summary>
    public void Value(object? v)
    {
        switch (v)
        {
            case null: Null(); break;
            case double d: Number(d); break;
            case float f: Number((double)f); break;
            case Half h: Number((double)h); break;
            case long or int or short or sbyte or byte or ushort or uint: Number(Convert.ToInt64(v, CultureInfo.InvariantCulture)); break;
            case ulong u: Number(u); break;
            case bool b: Bool(b); break;
            case string s: String(s); break;
            case decimal m: Number((double)m); break;
            case DateTime dt: String(dt.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture)); break;
            case TensorData t: Tensor(t); break;
            case Prediction p: p.WriteJson(this); break;
            case System.Collections.IDictionary dict:
                StartObject();
                foreach (System.Collections.DictionaryEntry e in dict) { Key(KeyText(e.Key)); Value(e.Value); }
                EndObject();
                break;
            case System.Collections.IEnumerable list:
                StartArray();
                foreach (var item in list) Value(item);
                EndArray();
                break;
            default: String(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
        }
    }

    /// <summary>A dictionary key as json.dump turns it into text (True → "true", 1.5 → "1.5").</summary>
    public static string KeyText(object? key) => key switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        double d => PyRepr.Float(d),
        float f => PyRepr.Float(f),
        _ => Convert.ToString(key, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>A tensor as nested lists, as numpy's tolist() gives it.</summary>
    public void Tensor(TensorData t)
    {
        if (t.Shape.Length == 0) { Element(t.Data, 0); return; }
        long offset = 0;
        TensorDim(t, 0, ref offset);
    }

    /// <summary>The rows (first dimension) of a tensor, each as a JSON value, without the enclosing list.</summary>
    public void TensorRows(TensorData t, int from, int count)
    {
        long per = 1;
        for (int d = 1; d < t.Shape.Length; d++) per *= t.Shape[d];
        long offset = from * per;
        for (int r = 0; r < count; r++)
        {
            if (t.Shape.Length == 1) Element(t.Data, offset++);
            else TensorDim(t, 1, ref offset);
        }
    }

    private void TensorDim(TensorData t, int dim, ref long offset)
    {
        StartArray();
        long n = t.Shape[dim];
        if (dim == t.Shape.Length - 1) for (long i = 0; i < n; i++) Element(t.Data, offset++);
        else for (long i = 0; i < n; i++) TensorDim(t, dim + 1, ref offset);
        EndArray();
    }

    /// <summary>One element of a typed array, without boxing for the common types.</summary>
    public void Element(Array data, long i)
    {
        switch (data)
        {
            case double[] d: Number(d[i]); break;
            case float[] f: Number((double)f[i]); break;
            // Exact types only: a ulong[] or uint[] also passes as long[] or int[] and would be written negative.
            case long[] l when l.GetType() == typeof(long[]): Number(l[i]); break;
            case int[] n when n.GetType() == typeof(int[]): Number(n[i]); break;
            case bool[] b: Bool(b[i]); break;
            case string?[] s: String(s[i]); break;
            default: Value(data.GetValue(i)); break;
        }
    }

    public void Flush()
    {
        if (_pos > 0) { _out.Write(_buf, 0, _pos); _pos = 0; }
        _out.Flush();
    }

    public void Dispose()
    {
        if (_buf.Length == 0) return;
        if (_pos > 0) { _out.Write(_buf, 0, _pos); _pos = 0; }
        ArrayPool<byte>.Shared.Return(_buf);
        _buf = [];
    }

    private void BeforeValue()
    {
        if (_afterKey) { _afterKey = false; return; }
        if (!_first) Ascii(", ");
        _first = false;
    }

    private void Ensure(int n)
    {
        if (_pos + n <= _buf.Length) return;
        _out.Write(_buf, 0, _pos);
        _pos = 0;
        if (n > _buf.Length)
        {
            ArrayPool<byte>.Shared.Return(_buf);
            _buf = ArrayPool<byte>.Shared.Rent(n);
        }
    }

    private void Byte(byte b) { Ensure(1); _buf[_pos++] = b; }

    private void Ascii(string s)
    {
        Ensure(s.Length);
        for (int i = 0; i < s.Length; i++) _buf[_pos++] = (byte)s[i];
    }

    private void QuotedString(string s)
    {
        Ensure(s.Length * 6 + 2);
        _buf[_pos++] = (byte)'"';
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': _buf[_pos++] = (byte)'\\'; _buf[_pos++] = (byte)'"'; break;
                case '\\': _buf[_pos++] = (byte)'\\'; _buf[_pos++] = (byte)'\\'; break;
                case '\n': _buf[_pos++] = (byte)'\\'; _buf[_pos++] = (byte)'n'; break;
                case '\r': _buf[_pos++] = (byte)'\\'; _buf[_pos++] = (byte)'r'; break;
                case '\t': _buf[_pos++] = (byte)'\\'; _buf[_pos++] = (byte)'t'; break;
                case '\b': _buf[_pos++] = (byte)'\\'; _buf[_pos++] = (byte)'b'; break;
                case '\f': _buf[_pos++] = (byte)'\\'; _buf[_pos++] = (byte)'f'; break;
                default:
                    if (c < 0x20 || c > 0x7e)
                    {
                        _buf[_pos++] = (byte)'\\';
                        _buf[_pos++] = (byte)'u';
                        ((int)c).TryFormat(_buf.AsSpan(_pos, 4), out _, "x4", CultureInfo.InvariantCulture);
                        _pos += 4;
                    }
                    else _buf[_pos++] = (byte)c;
                    break;
            }
        }
        _buf[_pos++] = (byte)'"';
    }

    /// <summary>A value as JSON text, Python-style.</summary>
    public static string Serialize(object? v)
    {
        using var ms = new MemoryStream();
        using (var w = new PyJsonWriter(ms)) w.Value(v);
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}
