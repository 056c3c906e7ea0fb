using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring.Python;

/// <summary>What went wrong with a Python worker; callers choose their answer (and their advice) by it.</summary>
public enum PythonWorkerFailure
{
    /// <summary>The model or the worker raised in Python; <see cref="PythonWorkerException.PythonType"/> names the exception.</summary>
    Raised,
    /// <summary>The model imports a module its Python lacks (<see cref="PythonWorkerException.MissingModule"/>).</summary>
    ModuleMissing,
    /// <summary>No Python was found, or the one named could not be started.</summary>
    PythonNotFound,
    /// <summary>A virtual environment needs an interpreter of the model's Python version, and none was found.</summary>
    PythonVersionNotFound,
    CondaNotFound,
    /// <summary>The model has no file to build the chosen environment from.</summary>
    EnvironmentFileMissing,
    /// <summary>Making the environment failed (venv, pip or conda).</summary>
    EnvironmentFailed,
    /// <summary>The worker did not answer within its timeout and was stopped.</summary>
    Timeout,
    /// <summary>The worker process exited while it was being used.</summary>
    WorkerExited,
    /// <summary>The worker sent a malformed reply and was stopped.</summary>
    BadReply,
}

/// <summary>A Python worker failed: it could not load the model, raised in predict, crashed, or stopped answering.</summary>
public sealed class PythonWorkerException(string message, PythonWorkerFailure kind, string? pythonType = null, string? missingModule = null,
    Exception? inner = null, string? traceback = null, string? stage = null)
    : Exception(message, inner)
{
    public PythonWorkerFailure Kind { get; } = kind;
    /// <summary>
    /// Where in the worker it failed: "load", "input" (the data could not be made into what the model takes),
    /// "predict" (the model raised), "output" (the result could not be sent back); null when the worker itself failed.
    /// </summary>
    public string? Stage { get; } = stage;
    /// <summary>The Python exception's type name; for a failure outside Python, the name of its <see cref="Kind"/>.</summary>
    public string? PythonType { get; } = pythonType ?? (kind == PythonWorkerFailure.Raised ? null : kind.ToString());
    public string? MissingModule { get; } = missingModule;
    /// <summary>The Python traceback, when the failure was an exception inside the worker.</summary>
    public string? PythonTraceback { get; } = traceback;
}

/// <summary>
/// One long-lived Python process serving one model over its stdin/stdout (length-prefixed JSON headers with
/// columnar binary payloads). Its stderr is passed on line by line. Every wait is bounded by a timeout, after which
/// the process is killed, so a hung model never hangs the caller.
/// </summary>
public sealed class PythonWorker : IDisposable
{
    private readonly Process _process;
    private readonly Stream _in;
    private readonly Stream _out;
    private readonly string _modelName;
    private MLModel? _model; // for install hints: the versions its environment files pin
    private readonly Queue<string> _lastStderr = new();
    private readonly object _gate = new();
    private bool _disposed;

