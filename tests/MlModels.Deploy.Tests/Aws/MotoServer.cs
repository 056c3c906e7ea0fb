using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MlModels.Core.Tests;

namespace MlModels.Deploy.Tests.Aws;

/// <summary>
/// The moto server the tests talk to: CI's (.ci/services/moto.sh sets MLMODELS_TEST_MOTO_URL), else one started here
/// on a free loopback port when moto_server is installed, else the tests skip (outside CI) saying so.
/// </summary>
public sealed class MotoServer : IDisposable
{
    private readonly Process? _own;

    public MotoServer()
    {
        Url = Environment.GetEnvironmentVariable("MLMODELS_TEST_MOTO_URL");
        if (Url != null) return;
        var exe = new[] { Environment.GetEnvironmentVariable("MLMODELS_MOTO_SERVER"), "/root/.pyenv/shims/moto_server" }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, "moto_server")))
            .FirstOrDefault(p => p != null && File.Exists(p));
        if (exe == null) return;
        var port = FreePort();
        _own = Process.Start(new ProcessStartInfo(exe, ["-H", "127.0.0.1", "-p", port.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true });
        _own!.OutputDataReceived += (_, _) => { };
        _own.ErrorDataReceived += (_, _) => { };
        _own.BeginOutputReadLine();
        _own.BeginErrorReadLine();
        var url = $"http://127.0.0.1:{port}";
        using var http = new HttpClient();
        for (var i = 0; i < 100; i++)
        {
            try { if (http.GetAsync(url + "/moto-api/").Result.StatusCode != HttpStatusCode.NotFound) { Url = url; return; } }
            catch (AggregateException) { }
            Thread.Sleep(100);
        }
    }

    public string? Url { get; }

    /// <summary>Skips (outside CI) or fails (in CI) when there is no moto server.</summary>
    public string Require()
    {
        Prerequisites.Require(Url != null, "moto_server (MLMODELS_TEST_MOTO_URL, or moto_server on PATH)");
        return Url!;
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (_own == null) return;
        try { _own.Kill(true); _own.WaitForExit(5000); } catch (InvalidOperationException) { }
        _own.Dispose();
    }
}

[CollectionDefinition("moto")]
public sealed class MotoCollection : ICollectionFixture<MotoServer>;
