using MlModels.Core.Format;
using MlModels.Core.Tracking;
using MlModels.TrackingFake;

namespace MlModels.Core.Tests.Tracking;

[Trait("Category", "Fast")]
public class ModelDownloaderTests
{
    private static readonly string[] FixtureFiles =
        ["MLmodel", "conda.yaml", "input_example.json", "model.pkl", "python_env.yaml", "requirements.txt", "metadata/MLmodel", "metadata/conda.yaml", "metadata/python_env.yaml", "metadata/requirements.txt"];

    private static void AssertFixtureFiles(Replayed r, string folder)
    {
        foreach (var f in FixtureFiles)
            Assert.Equal(r.Replay.FixtureBytes(f), File.ReadAllBytes(Path.Combine(folder, f)));
    }

    [Theory]
    [InlineData("download-runs-uri", "runs:/{run}/model", null, null)]
    [InlineData("download-models-version-uri", "models:/sk-ridge/1", "sk-ridge", "1")]
    [InlineData("download-models-alias-uri", "models:/sk-ridge@champion", "sk-ridge", "1")]
    [InlineData("download-models-version-runs-source", "models:/sk-ridge/2", "sk-ridge", "2")]
    [InlineData("download-mlflow-artifacts-uri", "mlflow-artifacts:/{exp}/{run}/artifacts/model", null, null)]
    public async Task Download_MakesMlflowsCallsAndWritesTheFilesByteForByte(string flow, string uriTemplate, string? name, string? version)
    {
        using var r = new Replayed(new ReplayOptions { Flows = [flow] });
        var uri = uriTemplate.Replace("{run}", Replayed.Run1).Replace("{exp}", Replayed.Exp1);
        var progress = new List<DownloadProgress>();
        var result = await r.Downloader.DownloadAsync(uri, progress: new Progress<DownloadProgress>(progress.Add));

        r.AssertFlowReplayed(flow);
        AssertFixtureFiles(r, result.Path);
        Assert.Equal(uri, result.Origin.Uri);
        Assert.Equal(name, result.Origin.RegisteredModelName);
        Assert.Equal(version, result.Origin.Version);
        Assert.Equal(Replayed.Run1, result.Origin.RunId);
        Assert.False(result.Origin.FromCache);
        var model = ModelStore.Load(result.Path);
        Assert.Equal(Replayed.Run1, model.RunId);
        Assert.Contains("sklearn", model.Flavors.Keys);
        if (name != null)
            Assert.Equal($"model_name: sk-ridge\nmodel_version: '{version}'\n", File.ReadAllText(Path.Combine(result.Path, "registered_model_meta")));
    }