    public string PythonPath { get; }
    public string? PythonVersion { get; private set; }
    /// <summary>How the model was loaded: "mlflow", or the worker's own loader.</summary>
    public string? LoadedBy { get; private set; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;
    /// <summary>False once the worker died, timed out or was killed: it must not be used again.</summary>
    public bool IsUsable => !_broken && !_process.HasExited;
    private volatile bool _broken;
    private volatile bool _timedOut;
    private volatile Action<string>? _stderr;

    /// <summary>Where the worker's stderr lines go; a cached worker's lines go to whichever call holds it now.</summary>
    public Action<string>? Stderr { get => _stderr; set => _stderr = value; }

    private PythonWorker(Process process, string python, string modelName)
    {
        _process = process;
        _in = process.StandardInput.BaseStream;
        _out = process.StandardOutput.BaseStream;
        PythonPath = python;
        _modelName = modelName;
    }

    /// <summary>
    /// The worker script, written from the embedded resource into a per-user folder. An existing file is used only when
    /// its bytes are exactly ours, so nothing planted there is ever run.
    /// </summary>
    public static string WorkerScript()
    {
        using var res = typeof(PythonWorker).Assembly.GetManifestResourceStream("mlmodels_worker.py")
            ?? throw new InvalidOperationException("The Python worker script is missing from MlModels.Core.");
        using var ms = new MemoryStream();
        res.CopyTo(ms);
        var bytes = ms.ToArray();
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))[..16];
        var dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create),
            "mlmodels", "worker");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, $"mlmodels_worker_{hash}.py");
        if (!File.Exists(file) || !File.ReadAllBytes(file).AsSpan().SequenceEqual(bytes))
        {
            var tmp = file + "." + Guid.NewGuid().ToString("N");
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, file, overwrite: true);
        }
        return file;
    }

    /// <summary>Starts the worker and loads the model's python_function flavor in it.</summary>
    public static PythonWorker Start(MLModel model, string python, Action<string>? stderr, TimeSpan loadTimeout,
        IDictionary<string, string>? environment = null)
    {
        if (model.Path == null) throw new InvalidOperationException("Save the model before scoring it.");
        if (!model.Flavors.ContainsKey("python_function"))
            throw new InvalidOperationException($"Model '{model.Name}' has no python_function flavor (flavors: " +
                $"{string.Join(", ", model.FlavorNames)}).");
        var psi = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = model.Path,
        };
        psi.ArgumentList.Add("-u");
        psi.ArgumentList.Add(WorkerScript());
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        psi.Environment["PYTHONIOENCODING"] = "utf-8";
        if (environment != null) foreach (var (k, v) in environment) psi.Environment[k] = v;
        Process process;
        try { process = Process.Start(psi) ?? throw new InvalidOperationException("no process"); }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new PythonWorkerException($"Cannot start Python at '{python}': {ex.Message}.", PythonWorkerFailure.PythonNotFound, inner: ex);
        }
        var worker = new PythonWorker(process, python, model.Name) { _model = model, _stderr = stderr };
        var reader = new Thread(worker.PumpStderr) { IsBackground = true, Name = "mlmodels-python-stderr" };
        reader.Start();
        try
        {
            var (reply, _) = worker.Call(LoadHeader(model), [], loadTimeout, "loading the model");
            worker.PythonVersion = WorkerFrames.Text(reply, "python");
            worker.LoadedBy = WorkerFrames.Text(reply, "how");
            return worker;
        }
        catch
        {
            worker.Dispose();
            throw;
        }
    }

    /// <summary>The load request for a model: its folder and the flavors as held in memory (which may differ from the file).</summary>
    internal static JsonObject LoadHeader(MLModel model)
    {
        var pyfunc = model.Flavors["python_function"];
        var conf = JsonNode.Parse(JsonValues.Serialize(pyfunc.Attributes));
        var flavors = JsonNode.Parse(JsonValues.Serialize(model.Flavors.ToDictionary(kv => kv.Key, kv => (object?)kv.Value.Attributes)));
        var header = new JsonObject { ["op"] = "load", ["path"] = model.Path, ["conf"] = conf, ["flavors"] = flavors };
        if (model.IsFirstPyfuncLayout) header["mlflow"] = false; // MLflow 2+ cannot read that MLmodel; use its loader module
        return header;
    }

    private void PumpStderr()
    {
        try
        {
            string? line;
            var reader = _process.StandardError;
            while ((line = reader.ReadLine()) != null)
            {
                if (line == ReplyMark)
                {
                    lock (_marks) { _marksSeen++; Monitor.PulseAll(_marks); }
                    continue;
                }
                lock (_lastStderr)
                {
                    _lastStderr.Enqueue(line);
                    while (_lastStderr.Count > 20) _lastStderr.Dequeue();
                }
                _stderr?.Invoke(line);
            }
        }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
        finally { lock (_marks) { _stderrClosed = true; Monitor.PulseAll(_marks); } }
    }

    // The worker writes this line to stderr just before each reply, so everything the model printed while handling a
    // request reaches that call's sink before the call returns (stderr and stdout are separate pipes, read apart).
    private const string ReplyMark = "\u001emlmodels-reply";
    private readonly object _marks = new();
    private long _marksSeen, _replies;
    private bool _stderrClosed;

    private void AwaitReplyMark()
    {
        var expected = ++_replies;
        var deadline = Environment.TickCount64 + 2000;
        lock (_marks)
            while (_marksSeen < expected && !_stderrClosed)
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0 || !Monitor.Wait(_marks, (int)left)) break;
            }
    }

    /// <summary>Sends one request and waits for its reply; a timeout or a dead process kills the worker and throws.</summary>
    public (JsonObject Header, byte[] Payload) Call(JsonObject header, ReadOnlySpan<byte> payload, TimeSpan timeout, string what,
        CancellationToken ct = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            header["payload"] = payload.Length;
            var head = Encoding.UTF8.GetBytes(header.ToJsonString());
            var len = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(len, head.Length);
            try
            {
                _in.Write(len);
                _in.Write(head);
                _in.Write(payload);
                _in.Flush();
            }
            catch (IOException ex)
            {
                _broken = true;
                throw Died(what, ex);
            }
            // Read on this thread; a timer kills the process if the reply is late, which ends the read.
            (JsonObject, byte[]) result;
            _timedOut = false;
            using (var timer = new Timer(_ => { _timedOut = true; Kill(); }, null, timeout, Timeout.InfiniteTimeSpan))
            using (ct.Register(Kill))
            {
                try { result = WorkerFrames.Read(_out, _modelName); }
                catch (PythonWorkerException)
                {
                    // A malformed frame leaves the stream out of step: this worker cannot be used again.
                    Kill();
                    throw;
                }
                catch (Exception ex) when (ex is EndOfStreamException or IOException or ObjectDisposedException)
                {
                    _broken = true;
                    ct.ThrowIfCancellationRequested();
                    if (_timedOut)
                        throw new PythonWorkerException(
                            $"The Python worker for model '{_modelName}' did not finish {what} within {timeout.TotalSeconds:N0} s; it was stopped.",
                            PythonWorkerFailure.Timeout);
                    throw Died(what, ex);
                }
            }
            AwaitReplyMark();
            var (reply, body) = result;
            if (reply["ok"]?.GetValueKind() != JsonValueKind.True)
            {
                var type = WorkerFrames.Text(reply, "type");
                var error = WorkerFrames.Text(reply, "error");
                var module = WorkerFrames.Text(reply, "module");
                var tb = WorkerFrames.Text(reply, "traceback");
                var missing = IsMissingModule(type, module);
                throw new PythonWorkerException(Explain(what, type, error, module),
                    missing ? PythonWorkerFailure.ModuleMissing : PythonWorkerFailure.Raised, type, module, null, tb,
                        WorkerFrames.Text(reply, "stage"));
            }
            return (reply, body);
        }
    }

    private string Explain(string what, string? type, string? error, string? module)
    {
        if (IsMissingModule(type, module))
            return $"Model '{_modelName}' needs the Python module '{module}', which {PythonPath} cannot import ({error}). " +
                   $"Install it into that Python: {PythonPackages.InstallHint(module!, _model)}.";
        return $"Model '{_modelName}' failed while {what}: {type}: {error}";
    }

    // The worker reports the module an import failed on; Python's own exception types say it was an import.
    private static bool IsMissingModule(string? type, string? module) => type is "ModuleNotFoundError" or "ImportError" && module != null;

    private PythonWorkerException Died(string what, Exception? inner)
    {
        _process.WaitForExit(2000);
        string tail;
        lock (_lastStderr) tail = string.Join("\n", _lastStderr.TakeLast(8));
        var code = _process.HasExited ? _process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown";
        return new PythonWorkerException(
            $"The Python worker for model '{_modelName}' exited (code {code}) while {what}." + (tail.Length > 0 ? " Its last output:\n" + tail : ""),
            PythonWorkerFailure.WorkerExited, inner: inner);
    }

    public void Kill()
    {
        _broken = true;
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    /// <summary>
    /// Closes the worker's input now (it exits once it reads the end) and leaves waiting for the exit (and killing it
    /// past the grace period) to another thread, so the caller does not wait for Python's interpreter shutdown.
    /// </summary>
    public void StopInBackground()
    {
        if (_disposed) return;
        try { _in.Close(); } catch (IOException) { }
        Task.Run(Dispose);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { _in.Close(); } catch (IOException) { }
        if (!_process.WaitForExit(3000)) Kill();
        _process.Dispose();
    }
}
