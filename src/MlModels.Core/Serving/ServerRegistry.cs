using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

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
    /// <summary>The Open Inference gRPC service's port, where the server has one.</summary>
    public int? GrpcPort { get; init; }
    /// <summary>The gRPC service's address (host:port), as a gRPC client takes it.</summary>
    public string? GrpcAddress => GrpcPort is { } g ? $"{(HostName is "0.0.0.0" or "::" ? "127.0.0.1" : HostName)}:{g}" : null;
    public DateTime StartTime { get; init; }
    /// <summary>The log of a background or detached server (JSON lines); null for one in the foreground.</summary>
    public string? LogPath { get; init; }
    /// <summary>True for a server that outlives the session that started it (it runs until stopped).</summary>
    public bool Detached { get; init; }

    public bool IsRunning
    {
        get
        {
            try
            {
                using var p = Process.GetProcessById(ProcessId);
                // The start time tells the recorded server from a later process that reuses its id.
                return !p.HasExited && !IsZombie(ProcessId) && Math.Abs((p.StartTime.ToUniversalTime() - StartTime).TotalSeconds) < 2;
            }
            catch (ArgumentException) { return false; }
            catch (InvalidOperationException) { return false; }
        }
    }

    public override string ToString() => $"{ModelName} at {Url} (pid {ProcessId})";

    // A server whose parent has gone is reaped by whatever adopted it; until then it is a zombie that still has its id.
    private static bool IsZombie(int pid)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var afterName = stat.LastIndexOf(')');
            return afterName > 0 && afterName + 2 < stat.Length && stat[afterName + 2] is 'Z' or 'X';
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}

/// <summary>
/// A small state file per running server under <see cref="StateDirectory"/> (MLMODELS_STATE_DIR), so Get-MLModelServer
/// and Stop-MLModelServer find servers started from any session. Entries of servers that are gone are removed when listed.
/// </summary>
public static class ServerRegistry
{
    /// <summary>How long the log of a server that is gone is kept (it says why the server stopped).</summary>
    public static readonly TimeSpan LogRetention = TimeSpan.FromDays(7);

    public static string StateDirectory =>
        Environment.GetEnvironmentVariable("MLMODELS_STATE_DIR") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "mlmodels", "servers");

    public static void Register(MLModelServerInfo info)
    {
        Directory.CreateDirectory(StateDirectory);
        var path = StatePath(info.ProcessId);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(info, ServerRegistryJson.Default.MLModelServerInfo));
        File.Move(tmp, path, overwrite: true);
    }

    public static void Remove(int processId)
    {
        try { File.Delete(StatePath(processId)); } catch (IOException) { }
    }

    /// <summary>Servers still running. State files of servers that are gone are removed, and their logs once past <see
    /// cref="LogRetention"/>.</summary>
    public static IReadOnlyList<MLModelServerInfo> List()
    {
        var result = new List<MLModelServerInfo>();
        if (!Directory.Exists(StateDirectory)) return result;
        foreach (var file in Directory.GetFiles(StateDirectory, "*.json"))
        {
            MLModelServerInfo? info;
            try { info = JsonSerializer.Deserialize(File.ReadAllText(file), ServerRegistryJson.Default.MLModelServerInfo); }
            catch (Exception ex) when (ex is JsonException or IOException) { info = null; }
            if (info is { IsRunning: true }) result.Add(info);
            else try { File.Delete(file); } catch (IOException) { }
        }
        var live = result.Select(s => s.LogPath).Where(p => p != null).ToHashSet(StringComparer.Ordinal);
        foreach (var log in Directory.GetFiles(StateDirectory, "server-*.log"))
        {
            if (live.Contains(log)) continue;
            try { if (DateTime.UtcNow - File.GetLastWriteTimeUtc(log) > LogRetention) File.Delete(log); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return result.OrderBy(s => s.Port).ToList();
    }

    private static string StatePath(int processId) => Path.Combine(StateDirectory, $"{processId}.json");
}

/// <summary>The state files' JSON, generated at compile time (the native server has no reflection-based serializer).</summary>
[JsonSerializable(typeof(MLModelServerInfo))]
internal sealed partial class ServerRegistryJson : JsonSerializerContext;
