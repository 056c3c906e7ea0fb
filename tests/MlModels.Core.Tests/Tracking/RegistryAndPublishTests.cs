using MlModels.Core.Format;
using MlModels.Core.Tracking;
using MlModels.TrackingFake;

namespace MlModels.Core.Tests.Tracking;

[Trait("Category", "Fast")]
public class RegistryTests
{
    [Fact]
    public async Task RegistryCalls_AreTheOnesMlflowsClientMakes()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["registry"] });
        var c = r.Client;
        var run = Replayed.Run1;
        await c.CreateRegisteredModelAsync("sk-ridge");
        var source = $"{await c.GetRunArtifactUriAsync(run)}/model";
        var v1 = await c.CreateModelVersionAsync("sk-ridge", source, run);
        Assert.Equal(("1", "READY"), (v1.Version, v1.Status));
        await c.GetModelVersionAsync("sk-ridge", "1");
        var v2 = await c.CreateModelVersionAsync("sk-ridge", $"runs:/{run}/model", run);
        Assert.Equal("2", v2.Version);
        await c.GetModelVersionAsync("sk-ridge", "2");
        Assert.Equal($"mlflow-artifacts:/{Replayed.Exp1}/{run}/artifacts/model", await c.GetModelVersionDownloadUriAsync("sk-ridge", "1"));
        Assert.Equal($"runs:/{run}/model", await c.GetModelVersionDownloadUriAsync("sk-ridge", "2"));
        await c.SetAliasAsync("sk-ridge", "champion", "1");
        var champion = await c.GetModelVersionByAliasAsync("sk-ridge", "champion");
        Assert.Equal(["champion"], champion.Aliases!);
        var model = await c.GetRegisteredModelAsync("sk-ridge");
        Assert.Equal("sk-ridge", model.Name);
        var all = await c.SearchModelVersionsAsync("name='sk-ridge'");
        Assert.Equal(["2", "1"], all.Select(v => v.Version));
        var latest = await c.GetLatestVersionsAsync("sk-ridge", null);
        Assert.Equal("2", Assert.Single(latest).Version);
        await c.SetModelVersionTagAsync("sk-ridge", "1", "validated", "true");
        await c.SetRegisteredModelTagAsync("sk-ridge", "owner", "conformance");
        var tagged = await c.GetModelVersionAsync("sk-ridge", "1");
        Assert.Equal("true", tagged.TagTable["validated"]);
        await c.GetRegisteredModelAsync("sk-ridge");
        await c.DeleteModelVersionTagAsync("sk-ridge", "1", "validated");
        await c.DeleteRegisteredModelTagAsync("sk-ridge", "owner");
        var staged = await c.TransitionStageAsync("sk-ridge", "1", "Staging", false);
        Assert.Equal("Staging", staged.CurrentStage);
        Assert.Equal("1", Assert.Single(await c.GetLatestVersionsAsync("sk-ridge", ["Staging"])).Version);
        r.AssertFlowReplayed("registry");
    }

    [Fact]
    public async Task DeletingAnAlias_MakesItsLookupFailAsMlflowDoes()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["registry-delete-alias"] });
        await r.Client.DeleteAliasAsync("sk-ridge", "champion");
        var ex = await Assert.ThrowsAsync<MlflowException>(() => r.Client.GetModelVersionByAliasAsync("sk-ridge", "champion"));
        Assert.Equal("INVALID_PARAMETER_VALUE", ex.ErrorCode);
        Assert.Contains("models:/sk-ridge@champion", ex.Message);
        r.AssertFlowReplayed("registry-delete-alias");
    }

    [Fact]
    public async Task AnInvalidStage_IsTheServersErrorNamingIt()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["errors"] });
        var ex = await Assert.ThrowsAsync<MlflowException>(() => r.Client.TransitionStageAsync("sk-ridge", "1", "Testing", false));
        Assert.Equal("INVALID_PARAMETER_VALUE", ex.ErrorCode);
        Assert.Contains("Testing", ex.Message);
        Assert.Contains("models:/sk-ridge/1", ex.Message);
    }

    [Fact]
    public async Task ExperimentLookup_TreatsNotFoundAsNoExperiment()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["experiments"] });
        Assert.Null(await r.Client.GetExperimentByNameAsync("tracking-conformance"));
        var id = await r.Client.CreateExperimentAsync("tracking-conformance");
        Assert.Equal(Replayed.Exp1, id);
        Assert.Equal("tracking-conformance", (await r.Client.GetExperimentAsync(id)).Name);
        Assert.Equal(id, (await r.Client.GetExperimentByNameAsync("tracking-conformance"))!.ExperimentId);
        r.AssertFlowReplayed("experiments");
    }
}

[Trait("Category", "Fast")]
public class ModelPublisherTests
{
    /// <summary>The fixture model as log_model saved it for run 1, in a folder of its own.</summary>
    private static string FixtureModel(Replayed r, string? runId = null)
    {
        var dir = Path.Combine(TestPaths.NewTempDir(), "model");
        foreach (var rel in new[] { "MLmodel", "conda.yaml", "input_example.json", "model.pkl", "python_env.yaml", "requirements.txt", "metadata/MLmodel", "metadata/conda.yaml", "metadata/python_env.yaml", "metadata/requirements.txt" })
        {
            var target = Path.Combine(dir, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var bytes = r.Replay.FixtureBytes(rel);
            if (runId != null && rel.EndsWith("MLmodel", StringComparison.Ordinal))
                bytes = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(bytes).Replace(Replayed.Run1, runId));
            File.WriteAllBytes(target, bytes);
        }
        return dir;
    }

