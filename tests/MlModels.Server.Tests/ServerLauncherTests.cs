using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using MlModels.Core.Serving;
using MlModels.Core.Tests;

namespace MlModels.Server.Tests;

/// <summary>The real server executable, launched as its own process through Core's launcher and registry.</summary>
[Trait("Category", "Fast")]
public sealed class ServerLauncherTests : IDisposable
{
    private readonly string _state = TestPaths.NewTempDir();
    private readonly string? _before = Environment.GetEnvironmentVariable("MLMODELS_STATE_DIR");

    public ServerLauncherTests() => Environment.SetEnvironmentVariable("MLMODELS_STATE_DIR", _state);

    public void Dispose()
    {
        foreach (var s in ServerRegistry.List()) new ServerLauncher().Stop(s, TimeSpan.FromSeconds(5));
        Environment.SetEnvironmentVariable("MLMODELS_STATE_DIR", _before);
    }

    [Fact]
    public async Task Detached_OutlivesItsLauncher_LogsToItsFile_AndStopsGracefullyFromAnotherLauncher()
    {
        var model = RunningServer.LinearModel();
        var port = FreePort();
        var server = new ServerLauncher().Start(new ServerSettings { ModelPath = model.Path!, Port = port }, ServerLifetime.Detached, startTimeout: TimeSpan.FromSeconds(60));
        Assert.True(server.Info.Detached);
        Assert.StartsWith(_state, server.Info.LogPath);

        using var http = new HttpClient { BaseAddress = new Uri(server.Info.Url) };
        var answer = await http.PostAsync("/invocations", new StringContent("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        // Another session finds it through the registry alone.
        var found = Assert.Single(ServerRegistry.List());
        Assert.Equal(server.Info.ProcessId, found.ProcessId);
        Assert.True(found.Detached);
        Assert.True(new ServerLauncher().Stop(found, TimeSpan.FromSeconds(30)), "SIGTERM stops it within the grace period");
        Assert.True(server.Process.WaitForExit(10_000));
        Assert.Equal(0, server.Process.ExitCode);
        Assert.Empty(ServerRegistry.List());
        Assert.Empty(Directory.GetFiles(_state, "*.json"));

        // The server wrote its own log: the start message and the request, one JSON object per line.
        var lines = File.ReadAllLines(found.LogPath!).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(lines, l => l.TryGetProperty("message", out var m) && m.GetString()!.StartsWith("serving model 'linear'"));
        Assert.Contains(lines, l => l.TryGetProperty("path", out var p) && p.GetString() == "/invocations" && l.GetProperty("status").GetInt32() == 200);
        Assert.Equal("stopped", lines[^1].GetProperty("message").GetString());
        // Where its start went, phase by phase, and its first request, each measured from the process's start.
        var messages = lines.Where(l => l.TryGetProperty("message", out _)).Select(l => l.GetProperty("message").GetString()!).ToList();
        Assert.Matches(@"^startup: runtime \d+ ms, model read \d+ ms, scorer \d+ ms, host \d+ ms, listening \d+ ms; listening \d+ ms after the process started$",
            Assert.Single(messages, m => m.StartsWith("startup:", StringComparison.Ordinal)));
        Assert.Matches(@"^first request: GET /ping 200 in [\d]+ ms, answered \d+ ms after the process started$",
            Assert.Single(messages, m => m.StartsWith("first request:", StringComparison.Ordinal)));
    }

    [Fact]
    public void Session_StopsWhenItsLauncherClosesItsInput()
    {
        var model = RunningServer.LinearModel();
        var launcher = new ServerLauncher();
        var server = launcher.Start(new ServerSettings { ModelPath = model.Path!, Port = FreePort() }, ServerLifetime.Session, startTimeout: TimeSpan.FromSeconds(60));
        Assert.False(server.Info.Detached);
        Assert.True(server.Info.IsRunning);
        Assert.True(launcher.Stop(server.Info, TimeSpan.FromSeconds(30)));
        Assert.False(server.Info.IsRunning);
        Assert.Empty(ServerRegistry.List());
    }

    [SkippableFact]
    public void Launched_Server_GetsTheGen0Budget_UnlessTheEnvironmentSetsOne()
    {
        Prerequisites.Require(File.Exists("/proc/self/environ"), "/proc (Linux) to read the server's environment");
        var model = RunningServer.LinearModel();
        var launcher = new ServerLauncher();
        var server = launcher.Start(new ServerSettings { ModelPath = model.Path!, Port = FreePort() }, ServerLifetime.Session, startTimeout: TimeSpan.FromSeconds(60));
        try
        {
            var environment = File.ReadAllText($"/proc/{server.Info.ProcessId}/environ").Split('\0');
            var expected = Environment.GetEnvironmentVariable(ServerCommandLine.Gen0SizeVariable) is { Length: > 0 } given ? given : ServerCommandLine.Gen0Size;
            Assert.Contains($"{ServerCommandLine.Gen0SizeVariable}={expected}", environment);
        }
        finally { launcher.Stop(server.Info, TimeSpan.FromSeconds(30)); }
    }

    [Fact]
    public void StartFailure_CarriesTheServersReason_AndLeavesNothingRunning()
    {
        var missing = Path.Combine(TestPaths.NewTempDir(), "no-model");
        var ex = Assert.Throws<ServerStartException>(() =>
            new ServerLauncher().Start(new ServerSettings { ModelPath = missing, Port = FreePort() }, ServerLifetime.Detached, startTimeout: TimeSpan.FromSeconds(60)));
        Assert.Contains("did not start", ex.Message);
        Assert.Contains(ex.Output, l => l.Contains("Cannot load the model"));
        Assert.Empty(ServerRegistry.List());
    }

    [Fact]
    public void PortInUse_IsReportedAsSuch()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var ex = Assert.Throws<ServerStartException>(() =>
            new ServerLauncher().Start(new ServerSettings { ModelPath = RunningServer.LinearModel().Path!, Port = port }, ServerLifetime.Session, startTimeout: TimeSpan.FromSeconds(60)));
        Assert.Contains($"cannot listen on 127.0.0.1:{port}: the address is already in use", ex.Message);
        // Typed, so Start-MLModelServer can advise -Port; the message itself names no parameter.
        Assert.True(ex.AddressInUse);
        Assert.DoesNotContain("port.", ex.Message, StringComparison.Ordinal);
        Assert.Empty(ServerRegistry.List());
    }

    [Fact]
    public void List_RemovesEntriesOfServersThatAreGone_AndTheirOldLogs()
    {
        using var gone = Process.Start(new ProcessStartInfo("dotnet", "--version") { RedirectStandardOutput = true })!;
        gone.WaitForExit();
        var dead = new MLModelServerInfo { ProcessId = gone.Id, Port = 1, ModelName = "gone", StartTime = DateTime.UtcNow, LogPath = Path.Combine(_state, "server-1-x.log") };
        ServerRegistry.Register(dead);
        // A live process under a reused id is not the recorded server: its start time differs.
        ServerRegistry.Register(new MLModelServerInfo { ProcessId = Environment.ProcessId, Port = 2, ModelName = "reused", StartTime = DateTime.UtcNow.AddHours(-1) });
        File.WriteAllText(dead.LogPath, "old\n");
        File.SetLastWriteTimeUtc(dead.LogPath, DateTime.UtcNow - ServerRegistry.LogRetention - TimeSpan.FromHours(1));
        var recent = Path.Combine(_state, "server-3-y.log");
        File.WriteAllText(recent, "recent\n");
        File.WriteAllText(Path.Combine(_state, "999999.json"), "{ not json");

        Assert.Empty(ServerRegistry.List());
        Assert.Empty(Directory.GetFiles(_state, "*.json"));
        Assert.False(File.Exists(dead.LogPath));
        Assert.True(File.Exists(recent), "a recent log of a stopped server is kept, since it says why it stopped");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
