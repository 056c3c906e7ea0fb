using System.Diagnostics;
using System.Globalization;

namespace MlModels.Server;

/// <summary>
/// Where the server's start goes, from the process's own start: the runtime up to Main, reading the model, making its
/// scorer (the ONNX session or the Python workers), building the host, listening, and the first request answered. The
/// server logs it once listening and once after its first request, so a cold start can be read from the log alone
/// (bench/cold-start.sh reads it from containers).
/// </summary>
public sealed class StartupTimeline
{
    private readonly DateTime _processStart;
    private readonly long _main = Stopwatch.GetTimestamp();
    private readonly List<(string Phase, double Ms)> _phases = [];
    private long _last;
    private int _firstRequest;

    public StartupTimeline()
    {
        try { _processStart = Process.GetCurrentProcess().StartTime.ToUniversalTime(); }
        catch (InvalidOperationException) { _processStart = DateTime.UtcNow; }
        _last = _main;
        _phases.Add(("runtime", Math.Max(0, (DateTime.UtcNow - _processStart).TotalMilliseconds)));
    }

    /// <summary>Ends a phase: the time since the previous one.</summary>
    public void Mark(string phase)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_phases) _phases.Add((phase, Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds));
        _last = now;
    }

    /// <summary>Milliseconds since the process started.</summary>
    public double SinceProcessStart => _phases[0].Ms + Stopwatch.GetElapsedTime(_main).TotalMilliseconds;

    public string Listening()
    {
        Mark("listening");
        lock (_phases)
            return "startup: " + string.Join(", ", _phases.Select(p => $"{p.Phase} {Ms(p.Ms)} ms")) +
                $"; listening {Ms(SinceProcessStart)} ms after the process started";
    }

    /// <summary>The first request's line, once; null for every later request.</summary>
    public string? FirstRequest(string method, string path, int status, double ms) =>
        Interlocked.Exchange(ref _firstRequest, 1) == 0
            ? $"first request: {method} {path} {status} in {Ms(ms)} ms, answered {Ms(SinceProcessStart)} ms after the process started"
            : null;

    private static string Ms(double ms) => ms.ToString("0", CultureInfo.InvariantCulture);
}
