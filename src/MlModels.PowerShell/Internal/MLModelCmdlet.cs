using System.Collections;
using System.Collections.Concurrent;
using System.Management.Automation;
using Microsoft.PowerShell.Commands;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// Shared plumbing for the module's cmdlets: provider path resolution, PSObject unwrapping, and running long work
/// off the pipeline thread while every Write* call still happens on it. StopProcessing cancels the work.
/// </summary>
public abstract class MLModelCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private BlockingCollection<Action>? _pump;
    private readonly int _pipelineThread = Environment.CurrentManagedThreadId;

    protected CancellationToken CancelToken => _stop.Token;

    protected override void StopProcessing() => _stop.Cancel();

    public void Dispose()
    {
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Resolves -Path (wildcards) or -LiteralPath to existing file-system paths; each miss is a non-terminating error.</summary>
    protected IEnumerable<string> ResolveExisting(IEnumerable<string> paths, bool literal)
    {
        foreach (var p in paths)
        {
            List<string> resolved = [];
            try
            {
                if (literal)
                {
                    var full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(p, out var provider, out _);
                    if (provider.ImplementingType != typeof(FileSystemProvider)) throw new ArgumentException($"'{p}' is not a file-system path.");
                    if (!File.Exists(full)
                        && !Directory.Exists(full)) throw new ItemNotFoundException($"Cannot find path '{full}' because it does not exist.");
                    resolved.Add(full);
                }
                else
                {
                    resolved.AddRange(GetResolvedProviderPathFromPSPath(p, out var provider));
                    if (provider.ImplementingType != typeof(FileSystemProvider)) throw new ArgumentException($"'{p}' is not a file-system path.");
                }
            }
            catch (ItemNotFoundException ex)
            {
                WriteError(Errors.Record(ex, "PathNotFound", ErrorCategory.ObjectNotFound, p));
                continue;
            }
            catch (ArgumentException ex)
            {
                WriteError(Errors.Record(ex, "NotAFileSystemPath", ErrorCategory.InvalidArgument, p));
                continue;
            }
            catch (PSNotSupportedException ex)
            {
                WriteError(Errors.Record(ex, "NotAFileSystemPath", ErrorCategory.InvalidArgument, p));
                continue;
            }
            foreach (var r in resolved) yield return r;
        }
    }

    /// <summary>
    /// The model given as an object or by its folder (-Path, or -LiteralPath when <paramref name="literal"/>); a miss is a
    /// non-terminating error and null.
    /// </summary>
    protected MlModels.Core.Format.MLModel? ModelFromArguments(MlModels.Core.Format.MLModel? model, string? path, bool literal = false)
    {
        if (model != null) return model;
        if (path == null)
        {
            WriteError(Errors.Record(new ArgumentException("Give the model: pipe it from Get-MLModel, or use -Model or -Path."), "ModelRequired",
                ErrorCategory.InvalidArgument, null));
            return null;
        }
        var resolved = ResolveExisting([path], literal).FirstOrDefault();
        if (resolved == null && !literal && WildcardPattern.ContainsWildcardCharacters(path))
        {
            // A pattern that matches nothing is no error to the provider, but a model was asked for.
            var record = Errors.Record(new ItemNotFoundException($"No model folder matches '{path}'."), "PathNotFound",
                ErrorCategory.ObjectNotFound, path);
            WriteError(Errors.WithAdvice(record, "For a folder whose name holds wildcard characters ([ ] * ?), use -LiteralPath."));
        }
        if (resolved == null) return null;
        try { return MlModels.Core.Format.ModelStore.Load(resolved); }
        catch (Exception ex) when (ex is MlModels.Core.Format.MLModelFormatException or IOException)
        {
            WriteError(Errors.FromException(ex, resolved, reading: true));
            return null;
        }
    }

    /// <summary>A target path that may not exist yet (for writing).</summary>
    protected string ResolveTarget(string path)
    {
        var full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
        if (provider.ImplementingType != typeof(FileSystemProvider))
            ThrowTerminatingError(Errors.Record(new ArgumentException($"'{path}' is not a file-system path."), "NotAFileSystemPath",
                ErrorCategory.InvalidArgument, path));
        return full;
    }

    /// <summary>
    /// Runs deployment work as <see cref="RunPumped"/> does, with one progress bar (<paramref name="progressId"/>) that
    /// the work's reports update and that is completed when it succeeds.
    /// </summary>
    private protected T RunWithProgress<T>(int progressId, string activity,
        Func<IProgress<MlModels.Deploy.DeploymentProgress>, CancellationToken, Task<T>> work)
    {
        var record = new ProgressRecord(progressId, activity, "Starting");
        var progress = new SyncProgress<MlModels.Deploy.DeploymentProgress>(p => Post(() =>
        {
            record.Activity = p.Activity;
            record.StatusDescription = string.IsNullOrEmpty(p.Status) ? "…" : p.Status;
            record.PercentComplete = p.PercentComplete;
            WriteProgress(record);
        }));
        var result = RunPumped(ct => work(progress, ct).GetAwaiter().GetResult());
        record.RecordType = ProgressRecordType.Completed;
        WriteProgress(record);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a worker thread. The work posts Write* calls through <see cref="Post"/>;
    /// they run here, on the pipeline thread, until the work finishes.
    /// </summary>
    protected T RunPumped<T>(Func<CancellationToken, T> work)
    {
        using var pump = new BlockingCollection<Action>();
        _pump = pump;
        using var onnxLog = RouteOnnxRuntimeLog(); // flows into the task below
        var task = Task.Run(() =>
        {
            try { return work(_stop.Token); }
            finally { pump.CompleteAdding(); }
        });
        // Once the pipeline is stopping (Ctrl+C), Write* throws; the work still gets to finish its cleanup (a server
        // stopped gracefully, a temporary file removed) before the command returns, and its later writes are dropped.
        PipelineStoppedException? stopped = null;
        try
        {
            foreach (var action in pump.GetConsumingEnumerable())
            {
                if (stopped != null) continue;
                try { action(); }
                catch (PipelineStoppedException ex) { stopped = ex; }
            }
        }
        finally { _pump = null; }
        if (stopped != null)
        {
            try { task.Wait(); } catch (AggregateException) { }
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(stopped);
        }
        return task.GetAwaiter().GetResult();
    }

    /// <summary>ONNX Runtime's log lines from this command: those that matter to the user as warnings, the rest to Verbose.</summary>
    protected IDisposable RouteOnnxRuntimeLog() =>
        MlModels.Core.Scoring.Onnx.OnnxRuntimeLog.Route(m => Post(() =>
        {
            if (m.MattersToUser) WriteWarning(m.ToString());
            else WriteVerbose(m.ToString());
        }));

    /// <summary>
    /// Queues a Write* call for the pipeline thread. On the pipeline thread it runs at once; from any other thread
    /// after the pump has closed it is dropped, since a Write* from another thread would bring down the shell.
    /// </summary>
    protected void Post(Action action)
    {
        var pump = _pump;
        if (pump != null)
        {
            try { pump.Add(action); return; } catch (InvalidOperationException) { }
        }
        if (Environment.CurrentManagedThreadId == _pipelineThread) action();
    }

    /// <summary>
    /// With VirtualEnv or Conda, making the model's environment changes the machine: ask first (-WhatIf says what it
    /// would install). Local, or an ONNX model scored natively, needs no question.
    /// </summary>
    private protected bool ConfirmEnvironment(MlModels.Core.Format.MLModel model, string? pythonPath,
        MlModels.Core.Scoring.Python.EnvManager envManager)
    {
        if (envManager == MlModels.Core.Scoring.Python.EnvManager.Local
            || MlModels.Core.Scoring.PredictionEngine.IsNative(model) && pythonPath == null) return true;
        try
        {
            var description = MlModels.Core.Scoring.Python.PythonEnvironments.Describe(model,
                MlModels.Core.Scoring.Python.PythonEnvironments.ChooseForModel(model, pythonPath, envManager), envManager);
            return description.StartsWith("Reuse", StringComparison.Ordinal) || ShouldProcess(model.Name, description);
        }
        catch (MlModels.Core.Scoring.Python.PythonWorkerException ex)
        {
            WriteError(Errors.FromPythonWorker(ex, ex, pythonPath));
            return false;
        }
    }

    private readonly ConcurrentQueue<string> _workerLines = new();

    /// <summary>A Python worker's stderr line, from any thread; shown on the pipeline thread by <see cref="DrainWorkerLines"/>.</summary>
    protected void QueueWorkerLine(string line)
    {
        _workerLines.Enqueue(line);
        Post(DrainWorkerLines);
    }

    /// <summary>The worker's lines so far: its Python warnings as warnings, the rest (what the model prints) as Verbose.</summary>
    protected void DrainWorkerLines()
    {
        while (_workerLines.TryDequeue(out var line))
        {
            if (line.StartsWith("MLMODELS-WARNING: ", StringComparison.Ordinal)) WriteWarning(line["MLMODELS-WARNING: ".Length..]);
            else WriteVerbose(line);
        }
    }

    /// <summary>Unwraps PSObjects, hashtables and PSCustomObjects into plain dictionaries and lists.</summary>
    internal static object? ToPlain(object? value, int depth = 0)
    {
        if (depth > 64) throw new ArgumentException("The value nests more than 64 levels deep.");
        if (value is PSObject pso)
        {
            if (pso.BaseObject is PSCustomObject)
            {
                var d = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var p in pso.Properties) d[p.Name] = ToPlain(p.Value, depth + 1);
                return d;
            }
            value = pso.BaseObject;
        }
        return value switch
        {
            null => null,
            string => value,
            IDictionary dict => dict.Keys.Cast<object>().ToDictionary(k => k is PSObject kp ? kp.BaseObject.ToString()! : k.ToString()!,
                k => ToPlain(dict[k], depth + 1), StringComparer.Ordinal),
            IEnumerable list => list.Cast<object?>().Select(v => ToPlain(v, depth + 1)).ToList(),
            _ => value,
        };
    }

    /// <summary>
    /// -WhatIf/-Confirm over a planned operation: the description lists each call it would make, numbered.
    /// </summary>
    private protected bool ShouldProcessCalls(string action, IEnumerable<object> calls, string question, string caption)
    {
        var list = string.Join(System.Environment.NewLine, calls.Select((c, i) => $"  {i + 1}. {c}"));
        return ShouldProcess($"{action} with these calls:{System.Environment.NewLine}{list}", question, caption);
    }

    /// <summary>A plain value read from JSON as PowerShell shows it: dictionaries as objects with note properties, lists as arrays.</summary>
    internal static object? ToPSObject(object? value)
    {
        switch (value)
        {
            case IDictionary<string, object?> d:
                var obj = new PSObject();
                foreach (var (k, v) in d) obj.Properties.Add(new PSNoteProperty(k, ToPSObject(v)));
                return obj;
            case List<object?> list:
                return list.Select(ToPSObject).ToArray();
            default:
                return value;
        }
    }

    /// <summary>Name/value pairs of an input row: a hashtable, a PSCustomObject, or any object's properties.</summary>
    internal static IReadOnlyList<KeyValuePair<string, object?>> RowOf(object? value)
    {
        if (value is PSObject pso && pso.BaseObject is not PSCustomObject && pso.BaseObject is IDictionary) value = pso.BaseObject;
        if (value is IDictionary dict)
            return dict.Keys.Cast<object>().Select(k => KeyValuePair.Create(k.ToString()!, Unwrap(dict[k]))).ToList();
        var obj = value as PSObject ?? PSObject.AsPSObject(value!);
        return obj.Properties.Where(p => p.IsGettable
            && p.MemberType is PSMemberTypes.NoteProperty or PSMemberTypes.Property or PSMemberTypes.ScriptProperty or PSMemberTypes.AliasProperty)
            .Select(p => KeyValuePair.Create(p.Name, Unwrap(SafeValue(p)))).ToList();
    }

    private static object? SafeValue(PSPropertyInfo p)
    {
        try { return p.Value; } catch (GetValueException) { return null; }
    }

    internal static object? Unwrap(object? v) => v is PSObject p ? p.BaseObject : v;

    /// <summary>A hashtable parameter as plain string pairs (container environments, SageMaker's tags).</summary>
    internal static IReadOnlyDictionary<string, string>? StringMap(System.Collections.Hashtable? table) =>
        table?.Keys.Cast<object>().ToDictionary(k => Unwrap(k)!.ToString()!,
            k => Convert.ToString(Unwrap(table[k]), System.Globalization.CultureInfo.InvariantCulture) ?? "", StringComparer.Ordinal);
}
