using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Net.Http;
using MlModels.Core.Format;
using MlModels.Core.Serving;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Serves a model over MLflow's scoring protocol in its own process: in the foreground until Ctrl+C, or -Background.</summary>
[Cmdlet(VerbsLifecycle.Start, "MLModelServer", SupportsShouldProcess = true)]
[OutputType(typeof(MLModelServerInfo))]
public sealed class StartMLModelServerCommand : MLModelCmdlet
{
    [Parameter(ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    /// <summary>The model folder, instead of -Model.</summary>
    [Parameter]
    [Alias("ModelPath")]
    public string? Path { get; set; }

    [Parameter]
    [ValidateRange(0, 65535)]
    public int Port { get; set; } = 5000;

    /// <summary>The address to listen on; 127.0.0.1 unless told otherwise.</summary>
    [Parameter]
    public string HostName { get; set; } = "127.0.0.1";

    [Parameter]
    [ValidateRange(1, 86_400)]
    public int TimeoutSec { get; set; } = 60;

    /// <summary>Python workers for python_function models.</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int Workers { get; set; } = 1;

    [Parameter]
    [ValidateRange(1, 100_000)]
    public int MaxRequestBodyMB { get; set; } = 100;

    /// <summary>Requests must then send it in the X-API-Key header (or as a Bearer token). It reaches the server through its environment, not its command line.</summary>
    [Parameter]
    public System.Security.SecureString? ApiKey { get; set; }

    [Parameter]
    public string? PythonPath { get; set; }

    /// <summary>Returns the server object at once and leaves the server running.</summary>
    [Parameter]
    public SwitchParameter Background { get; set; }

    /// <summary>Seconds to wait for the server to answer /ping after it starts.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int StartTimeoutSec { get; set; } = 120;

    protected override void ProcessRecord()
    {
        var model = ModelFromArguments(Model, Path);
        if (model == null) return;
        if (model.Path == null) { WriteError(Errors.Record(new InvalidOperationException("Save the model before serving it."), "ModelNotSaved", ErrorCategory.InvalidOperation, model)); return; }
        if (!ShouldProcess($"http://{HostName}:{Port}", $"Serve model '{model.Name}'")) return;

        Process process;
        try { process = Launch(model); }
        catch (FileNotFoundException ex) { ThrowTerminatingError(Errors.Record(ex, "ServerRuntimeMissing", ErrorCategory.NotInstalled, model)); return; }

        // Log lines go to the pipeline while this command watches the server; a background server's go to its log file,
        // since nothing would drain them here.
        var lines = new BlockingCollection<string>();
        var sink = new ServerLogSink(lines);
        process.OutputDataReceived += (_, e) => { if (e.Data != null) sink.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) sink.Add("stderr: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var info = new MLModelServerInfo
        {
            ProcessId = process.Id, HostName = HostName, Port = Port, ModelPath = model.Path, ModelName = model.Name, StartTime = process.StartTime.ToUniversalTime(),
            LogPath = Background ? System.IO.Path.Combine(ServerRegistry.StateDirectory, $"{process.Id}.log") : null,
        };

        var recent = new Queue<string>();
        if (!WaitUntilReady(info, process, lines, recent))
        {
            try { if (!process.HasExited) process.Kill(true); } catch (InvalidOperationException) { }
            var detail = string.Join(Environment.NewLine, recent.TakeLast(10));
            WriteError(Errors.Record(new InvalidOperationException($"The server for model '{model.Name}' did not start on {info.Url}.{(detail.Length > 0 ? Environment.NewLine + detail : "")}"), "ServerStartFailed", ErrorCategory.OpenError, model));
            return;
        }
        ServerRegistry.Register(info);
        ServerProcesses.Track(info.ProcessId, process);
        if (Background)
        {
            sink.RedirectTo(info.LogPath!);
            WriteObject(info);
            return;
        }
        WriteVerbose($"Serving '{model.Name}' on {info.Url}; press Ctrl+C to stop.");
        Host.UI.WriteLine($"Serving '{model.Name}' on {info.Url}; press Ctrl+C to stop.");
        try
        {
            while (!process.HasExited)
            {
                if (lines.TryTake(out var line, 200, CancelToken)) WriteVerbose(line);
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            ServerProcesses.Stop(info, TimeSpan.FromSeconds(TimeoutSec + 5));
            ServerRegistry.Remove(info.ProcessId);
        }
    }

    private Process Launch(MLModel model)
    {
        var psi = new ProcessStartInfo(ServerRegistry.DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            ServerRegistry.ServerAssembly(), "--model", model.Path!, "--host", HostName, "--port", Port.ToString(CultureInfo.InvariantCulture),
            "--timeout", TimeoutSec.ToString(CultureInfo.InvariantCulture), "--workers", Workers.ToString(CultureInfo.InvariantCulture),
            "--max-body-mb", MaxRequestBodyMB.ToString(CultureInfo.InvariantCulture), "--watch-stdin",
        }) psi.ArgumentList.Add(a);
        if (PythonPath != null) { psi.ArgumentList.Add("--python"); psi.ArgumentList.Add(PythonPath); }
        if (ApiKey != null) psi.Environment["MLMODELS_API_KEY"] = new System.Net.NetworkCredential("", ApiKey).Password;
        return Process.Start(psi) ?? throw new InvalidOperationException("The server process did not start.");
    }

    private bool WaitUntilReady(MLModelServerInfo info, Process process, BlockingCollection<string> lines, Queue<string> recent)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(StartTimeoutSec);
        var progress = new ProgressRecord(5, "Start-MLModelServer", $"Starting the server for {info.ModelName} on {info.Url}");
        while (DateTime.UtcNow < deadline && !CancelToken.IsCancellationRequested)
        {
            while (lines.TryTake(out var line)) { recent.Enqueue(line); WriteVerbose(line); }
            if (process.HasExited) { Thread.Sleep(200); while (lines.TryTake(out var l)) recent.Enqueue(l); return false; }
            try
            {
                if (http.GetAsync(info.Url + "/ping", CancelToken).GetAwaiter().GetResult().IsSuccessStatusCode)
                {
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                    return true;
                }
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            WriteProgress(progress);
            Thread.Sleep(250);
        }
        return false;
    }
}

/// <summary>Where a server's log lines go: a queue the foreground command drains, or (background) a log file.</summary>
internal sealed class ServerLogSink(BlockingCollection<string> queue)
{
    private readonly object _gate = new();
    private StreamWriter? _file;

    public void Add(string line)
    {
        lock (_gate)
        {
            if (_file != null) { _file.WriteLine(line); return; }
        }
        queue.Add(line);
    }

    public void RedirectTo(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        lock (_gate)
        {
            _file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            while (queue.TryTake(out var pending)) _file.WriteLine(pending);
        }
    }
}

/// <summary>Servers this session started, so they can be stopped gracefully (closing their stdin) rather than killed.</summary>
internal static class ServerProcesses
{
    private static readonly ConcurrentDictionary<int, Process> Started = new();

    public static void Track(int pid, Process p) => Started[pid] = p;

    /// <summary>Asks the server to finish in-flight requests and stop; kills it if it has not stopped in time.</summary>
    public static bool Stop(MLModelServerInfo info, TimeSpan grace)
    {
        if (Started.TryRemove(info.ProcessId, out var own))
        {
            try { own.StandardInput.Close(); } catch (IOException) { } catch (InvalidOperationException) { }
            if (own.WaitForExit((int)grace.TotalMilliseconds)) return true;
            try { own.Kill(true); } catch (InvalidOperationException) { }
            return false;
        }
        try
        {
            using var p = Process.GetProcessById(info.ProcessId);
            p.Kill(true);
            p.WaitForExit(5000);
        }
        catch (ArgumentException) { }
        catch (InvalidOperationException) { }
        return false;
    }
}
