using System.Diagnostics;
using System.Net;
using MlModels.Core.Format;
using MlModels.Core.Scoring.Python;
using MlModels.Core.Serving;
using MlModels.Core.Tests;

namespace MlModels.Server.Tests;

/// <summary>python_function models behind the server: timeouts and worker replacement, with Debian's Python packages.</summary>
[Trait("Category", "Python")]
public class PythonServerTests
{
    private static string Fixtures()
    {
        Prerequisites.Require(Prerequisites.PythonHas("sklearn, pandas, cloudpickle"), "python3-sklearn, python3-pandas and python3-cloudpickle (Debian)");
        var dir = TestPaths.NewTempDir();
        using var p = Process.Start(Prerequisites.DebianPython, [Path.Combine(TestPaths.RepoRoot, "tests/fixtures/make_python_models.py"), dir]);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return dir;
    }

    private static ServingOptions Options(int workers, int timeoutSec) => new()
    {
        Workers = workers,
        Timeout = TimeSpan.FromSeconds(timeoutSec),
        Python = new PythonOptions(Prerequisites.DebianPython, EnvManager.Local, TimeSpan.FromSeconds(timeoutSec)),
    };

    [SkippableFact]
    public async Task SlowModel_Gets504_AndTheServerCarriesOn()
    {
        var dir = Fixtures();
        // x1 = 999 blocks for good, so it times out however fast the machine is; the timeout is long enough that the
        // next request's load and predict fit in it however busy the machine is.
        await using var s = await RunningServer.StartAsync(ModelStore.Load(Path.Combine(dir, "custom-behaviour")), Options(1, 10));
        var r = await s.PostAsync("{\"dataframe_records\": [{\"x1\": 999, \"x2\": 1, \"x3\": 1}]}");
        Assert.Equal(HttpStatusCode.GatewayTimeout, r.StatusCode);
        var ok = await s.PostAsync("{\"dataframe_records\": [{\"x1\": 5, \"x2\": 1, \"x3\": 1}]}");
        var text = await ok.Content.ReadAsStringAsync();
        Assert.True(ok.StatusCode == HttpStatusCode.OK, text);
        // The model returns df["x1"] * 2, a Series named x1: MLflow writes it as records.
        Assert.Equal("{\"predictions\": [{\"x1\": 10.0}]}", text);
    }

    [SkippableFact]
    public async Task ModelThatRaises_Is400BadRequest_WithItsTraceback()
    {
        var dir = Fixtures();
        await using var s = await RunningServer.StartAsync(ModelStore.Load(Path.Combine(dir, "custom-behaviour")), Options(1, 30));
        var r = await s.PostAsync("{\"dataframe_records\": [{\"x1\": 111, \"x2\": 1, \"x3\": 1}]}");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var error = System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("BAD_REQUEST", error.GetProperty("error_code").GetString());
        Assert.Contains("model refuses x1 == 111", error.GetProperty("message").GetString());
        Assert.Contains("ValueError", error.GetProperty("stack_trace").GetString());
        Assert.Equal("{\"predictions\": [{\"x1\": 10.0}]}", await (await s.PostAsync("{\"dataframe_records\": [{\"x1\": 5, \"x2\": 1, \"x3\": 1}]}")).Content.ReadAsStringAsync());
    }

    [SkippableFact]
    public async Task Shutdown_LetsTheRequestInFlightFinish()
    {
        var dir = Fixtures();
        await using var s = await RunningServer.StartAsync(ModelStore.Load(Path.Combine(dir, "custom-behaviour")), Options(1, 30));
        var marker = Path.Combine(dir, "custom-behaviour", "in-flight");
        File.Delete(marker);
        var inFlight = s.PostAsync("{\"dataframe_records\": [{\"x1\": 7, \"x2\": 1, \"x3\": 1}]}");
        // The model writes the marker when the request reaches it: stop only once it is really in flight.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(marker) && DateTime.UtcNow < deadline && !inFlight.IsCompleted) await Task.Delay(20);
        Assert.True(File.Exists(marker), "the request never reached the model");
        var stopping = s.StopAsync();
        var r = await inFlight;
        await stopping;
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("{\"predictions\": [{\"x1\": 14.0}]}", await r.Content.ReadAsStringAsync());
    }

    [SkippableFact]
    public async Task WorkerKilledUnderLoad_IsReplaced()
    {
        var dir = Fixtures();
        var modelDir = Path.Combine(dir, "sklearn-linear-pickle");
        await using var s = await RunningServer.StartAsync(ModelStore.Load(modelDir), Options(2, 30));
        const string body = "{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}}";
        long ok = 0, failed = 0;
        using var stop = new CancellationTokenSource();
        var load = Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var r = await s.PostAsync(body);
                if (r.IsSuccessStatusCode) Interlocked.Increment(ref ok); else Interlocked.Increment(ref failed);
            }
        }));
        // Events, not times: the load is flowing, a worker is killed, the load flows again; then it stops.
        async Task Until(Func<bool> done, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (!done() && DateTime.UtcNow < deadline && !load.IsCompleted) await Task.Delay(20);
            Assert.True(done(), $"{what}: {Interlocked.Read(ref ok)} ok, {Interlocked.Read(ref failed)} failed");
        }
        await Until(() => Interlocked.Read(ref ok) >= 20, "the load never got going");
        var victim = Workers().First();
        Process.GetProcessById(victim).Kill();
        var atKill = Interlocked.Read(ref ok);
        await Until(() => Interlocked.Read(ref ok) >= atKill + 50, "requests did not succeed again after the kill");
        stop.Cancel();
        await load;
        Assert.True(failed <= 2, $"{failed} requests failed around the kill");
        Assert.DoesNotContain(victim, Workers());
        for (int i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await s.PostAsync(body)).StatusCode);
    }

    /// <summary>Worker processes of this test host, found by their command line.</summary>
    private static List<int> Workers() => Directory.GetDirectories("/proc")
        .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : -1)
        .Where(pid => pid > 0)
        .Where(pid =>
        {
            try { return File.ReadAllText($"/proc/{pid}/cmdline").Contains("mlmodels_worker") && ParentOf(pid) == Environment.ProcessId; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }).ToList();

    private static int ParentOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
    }
}