    [Fact]
    public async Task Publish_ToARun_LogsAndRegistersWithMlflowsRequests()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["log-model", "registry"] });
        var model = ModelStore.Load(FixtureModel(r));
        var result = await new ModelPublisher(r.Client).PublishAsync(new PublishRequest
        {
            Model = model, RunId = Replayed.Run1, RegisteredModelName = "sk-ridge", Aliases = ["champion"],
            Tags = new Dictionary<string, string> { ["validated"] = "true" },
        });
        r.AssertAllMatched();
        // Every upload and the log-model call of the recording were made, then register_model's calls.
        r.AssertFlowReplayed("log-model");
        var steps = r.Replay.Calls.Select(c => c.Matched!.Step).ToList();
        Assert.Equal(["get-run", "upload MLmodel", "upload conda.yaml", "upload input_example.json", "upload model.pkl",
            "upload python_env.yaml", "upload requirements.txt", "upload metadata/MLmodel", "upload metadata/conda.yaml",
            "upload metadata/python_env.yaml", "upload metadata/requirements.txt", "log-model",
            "create-registered-model", "get-run-after", "create-model-version-from-runs-uri", "set-alias",
            "set-model-version-tag", "get-model-version"], steps);
        Assert.Equal("1", result.Version!.Version);
        Assert.Equal($"runs:/{Replayed.Run1}/model", result.ModelUri);
        Assert.False(result.RunCreated);
    }

    [Fact]
    public async Task Publish_RewritesTheMLmodelForTheRun_AsLogModelWritesIt()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["log-model"] });
        // The same model saved for another run: its MLmodel (and the copy in metadata/) must name run 1 when uploaded.
        var model = ModelStore.Load(FixtureModel(r, runId: "0123456789abcdef0123456789abcdef"));
        await new ModelPublisher(r.Client).PublishAsync(new PublishRequest { Model = model, RunId = Replayed.Run1 });
        r.AssertAllMatched();
        Assert.Equal(["get-run-after"], r.Replay.Unconsumed("log-model").Select(e => e.Step));
    }

    [Fact]
    public async Task Publish_ToAnExperiment_CreatesItAndARunThenEndsTheRun()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["experiments", "runs", "log-model"] });
        var model = ModelStore.Load(FixtureModel(r));
        var result = await new ModelPublisher(r.Client).PublishAsync(new PublishRequest
        {
            Model = model, ExperimentName = "tracking-conformance", RunName = "ridge-run", UserId = "conformance", SourceName = "train.py",
        });
        r.AssertAllMatched();
        var steps = r.Replay.Calls.Select(c => $"{c.Matched!.Flow}/{c.Matched.Step}").ToList();
        Assert.Equal(["experiments/get-by-name-missing", "experiments/create", "experiments/get", "runs/create"], steps.Take(4));
        Assert.Equal("runs/update-finished", steps[^1]);
        Assert.True(result.RunCreated);
        Assert.Null(result.Version);
    }

    [Fact]
    public void Plan_ListsTheCallsInOrder()
    {
        using var r = new Replayed();
        var plan = ModelPublisher.Plan(new PublishRequest { Model = ModelStore.Load(FixtureModel(r)), ExperimentName = "e", RegisteredModelName = "m", Aliases = ["champion"] });
        Assert.Equal(["GET experiments/get-by-name", "POST runs/create", "GET runs/get"], plan.Take(3).Select(c => $"{c.Method} {c.Endpoint}"));
        Assert.Equal(10, plan.Count(c => c.Method == "PUT"));
        Assert.Contains(plan, c => c.Target.EndsWith("/model/metadata/MLmodel", StringComparison.Ordinal));
        Assert.Equal(["POST runs/log-model", "POST registered-models/create", "GET runs/get", "POST model-versions/create", "GET model-versions/get", "POST registered-models/alias", "POST runs/update"],
            plan.SkipWhile(c => c.Method != "POST" || c.Endpoint != "runs/log-model").Select(c => $"{c.Method} {c.Endpoint}"));
    }

    [Fact]
    public void Plan_RefusesAliasesWithoutARegisteredModel()
    {
        using var r = new Replayed();
        var ex = Assert.Throws<ArgumentException>(() => ModelPublisher.Plan(new PublishRequest { Model = ModelStore.Load(FixtureModel(r)), RunId = "x", Aliases = ["a"] }));
        Assert.Contains("-RegisteredModelName", ex.Message);
    }

    [Fact]
    public void ModelJson_PutsMlflowsKeysFirst()
    {
        using var r = new Replayed();
        var json = ModelPublisher.ModelJson(ModelStore.Load(FixtureModel(r)));
        Assert.StartsWith($"{{\"run_id\": \"{Replayed.Run1}\", \"artifact_path\": \"model\", \"utc_time_created\": \"2026-11-26 09:42:43.117923\", \"flavors\": {{", json);
        Assert.EndsWith("\"model_size_bytes\": 708}", json);
    }
}
