using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace MlModels.Core.Serving;

/// <summary>How long a launched server lives.</summary>
public enum ServerLifetime
{
    /// <summary>Its log goes to the caller line by line; it stops when the caller stops it or ends.</summary>
    Foreground,
    /// <summary>Returns at once; logs to a file; stops gracefully when the starting process ends (its standard input closes).</summary>
    Session,
    /// <summary>Returns at once; logs to a file; outlives the starting process until stopped, from any process, through the registry.</summary>
    Detached,
}

/// <summary>The server cannot run here: the server assembly or the ASP.NET Core runtime it needs is missing.</summary>
public sealed class ServerRuntimeMissingException(string message) : Exception(message);

/// <summary>The server exited, or never answered /ping, while starting; <see cref="Output"/> holds its last lines.</summary>
public sealed class ServerStartException(string message, IReadOnlyList<string> output, bool addressInUse = false) : Exception(message)
{
    public IReadOnlyList<string> Output { get; } = output;
    /// <summary>Something already listens on the host and port asked for; another port would do.</summary>
    public bool AddressInUse { get; } = addressInUse;
}

/// <summary>A server this launcher started: the process and what the registry knows of it.</summary>
public sealed class LaunchedServer
{
    internal LaunchedServer(Process process, MLModelServerInfo info)
    {
        Process = process;
        Info = info;
    }

    public Process Process { get; }
    public MLModelServerInfo Info { get; }

    /// <summary>Blocks until the server exits or <paramref name="ct"/> is cancelled (then returns false, leaving it running).</summary>
    public bool WaitForExit(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
            if (Process.WaitForExit(200)) return true;
        return false;
    }
}

/// <summary>
/// Starts the scoring server executable as its own process (a crashing model never takes the caller down), waits until
/// it answers /ping, records it in <see cref="ServerRegistry"/>, and stops it: gracefully through its standard input when
/// this launcher started it, by SIGTERM (Unix) otherwise, killing it only if it has not stopped within the grace period.
/// </summary>
public sealed class ServerLauncher
{
    private readonly ConcurrentDictionary<int, Process> _started = new();

