using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;

namespace MlModels.Core.Scoring.Onnx;

public enum OnnxLogSeverity { Verbose, Info, Warning, Error, Fatal }

/// <summary>One line of ONNX Runtime's own log.</summary>
public sealed partial record OnnxLogMessage(OnnxLogSeverity Severity, string Category, string Location, string Text)
{
    /// <summary>
    /// True for what a user should act on: errors, and warnings about the model itself (an opset older than ONNX Runtime
    /// guarantees, a fallback to another device, deprecation). Optimizer notes and unused initializers are not.
    /// </summary>
    public bool MattersToUser => Severity >= OnnxLogSeverity.Error || (Severity == OnnxLogSeverity.Warning && Relevant().IsMatch(Text));

    [GeneratedRegex(
        @"guarantees\* support|upgrade your model|fall(ing)? ?back|deprecated|will be removed|lose precision|not supported",
        RegexOptions.IgnoreCase)]
    private static partial Regex Relevant();

    public override string ToString() => $"ONNX Runtime {Severity.ToString().ToLowerInvariant()} ({Location}): {Text}";
}

/// <summary>
/// ONNX Runtime's log, taken off the console. ORT has one logger per process; its lines go to the sink routed on the
/// calling thread's flow (a cmdlet: Warning or Verbose), else to <see cref="Unrouted"/> (the server: its log).
/// </summary>
public static class OnnxRuntimeLog
{
    private static readonly AsyncLocal<Action<OnnxLogMessage>?> Sink = new();

    /// <summary>Where lines logged outside any routed flow go (ORT's own threads, the server); dropped when null.</summary>
    public static Action<OnnxLogMessage>? Unrouted { get; set; }

    /// <summary>Sends ORT's log lines from this flow (and tasks started from it) to <paramref name="sink"/> until disposed.</summary>
    public static IDisposable Route(Action<OnnxLogMessage> sink)
    {
        var previous = Sink.Value;
        Sink.Value = sink;
        return new Restore(previous);
    }

    internal static void Deliver(OnnxLogMessage message)
    {
        try { (Sink.Value ?? Unrouted)?.Invoke(message); }
        // Called from native code: an exception must never cross back into ONNX Runtime, whatever it is.
#pragma warning disable RCS1075
        catch (Exception) { }
#pragma warning restore RCS1075
    }

    private sealed class Restore(Action<OnnxLogMessage>? previous) : IDisposable
    {
        public void Dispose() => Sink.Value = previous;
    }
}

/// <summary>Creates ORT's process-wide environment with our logging callback before anything else touches it.</summary>
internal static class OnnxRuntimeEnvironment
{
    private static DOrtLoggingFunction? _callback; // native code holds a pointer to it: keep it alive

    public static void Create()
    {
        if (OrtEnv.IsCreated) return;
        _callback = OnLog;
        var options = new EnvironmentCreationOptions
        {
            logId = "MlModels",
            logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
            loggingFunction = _callback,
        };
        OrtEnv.CreateInstanceWithOptions(ref options);
    }

    private static void OnLog(IntPtr param, OrtLoggingLevel severity, string category, string logId, string codeLocation, string message) =>
        OnnxRuntimeLog.Deliver(new OnnxLogMessage(severity switch
        {
            OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE => OnnxLogSeverity.Verbose,
            OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO => OnnxLogSeverity.Info,
            OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING => OnnxLogSeverity.Warning,
            OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR => OnnxLogSeverity.Error,
            _ => OnnxLogSeverity.Fatal,
        }, category, codeLocation, message));
}
