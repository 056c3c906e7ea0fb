using System.Collections.Concurrent;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Serving;

/// <summary>Python workers shared by requests; a worker that died is replaced on its next use.</summary>
public sealed class ScorerPool : IDisposable
{
    private readonly MLModel _model;
    private readonly ServingOptions _options;
    private readonly Action<string>? _log;
    private readonly ConcurrentBag<PythonScorer> _idle = [];
    private readonly SemaphoreSlim _slots;

    public ScorerPool(MLModel model, ServingOptions options, Action<string>? log)
    {
        _model = model;
        _options = options;
        _log = log;
        _slots = new SemaphoreSlim(Math.Max(1, options.Workers));
        for (int i = 0; i < Math.Max(1, options.Workers); i++) _idle.Add(Start());
    }

    public bool Ready { get; } = true;

    // Making the model's environment (VirtualEnv or Conda) is logged line by line: what pip installs shows in the log.
    private PythonScorer Start() => PythonScorer.Start(_model, _options.Python, line => _log?.Invoke("worker: " + line), _log,
        new LogLines(line => _log?.Invoke("environment: " + line)));

    /// <summary>Progress reported on the reporting thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class LogLines(Action<string> log) : IProgress<string>
    {
        public void Report(string value) => log(value);
    }

    public IScorer Rent(CancellationToken ct)
    {
        _slots.Wait(ct);
        try
        {
            if (!_idle.TryTake(out var scorer)) scorer = Start();
            if (!scorer.Worker.IsUsable)
            {
                _log?.Invoke($"Python worker {scorer.Worker.ProcessId} had exited; starting a new one.");
                scorer.Dispose();
                scorer = Start();
            }
            return scorer;
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    public void Return(IScorer scorer)
    {
        var ps = (PythonScorer)scorer;
        if (!ps.Worker.IsUsable)
        {
            ps.Dispose();
            try { ps = Start(); }
            catch (Exception ex) when (ex is PythonWorkerException or InvalidOperationException)
            {
                // The next Rent starts one instead.
                _log?.Invoke($"could not restart a Python worker: {ex.Message}");
                _slots.Release();
                return;
            }
        }
        _idle.Add(ps);
        _slots.Release();
    }

    public void Dispose()
    {
        while (_idle.TryTake(out var s)) s.Dispose();
    }
}
