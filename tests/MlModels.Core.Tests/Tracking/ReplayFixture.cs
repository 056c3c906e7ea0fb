using MlModels.Core.Tracking;
using MlModels.TrackingFake;

namespace MlModels.Core.Tests.Tracking;

/// <summary>A tracking client over the replaying fake, with back-offs recorded instead of waited.</summary>
internal sealed class Replayed : IDisposable
{
    public Replayed(ReplayOptions? options = null, ITrackingAuth? auth = null, int maxRetries = 5)
    {
        Replay = new TrackingReplay(TestPaths.TrackingConformance, options);
        Settings = new TrackingSettings
        {
            TrackingUri = new Uri("http://127.0.0.1:5000"),
            TrackingUriSource = "MLFLOW_TRACKING_URI",
            RegistryUri = new Uri("http://127.0.0.1:5000"),
            RegistryUriSource = "MLFLOW_TRACKING_URI",
            OriginalTrackingUri = "http://127.0.0.1:5000",
            Auth = auth,
            Retry = new RetryOptions
            {
                MaxRetries = maxRetries,
                Delay = (d, _) => { lock (Delays) Delays.Add(d); return Task.CompletedTask; },
            },
        };
        Client = new TrackingClient(Settings, new ReplayHandler(Replay));
        CacheRoot = TestPaths.NewTempDir();
        Downloader = new ModelDownloader(Client, CacheRoot);
    }

    public TrackingReplay Replay { get; }
    public TrackingSettings Settings { get; }
    public TrackingClient Client { get; }
    public ModelDownloader Downloader { get; }
    public string CacheRoot { get; }
    public List<TimeSpan> Delays { get; } = [];

    public static string Run1 => TrackingReplay.RunId(1);
    public static string Exp1 => TrackingReplay.ExperimentId(1);

    /// <summary>Every request matched a recorded one.</summary>
    public void AssertAllMatched() => Assert.True(Replay.Mismatches.Count == 0, "Requests no recording matches:\n" + string.Join("\n", Replay.Mismatches));

    /// <summary>Every recorded request of the flow was made.</summary>
    public void AssertFlowReplayed(string flow)
    {
        AssertAllMatched();
        var left = Replay.Unconsumed(flow);
        Assert.True(left.Count == 0, $"Recorded requests of {flow} the client did not make:\n" + string.Join("\n", left.Select(e => $"{e.Step}: {e.Method} {e.Path}")));
    }

    public void Dispose()
    {
        Client.Dispose();
        try { Directory.Delete(CacheRoot, true); } catch (IOException) { }
    }
}
