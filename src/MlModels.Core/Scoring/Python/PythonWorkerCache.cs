using System.Globalization;
using System.IO.Enumeration;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring.Python;

/// <summary>A warm worker as the cache holds it, for listing and clearing.</summary>
public sealed record CachedPythonWorker(
    string ModelName,
    string ModelPath,
    int ProcessId,
    string PythonPath,
    string? PythonVersion,
    EnvManager EnvManager,
    string? LoadedBy,
    bool InUse,
    int Calls,
    DateTime LastUsedUtc,
    DateTime StartedUtc);

/// <summary>
/// A worker held for one call: disposing it hands a cached worker back to its cache (warm for the next call), and
/// stops a private one.
/// </summary>
public sealed class PythonWorkerLease : IDisposable
{
    private readonly Action<PythonWorkerLease>? _return;
    private int _done;

    private readonly bool _stopInBackground;

    internal PythonWorkerLease(PythonWorker worker, bool reused, Action<PythonWorkerLease>? giveBack, bool stopInBackground = false)
    {
        Worker = worker;
        Reused = reused;
        _return = giveBack;
        _stopInBackground = stopInBackground;
    }

    /// <summary>
    /// A worker that belongs to this call alone and stops when the lease ends: Dispose waits for it to exit, or with
    /// <paramref name="stopInBackground"/> closes its input and lets it exit while the caller goes on.
    /// </summary>
    public static PythonWorkerLease Private(PythonWorker worker, bool stopInBackground = false) => new(worker, false, null, stopInBackground);

    public PythonWorker Worker { get; }
    /// <summary>True when an earlier call started this worker and it was kept warm.</summary>
    public bool Reused { get; }
    /// <summary>True when the worker goes back to a cache at the end of the call.</summary>
    public bool Cached => _return != null;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0) return;
        if (_return != null) _return(this);
        else if (_stopInBackground) Worker.StopInBackground();
        else Worker.Dispose();
    }
}

/// <summary>
/// Python workers kept warm between calls, one per (model folder, Python, environment manager). A lookup compares
/// the model's fingerprint (its files' sizes and times, the flavors as held in memory, the Python that runs it, the
/// process environment the worker would inherit): when it differs, the old worker is stopped and a new one started.
/// Idle workers stop after <see cref="IdleTimeout"/>; past <see cref="Capacity"/> the least recently used idle one
/// stops; a worker that died is replaced. Workers also exit by themselves when their stdin closes, so a session that
/// ends without running <see cref="Dispose"/> (killed) leaves none behind.
/// </summary>
public sealed class PythonWorkerCache : IDisposable
{
    public const string IdleVariable = "MLMODELS_WORKER_IDLE_SECONDS";
    public const int DefaultCapacity = 4;
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(5);

    private static readonly Lazy<PythonWorkerCache> SharedCache = new(CreateShared);

    /// <summary>The process-wide cache that Invoke-MLModelPrediction uses; its workers stop when the process exits or the module unloads.</summary>
    public static PythonWorkerCache Shared => SharedCache.Value;

    private readonly object _gate = new();
    private readonly Dictionary<(string Folder, string BasePython, EnvManager Manager), Entry> _entries = [];
    private bool _disposed;

    public PythonWorkerCache(int capacity = DefaultCapacity, TimeSpan? idleTimeout = null)
    {
        Capacity = capacity;
        IdleTimeout = idleTimeout ?? DefaultIdleTimeout;
    }

    /// <summary>How many workers stay warm at most; a new one past this stops the least recently used idle one.</summary>
    public int Capacity { get; set; }

    /// <summary>How long a worker stays warm after its last call. Zero stops every worker when its call ends.</summary>
    public TimeSpan IdleTimeout { get; set; }

    private static PythonWorkerCache CreateShared()
    {
        var cache = new PythonWorkerCache(DefaultCapacity, IdleFromEnvironment());
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cache.Dispose();
        var context = AssemblyLoadContext.GetLoadContext(typeof(PythonWorkerCache).Assembly);
        if (context != null) context.Unloading += _ => cache.Dispose();
        return cache;
    }