    [Fact]
    public async Task Download_OfOneFile_ListsItThenFetchesIt()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["download-mlflow-artifacts-file"] });
        var result = await r.Downloader.DownloadAsync($"mlflow-artifacts:/{Replayed.Exp1}/{Replayed.Run1}/artifacts/model/MLmodel");
        r.AssertFlowReplayed("download-mlflow-artifacts-file");
        Assert.Equal("MLmodel", Path.GetFileName(result.Path));
        Assert.Equal(r.Replay.FixtureBytes("MLmodel"), File.ReadAllBytes(result.Path));
    }

    [Fact]
    public async Task Download_OfAStage_TakesTheHighestVersionInIt()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["resolve-models-stage-uri", "download-models-version-uri"] });
        var result = await r.Downloader.DownloadAsync("models:/sk-ridge/Staging");
        r.AssertFlowReplayed("resolve-models-stage-uri");
        Assert.Equal("1", result.Origin.Version);
        Assert.Equal("Staging", result.Origin.Stage);
        AssertFixtureFiles(r, result.Path);
    }

    [Fact]
    public async Task Download_OfLatest_AsksForEveryStageAndTakesTheHighestVersion()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["resolve-models-latest-uri", "download-models-version-runs-source"] });
        var result = await r.Downloader.DownloadAsync("models:/sk-ridge/latest");
        r.AssertFlowReplayed("resolve-models-latest-uri");
        Assert.Equal("2", result.Origin.Version);
        AssertFixtureFiles(r, result.Path);
    }

    [Fact]
    public async Task Download_ReusesTheCacheEntryAndOnlyResolvesTheAlias()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["download-models-alias-uri"] });
        var first = await r.Downloader.DownloadAsync("models:/sk-ridge@champion");
        var calls = r.Replay.Calls.Count;
        var second = await r.Downloader.DownloadAsync("models:/sk-ridge@champion");
        Assert.Equal(calls + 1, r.Replay.Calls.Count); // the alias lookup; the version's files come from the cache
        Assert.EndsWith("registered-models/alias", r.Replay.Calls[^1].NormalisedPath.Split('?')[0]);
        Assert.Equal(first.Path, second.Path);
        Assert.True(second.Origin.FromCache);
        Assert.Equal("champion", second.Origin.Alias);
        Assert.Equal(Replayed.Run1, second.Origin.RunId);

        var byVersion = await r.Downloader.DownloadAsync("models:/sk-ridge/1");
        Assert.Equal(calls + 1, r.Replay.Calls.Count); // a version never changes: no call at all
        Assert.Equal(first.Path, byVersion.Path);
    }

    [Fact]
    public async Task Download_WithForce_FetchesAgainAndReplacesTheEntry()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["download-models-version-uri"] });
        var first = await r.Downloader.DownloadAsync("models:/sk-ridge/1");
        File.WriteAllText(Path.Combine(first.Path, "conda.yaml"), "tampered");
        var calls = r.Replay.Calls.Count;
        var again = await r.Downloader.DownloadAsync("models:/sk-ridge/1", force: true);
        Assert.Equal(2 * calls, r.Replay.Calls.Count);
        r.AssertAllMatched();
        Assert.Equal(first.Path, again.Path);
        AssertFixtureFiles(r, again.Path);
    }

    [Fact]
    public async Task Download_CutOffHalfway_NamesTheFileAndLeavesNoEntry()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["download-models-version-uri"], CutOffDownloadEndingWith = "model.pkl" });
        var ex = await Assert.ThrowsAsync<ArtifactDownloadException>(() => r.Downloader.DownloadAsync("models:/sk-ridge/1"));
        Assert.EndsWith("model/model.pkl", ex.ArtifactPath);
        Assert.Contains("model.pkl", ex.Message);
        // Nothing but the (empty) staging area is left: no entry that a later call would take for a model.
        var left = Directory.EnumerateFileSystemEntries(r.CacheRoot, "*", SearchOption.AllDirectories).Where(p => !p.Contains(".staging")).ToList();
        Assert.All(left, p => Assert.True(Directory.Exists(p) && !Directory.EnumerateFileSystemEntries(p).Any(e => !e.Contains(".staging")), $"left behind: {p}"));

        var retried = await r.Downloader.DownloadAsync("models:/sk-ridge/1");
        Assert.False(retried.Origin.FromCache);
        AssertFixtureFiles(r, retried.Path);
    }

    [Fact]
    public async Task Download_OfAMissingArtifact_NamesTheFileAfterMlflowsRetries()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["errors"] });
        var (server, _) = r.Client.ResolveArtifactUri("mlflow-artifacts:/x");
        var remote = $"{Replayed.Exp1}/{Replayed.Run1}/artifacts/model/no-such-file.txt";
        var ex = await Assert.ThrowsAsync<MlflowException>(() => r.Client.DownloadArtifactAsync(server, remote));
        Assert.Equal("INTERNAL_ERROR", ex.ErrorCode);
        Assert.Equal(6, r.Replay.Calls.Count); // 500 is retried 5 times, as MLflow's client does
        Assert.Equal(5, r.Delays.Count);
        Assert.Contains("no-such-file.txt", ex.Message);
        r.AssertAllMatched();
    }

    [Fact]
    public async Task Download_OfAnUnknownVersion_CarriesMlflowsErrorCodeAndNamesIt()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["errors"] });
        var ex = await Assert.ThrowsAsync<MlflowException>(() => r.Downloader.DownloadAsync("models:/sk-ridge/99"));
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", ex.ErrorCode);
        Assert.Contains("models:/sk-ridge/99", ex.Message);
        Assert.Contains("RESOURCE_DOES_NOT_EXIST", ex.Message);
    }

    [Fact]
    public async Task Download_OfAnUnknownAlias_NamesModelAndAlias()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["errors"] });
        var ex = await Assert.ThrowsAsync<MlflowException>(() => r.Downloader.DownloadAsync("models:/sk-ridge@challenger"));
        Assert.Equal("INVALID_PARAMETER_VALUE", ex.ErrorCode);
        Assert.StartsWith("models:/sk-ridge@challenger: Registered model alias challenger not found.", ex.Message);
    }

    [Fact]
    public async Task Download_OfAnUnknownRun_NamesTheRun()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["errors"] });
        var ex = await Assert.ThrowsAsync<MlflowException>(() => r.Downloader.DownloadAsync("runs:/00000000000000000000000000000000/model"));
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", ex.ErrorCode);
        Assert.Contains("run 00000000000000000000000000000000", ex.Message);
    }
}