    /// <summary>
    /// Launches a server for <paramref name="settings"/> and returns once it answers /ping. Lines it writes to its
    /// standard output or error go to <paramref name="onLine"/> (a background server writes its log to a file instead);
    /// <paramref name="onWaiting"/> is called while waiting. Throws <see cref="ServerStartException"/> with the server's
    /// last lines when it exits or does not answer in time, and <see cref="ServerRuntimeMissingException"/> when it cannot run here.
    /// </summary>
    public LaunchedServer Start(ServerSettings settings, ServerLifetime lifetime, string? apiKey = null, TimeSpan? startTimeout = null,
        Action<string>? onLine = null, Action? onWaiting = null, CancellationToken ct = default)
    {
        var modelName = Path.GetFileName(Path.TrimEndingDirectorySeparator(settings.ModelPath));
        // Something else answering /ping on the port would pass for our server starting.
        if (settings.Port != 0 && Answers(settings.Host, settings.Port))
            throw new ServerStartException(
                $"The server for model '{modelName}' cannot listen on {settings.Host}:{settings.Port}: the address is already in use.", [],
                    addressInUse: true);
        string? logPath = null;
        if (lifetime != ServerLifetime.Foreground)
        {
            Directory.CreateDirectory(ServerRegistry.StateDirectory);
            logPath = Path.Combine(ServerRegistry.StateDirectory, $"server-{settings.Port}-{DateTime.UtcNow:yyyyMMdd'T'HHmmssfff}.log");
        }
        settings = settings with
        {
            WatchStdin = lifetime != ServerLifetime.Detached,
            LogFile = logPath,
            Detach = lifetime == ServerLifetime.Detached,
        };

        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        psi.ArgumentList.Add(ServerAssembly());
        foreach (var a in ServerCommandLine.For(settings)) psi.ArgumentList.Add(a);
        if (apiKey != null) psi.Environment[ServerCommandLine.ApiKeyVariable] = apiKey;
        else psi.Environment.Remove(ServerCommandLine.ApiKeyVariable);
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ServerCommandLine.Gen0SizeVariable)))
            psi.Environment[ServerCommandLine.Gen0SizeVariable] = ServerCommandLine.Gen0Size;

        var recent = new ConcurrentQueue<string>();
        void Line(string line)
        {
            recent.Enqueue(line);
            while (recent.Count > 50) recent.TryDequeue(out _);
            try { onLine?.Invoke(line); } catch (InvalidOperationException) { }
        }
        var process = Process.Start(psi) ?? throw new ServerStartException("The server process did not start.", []);
        process.OutputDataReceived += (_, e) => { if (e.Data != null) Line(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) Line("stderr: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // A detached server must hold nothing of ours: its standard input closes now (it does not watch it).
        if (lifetime == ServerLifetime.Detached) process.StandardInput.Close();

        var info = new MLModelServerInfo
        {
            ProcessId = process.Id, HostName = settings.Host, Port = settings.Port, ModelPath = settings.ModelPath, ModelName = modelName,
            GrpcPort = settings.GrpcPort,
            StartTime = process.StartTime.ToUniversalTime(), LogPath = logPath, Detached = lifetime == ServerLifetime.Detached,
        };
        bool ready;
        try { ready = WaitUntilReady(info, process, startTimeout ?? TimeSpan.FromSeconds(120), onWaiting, ct); }
        catch
        {
            Kill(process);
            throw;
        }
        if (!ready)
        {
            Kill(process);
            process.WaitForExit(2000);
            var output = recent.ToList();
            if (logPath != null && File.Exists(logPath)) output.AddRange(Tail(logPath, 20));
            ct.ThrowIfCancellationRequested();
            var detail = string.Join(Environment.NewLine, output.TakeLast(10));
            throw new ServerStartException($"The server for model '{modelName}' did not start on " +
                $"{info.Url}.{(detail.Length > 0 ? Environment.NewLine + detail : "")}", output);
        }
        _started[info.ProcessId] = process;
        ServerRegistry.Register(info);
        return new LaunchedServer(process, info);
    }

    /// <summary>
    /// Stops a server and removes it from the registry: requests in flight finish, unless it has not stopped within
    /// <paramref name="grace"/>, when it is killed. Returns true when it stopped gracefully.
    /// </summary>
    public bool Stop(MLModelServerInfo info, TimeSpan grace)
    {
        try
        {
            if (_started.TryRemove(info.ProcessId, out var own))
            {
                if (info.Detached)
                {
                    // A detached server reads no stdin; without SIGTERM (Windows) there is no graceful way to ask.
                    if (!Terminate(info.ProcessId)) { Kill(own); return false; }
                }
                else try { own.StandardInput.Close(); } catch (Exception ex) when (ex is IOException or InvalidOperationException) { }
                if (own.WaitForExit((int)grace.TotalMilliseconds)) return true;
                Kill(own);
                return false;
            }
            // Another process's server: check it is still the process that was recorded (pids are reused) before signalling it.
            if (!info.IsRunning) return true;
            if (Terminate(info.ProcessId) && WaitWhileRunning(info, grace)) return true;
            try
            {
                using var p = Process.GetProcessById(info.ProcessId);
                p.Kill(true);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException) { }
            WaitWhileRunning(info, TimeSpan.FromSeconds(5));
            return false;
        }
        finally { ServerRegistry.Remove(info.ProcessId); }
    }

    /// <summary>The server assembly shipped beside Core (out/MlModels/dependencies/MlModels.Server.dll).</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "Runs in the module's process, whose assemblies are files.")]
    public static string ServerAssembly()
    {
        var candidate = Path.Combine(Path.GetDirectoryName(typeof(ServerLauncher).Assembly.Location)!, "MlModels.Server.dll");
        if (File.Exists(candidate)) return candidate;
        throw new ServerRuntimeMissingException($"The scoring server ({candidate}) is missing from the module folder; rebuild " +
            $"the module with build.ps1.");
    }

    /// <summary>The dotnet host this process runs on, and a clear error when the ASP.NET Core runtime the server needs is not installed.</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "Runs in the module's process, whose assemblies are files.")]
    public static string DotnetHost()
    {
        var runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!; // .../shared/Microsoft.NETCore.App/<version>
        var root = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
        var exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        var host = Path.Combine(root, exe);
        if (!File.Exists(host))
            host = Scoring.Python.PythonEnvironments.FindOnPath(exe)
                ?? throw new ServerRuntimeMissingException("The scoring server needs the .NET runtime host (dotnet). Install the ASP.NET Core " +
                    "Runtime 8.0 or later: https://dotnet.microsoft.com/download/dotnet");
        // PowerShell's own packages carry their runtime, so the host is often the dotnet on PATH, usually a link
        // (/usr/bin/dotnet) to the folder that holds the shared runtimes.
        try { host = new FileInfo(host).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? host; }
        catch (IOException) { }
        var aspnet = Path.Combine(Path.GetDirectoryName(host)!, "shared", "Microsoft.AspNetCore.App");
        var versions = Directory.Exists(aspnet)
            ? Directory.GetDirectories(aspnet).Select(Path.GetFileName).Where(v => Version.TryParse(v?.Split('-')[0], out var ver)
                && ver.Major >= 8).ToList()
            : [];
        if (versions.Count == 0)
            throw new ServerRuntimeMissingException($"The scoring server needs the ASP.NET Core Runtime 8.0 or later, which is not installed " +
                $"beside {host}. Install it: https://dotnet.microsoft.com/download/dotnet (package aspnetcore-runtime-8.0 on Linux).");
        return host;
    }

    private static bool WaitUntilReady(MLModelServerInfo info, Process process, TimeSpan timeout, Action? onWaiting, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
        {
            if (process.HasExited) return false;
            try
            {
                using var response = http.GetAsync(info.Url + "/ping", ct).GetAwaiter().GetResult();
                if (response.IsSuccessStatusCode) return true;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            onWaiting?.Invoke();
            ct.WaitHandle.WaitOne(250);
        }
        return false;
    }

    private static bool Answers(string host, int port)
    {
        var address = host is "0.0.0.0" or "::" or "localhost" ? "127.0.0.1" : host;
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            return client.ConnectAsync(address, port).Wait(TimeSpan.FromSeconds(1)) && client.Connected;
        }
        catch (AggregateException) { return false; }
        catch (System.Net.Sockets.SocketException) { return false; }
    }

    private static bool WaitWhileRunning(MLModelServerInfo info, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (info.IsRunning)
        {
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(100);
        }
        return true;
    }

    private static void Kill(Process p)
    {
        try { if (!p.HasExited) p.Kill(true); } catch (InvalidOperationException) { }
    }

    /// <summary>SIGTERM, which the server takes as a graceful stop. Windows has no such signal for a process without a console.</summary>
    private static bool Terminate(int pid) => !OperatingSystem.IsWindows() && Native.kill(pid, Native.SIGTERM) == 0;

    private static IEnumerable<string> Tail(string path, int lines)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var all = new Queue<string>();
            while (reader.ReadLine() is { } l) { all.Enqueue(l); if (all.Count > lines) all.Dequeue(); }
            return all;
        }
        catch (IOException) { return []; }
    }

    private static class Native
    {
        public const int SIGTERM = 15;

        [DllImport("libc", SetLastError = true)]
        public static extern int kill(int pid, int sig);
    }
}