    /// <summary>MLMODELS_WORKER_IDLE_SECONDS as a timeout; unset or not a non-negative number: the default.</summary>
    public static TimeSpan IdleFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(IdleVariable);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0 && s <= TimeSpan.MaxValue.TotalSeconds / 2
            ? TimeSpan.FromSeconds(s) : DefaultIdleTimeout;
    }

    private sealed class Entry(string fingerprint, MLModel model, EnvManager manager)
    {
        public string Fingerprint { get; } = fingerprint;
        public MLModel Model { get; } = model;
        public EnvManager Manager { get; } = manager;
        public PythonWorker? Worker; // null while it starts
        public bool InUse = true;
        public bool Removed;
        public int Calls = 1;
        public DateTime LastUsedUtc = DateTime.UtcNow;
        public DateTime StartedUtc = DateTime.UtcNow;
        public Timer? IdleTimer;
    }

    /// <summary>
    /// A worker for the model: the warm one when its fingerprint still matches and it is alive and free, else a new
    /// one (kept warm afterwards when there is room). A worker busy with another call is not shared: this call gets
    /// one of its own.
    /// </summary>
    public PythonWorkerLease Acquire(
        MLModel model,
        string basePython,
        string python,
        EnvManager manager,
        Action<string>? stderr,
        TimeSpan loadTimeout)
    {
        if (model.Path == null) throw new InvalidOperationException("Save the model before scoring it.");
        var key = (Path.GetFullPath(model.Path), basePython, manager);
        var fingerprint = Fingerprint(model, python);
        var stale = new List<PythonWorker>();
        Entry? reserved = null;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_entries.TryGetValue(key, out var entry) && !entry.InUse)
            {
                if (entry.Fingerprint == fingerprint && entry.Worker is { IsUsable: true } warm)
                {
                    entry.InUse = true;
                    entry.Calls++;
                    entry.IdleTimer?.Dispose();
                    entry.IdleTimer = null;
                    warm.Stderr = stderr;
                    return new PythonWorkerLease(warm, true, Release);
                }
                // The model changed on disk (or in memory, or its environment did), or the worker died.
                Remove(key, entry, stale);
            }
            if (!_entries.ContainsKey(key) && IdleTimeout > TimeSpan.Zero && MakeRoom(stale))
            {
                reserved = new Entry(fingerprint, model, manager);
                _entries[key] = reserved;
            }
        }
        StopAll(stale, wait: false);
        PythonWorker worker;
        try { worker = PythonWorker.Start(model, python, stderr, loadTimeout); }
        catch
        {
            if (reserved != null) lock (_gate) if (_entries.TryGetValue(key, out var e) && e == reserved) _entries.Remove(key);
            throw;
        }
        if (reserved == null) return PythonWorkerLease.Private(worker, stopInBackground: true);
        lock (_gate)
        {
            reserved.Worker = worker;
            reserved.StartedUtc = DateTime.UtcNow;
            return new PythonWorkerLease(worker, false, Release);
        }
    }

    private bool MakeRoom(List<PythonWorker> stale)
    {
        while (_entries.Count >= Math.Max(0, Capacity))
        {
            var idle = _entries.Where(kv => !kv.Value.InUse).OrderBy(kv => kv.Value.LastUsedUtc)
                .Select(kv => (KeyValuePair<(string, string, EnvManager), Entry>?)kv)
                .FirstOrDefault();
            if (idle == null) return false; // every cached worker is busy: this call's worker stays private
            Remove(idle.Value.Key, idle.Value.Value, stale);
        }
        return true;
    }

    private void Remove((string, string, EnvManager) key, Entry entry, List<PythonWorker> stale)
    {
        _entries.Remove(key);
        entry.Removed = true;
        entry.IdleTimer?.Dispose();
        entry.IdleTimer = null;
        if (!entry.InUse && entry.Worker != null) stale.Add(entry.Worker);
    }

    private void Release(PythonWorkerLease lease)
    {
        var stale = new List<PythonWorker>();
        lock (_gate)
        {
            var found = _entries.FirstOrDefault(kv => kv.Value.Worker == lease.Worker);
            var entry = found.Value;
            if (entry == null || _disposed || !lease.Worker.IsUsable || IdleTimeout <= TimeSpan.Zero)
            {
                if (entry != null) { entry.InUse = false; Remove(found.Key, entry, stale); }
                else stale.Add(lease.Worker); // removed while in use (cleared, or replaced): it stops now
            }
            else
            {
                entry.InUse = false;
                entry.LastUsedUtc = DateTime.UtcNow;
                lease.Worker.Stderr = null;
                var key = found.Key;
                entry.IdleTimer = new Timer(_ => Expire(key, entry), null, IdleTimeout, Timeout.InfiniteTimeSpan);
            }
        }
        StopAll(stale, wait: false);
    }

    private void Expire((string, string, EnvManager) key, Entry entry)
    {
        var stale = new List<PythonWorker>();
        lock (_gate)
        {
            // A timer disposed after it fired may still run: only an entry idle for the whole timeout goes.
            if (entry.InUse || entry.Removed || DateTime.UtcNow - entry.LastUsedUtc < IdleTimeout - TimeSpan.FromMilliseconds(50)) return;
            if (_entries.TryGetValue(key, out var current) && current == entry) Remove(key, entry, stale);
        }
        StopAll(stale, wait: false);
    }

    /// <summary>The warm workers, most recently used first.</summary>
    public IReadOnlyList<CachedPythonWorker> List()
    {
        lock (_gate)
            return _entries.Where(kv => kv.Value.Worker != null)
                .OrderByDescending(kv => kv.Value.LastUsedUtc)
                .Select(kv => Describe(kv.Key, kv.Value))
                .ToList();
    }

    private static CachedPythonWorker Describe((string Folder, string BasePython, EnvManager Manager) key, Entry e) =>
        new(
            e.Model.Name,
            key.Folder,
            e.Worker!.ProcessId,
            e.Worker.PythonPath,
            e.Worker.PythonVersion,
            key.Manager,
            e.Worker.LoadedBy,
            e.InUse,
            e.Calls,
            e.LastUsedUtc,
            e.StartedUtc);

    /// <summary>
    /// Stops the warm workers that <paramref name="match"/> selects (all when null) and waits for them to exit; a
    /// worker busy with a call stops when that call ends. Returns what was removed.
    /// </summary>
    public IReadOnlyList<CachedPythonWorker> Clear(Func<CachedPythonWorker, bool>? match = null)
    {
        var stale = new List<PythonWorker>();
        var removed = new List<CachedPythonWorker>();
        lock (_gate)
        {
            foreach (var (key, entry) in _entries.Where(kv => kv.Value.Worker != null).ToList())
            {
                var info = Describe(key, entry);
                if (match != null && !match(info)) continue;
                Remove(key, entry, stale);
                removed.Add(info);
            }
        }
        StopAll(stale, wait: true);
        return removed;
    }

    /// <summary>Stops every worker, waiting a few seconds in all for them to exit.</summary>
    public void Dispose()
    {
        List<PythonWorker> stale = [];
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var (key, entry) in _entries.ToList()) Remove(key, entry, stale);
        }
        StopAll(stale, wait: true);
    }

    // Closing stdin ends a worker's loop; each Dispose waits for its exit (then kills), in parallel.
    private static void StopAll(List<PythonWorker> workers, bool wait)
    {
        if (workers.Count == 0) return;
        var stops = workers.Select(w => Task.Run(w.Dispose)).ToArray();
        if (wait) Task.WaitAll(stops, TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// What a warm worker depends on: the Python that runs it, the flavors it was loaded with, the environment it
    /// inherits, and each file of the model folder by path, size and last write time (cheap: no file is read).
    /// </summary>
    public static string Fingerprint(MLModel model, string python)
    {
        var sb = new StringBuilder();
        sb.Append(python).Append('\n').Append(PythonWorker.LoadHeader(model).ToJsonString()).Append('\n');
        var environment = Environment.GetEnvironmentVariables();
        foreach (var name in environment.Keys.Cast<string>().Order(StringComparer.Ordinal))
            sb.Append(name).Append('=').Append(environment[name]).Append('\n');
        var root = Path.GetFullPath(model.Path!);
        var files = new FileSystemEnumerable<string>(root,
            (ref FileSystemEntry e) => $"{e.ToFullPath()}\t{e.Length}\t{e.LastWriteTimeUtc.UtcTicks}",
            new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 })
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory,
            // Bytecode caches change without the model changing.
            ShouldRecursePredicate = (ref FileSystemEntry e) => !e.FileName.SequenceEqual("__pycache__"),
        };
        foreach (var line in files.Order(StringComparer.Ordinal)) sb.Append(line).Append('\n');
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }
}
