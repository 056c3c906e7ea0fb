using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MlModels.Server;

/// <summary>
/// One JSON line per request (and per server message) on standard output or the server's log file. A request only
/// queues its entry; a background thread formats the queued lines and writes them in one write (so one flush) every
/// <see cref="FlushInterval"/>. Logging never blocks or fails a request: when the writer cannot keep up and the queue
/// is full, entries are dropped and a line says how many.
/// </summary>
internal sealed class RequestLog : IDisposable
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(25);
    private const int Capacity = 100_000;

    private readonly TextWriter _output;
    private readonly ConcurrentQueue<Entry> _queue = new();
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread _writer;
    private readonly object _gate = new();
    private readonly ArrayBufferWriter<byte> _utf8 = new(1 << 16);
    private char[] _chars = new char[1 << 16];
    private int _pending;
    private long _dropped;
    private bool _stopped;

    private readonly record struct Entry(DateTime Time, string? Method, string? Path, int Status, double Ms, string? Message);

    public RequestLog(TextWriter output)
    {
        _output = output;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "request-log" };
        _writer.Start();
    }

    public void Request(string method, string path, int status, double ms) => Enqueue(new Entry(DateTime.UtcNow, method, path, status, ms, null));

    public void Message(string message) => Enqueue(new Entry(DateTime.UtcNow, null, null, 0, 0, message));

    private void Enqueue(Entry e)
    {
        if (Volatile.Read(ref _stopped))
        {
            // After the writer stopped (shutdown), the rare late line is written at once.
            lock (_gate) WriteEntries([e]);
            return;
        }
        if (Interlocked.Increment(ref _pending) > Capacity)
        {
            Interlocked.Decrement(ref _pending);
            Interlocked.Increment(ref _dropped);
            return;
        }
        _queue.Enqueue(e);
    }

    private void WriteLoop()
    {
        var batch = new List<Entry>();
        while (true)
        {
            bool stopping = _stop.Wait(FlushInterval);
            batch.Clear();
            while (_queue.TryDequeue(out var e)) batch.Add(e);
            Interlocked.Add(ref _pending, -batch.Count);
            var dropped = Interlocked.Exchange(ref _dropped, 0);
            if (dropped > 0) batch.Add(new Entry(
                DateTime.UtcNow,
                null,
                null,
                0,
                0,
                $"{dropped} request log lines were dropped: the log's reader was slower than the requests."));
            if (batch.Count > 0) lock (_gate) WriteEntries(batch);
            if (stopping && _queue.IsEmpty) return;
        }
    }

    /// <summary>Formats the entries as JSON lines and writes them to the output in one call.</summary>
    private void WriteEntries(IReadOnlyList<Entry> entries)
    {
        _utf8.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(_utf8, new JsonWriterOptions { SkipValidation = true }))
        {
            Span<char> ts = stackalloc char[40];
            foreach (var e in entries)
            {
                json.WriteStartObject();
                e.Time.TryFormat(ts, out int n, "O", CultureInfo.InvariantCulture);
                json.WriteString("ts", ts[..n]);
                if (e.Message != null) json.WriteString("message", e.Message);
                else
                {
                    json.WriteString("method", e.Method);
                    json.WriteString("path", e.Path);
                    json.WriteNumber("status", e.Status);
                    json.WriteNumber("ms", Math.Round(e.Ms, 3));
                }
                json.WriteEndObject();
                json.Flush();
                _utf8.Write("\n"u8);
                json.Reset();
            }
        }
        var bytes = _utf8.WrittenSpan;
        var need = Encoding.UTF8.GetMaxCharCount(bytes.Length);
        if (_chars.Length < need) _chars = new char[need];
        var count = Encoding.UTF8.GetChars(bytes, _chars);
        // Logging must never fail a request: a reader that went away (a closed pipe) is ignored.
        try
        {
            _output.Write(_chars, 0, count);
            _output.Flush();
        }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>Writes what is queued and stops the writer; later lines are written directly.</summary>
    public void Dispose()
    {
        if (_stopped) return;
        _stop.Set();
        _writer.Join(TimeSpan.FromSeconds(5));
        Volatile.Write(ref _stopped, true);
        // Anything queued between the writer's last look and the switch above.
        var rest = new List<Entry>();
        while (_queue.TryDequeue(out var e)) rest.Add(e);
        if (rest.Count > 0) lock (_gate) WriteEntries(rest);
    }
}
