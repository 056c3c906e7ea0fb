using System.Diagnostics;
using System.Text.Json;

namespace MlModels.Core.Serving;

/// <summary>A scoring server started by this module: where it listens and which process it is.</summary>
public sealed class MLModelServerInfo
{
    public int ProcessId { get; init; }
    public string HostName { get; init; } = "127.0.0.1";
    public int Port { get; init; }
    public string Url => $"http://{(HostName is "0.0.0.0" or "::" ? "127.0.0.1" : HostName)}:{Port}";
    public string ModelPath { get; init; } = "";
    public string ModelName { get; init; } = "";
    public DateTime StartTime { get; init; }
    /// <summary>The request log of a background server (JSON lines); null for one in the foreground.</summary>
    public string? LogPath { get; init; }
    public bool IsRunning
    {
        get
        {
            try
            {
                using var p = Process.GetProcessById(ProcessId);
                return !p.HasExited && Math.Abs((p.StartTime.ToUniversalTime() - StartTime).TotalSeconds) < 2;
            }
            catch (ArgumentException) { return false; }
            catch (InvalidOperationException) { return false; }
        }
    }

    public override string ToString() => $"{ModelName} at {Url} (pid {ProcessId})";
}

/// <summary>
/// Launches the server executable and keeps a small state file per running server, so Get-MLModelServer finds
/// servers started from any session.
/// </summary>
public static class ServerRegistry
{
    public static string StateDirectory =>
        Environment.GetEnvironmentVariable("MLMODELS_STATE_DIR") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "mlmodels", "servers");

    public static void Register(MLModelServerInfo info)
    {
        Directory.CreateDirectory(StateDirectory);
        File.WriteAllText(Path.Combine(StateDirectory, $"{info.ProcessId}.json"), JsonSerializer.Serialize(info));
    }

    public static void Remove(int processId)
    {
        try { File.Delete(Path.Combine(StateDirectory, $"{processId}.json")); } catch (IOException) { }
    }

    /// <summary>Servers still running; state files of servers that are gone are removed.</summary>
    public static IReadOnlyList<MLModelServerInfo> List()
    {
        var result = new List<MLModelServerInfo>();
        if (!Directory.Exists(StateDirectory)) return result;
        foreach (var file in Directory.GetFiles(StateDirectory, "*.json"))
        {
            MLModelServerInfo? info;
            try { info = JsonSerializer.Deserialize<MLModelServerInfo>(File.ReadAllText(file)); }
            catch (Exception ex) when (ex is JsonException or IOException) { info = null; }
            if (info is { IsRunning: true }) result.Add(info);
            else try { File.Delete(file); } catch (IOException) { }
        }
        return result.OrderBy(s => s.Port).ToList();
    }

    /// <summary>The server assembly shipped with the module, beside Core (out/MlModels/dependencies/MlModels.Server.dll).</summary>
    public static string ServerAssembly()
    {
        var candidate = Path.Combine(Path.GetDirectoryName(typeof(ServerRegistry).Assembly.Location)!, "MlModels.Server.dll");
        if (File.Exists(candidate)) return candidate;
        throw new FileNotFoundException($"The scoring server ({candidate}) is missing from the module folder; rebuild the module with build.ps1.");
    }

    /// <summary>The dotnet host, and a clear error when the ASP.NET Core runtime the server needs is not installed.</summary>
    public static string DotnetHost()
    {
        var runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!; // .../shared/Microsoft.NETCore.App/<version>
        var root = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
        var host = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        if (!File.Exists(host))
            host = Scoring.Python.PythonEnvironments.FindOnPath(OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet")
                ?? throw new FileNotFoundException("The scoring server needs the .NET runtime host (dotnet). Install the ASP.NET Core Runtime 8.0 or later: https://dotnet.microsoft.com/download/dotnet");
        var aspnet = Path.Combine(Path.GetDirectoryName(host)!, "shared", "Microsoft.AspNetCore.App");
        var versions = Directory.Exists(aspnet) ? Directory.GetDirectories(aspnet).Select(Path.GetFileName).Where(v => Version.TryParse(v?.Split('-')[0], out var ver) && ver.Major >= 8).ToList() : [];
        if (versions.Count == 0)
            throw new FileNotFoundException($"The scoring server needs the ASP.NET Core Runtime 8.0 or later, which is not installed beside {host}. Install it: https://dotnet.microsoft.com/download/dotnet (package aspnetcore-runtime-8.0 on Linux).");
        return host;
    }
}
