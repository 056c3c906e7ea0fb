using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using MlModels.Core.Artifacts;
using MlModels.Core.Tracking;
using MlModels.TrackingFake;

namespace MlModels.Core.Tests.Tracking;

/// <summary>The requests a client sent (method, path, body), on their way to the handler under it.</summary>
internal sealed class RecordingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public List<(string Method, string Path, byte[] Body)> Requests { get; } = [];

    public IReadOnlyList<JsonNode> JsonBodies(string endpoint)
    {
        lock (Requests) return Requests.Where(r => r.Path.EndsWith(endpoint, StringComparison.Ordinal)).Select(r => JsonNode.Parse(r.Body)!).ToList();
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content == null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        lock (Requests) Requests.Add((request.Method.Method, request.RequestUri!.AbsolutePath, body));
        return await base.SendAsync(request, cancellationToken);
    }
}

[Trait("Category", "Fast")]
public class LogBatchTests
{
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static (Replayed R, RecordingHandler Sent, TrackingClient Client) Recorded(ReplayOptions options)
    {
        var r = new Replayed(options);
        var sent = new RecordingHandler(new ReplayHandler(r.Replay));
        return (r, sent, new TrackingClient(r.Settings, sent));
    }

    /// <summary>A body with the timestamps and the run id as the recording writes them.</summary>
    private static string AsRecorded(JsonNode node, string runId)
    {
        void Walk(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                foreach (var key in o.Select(p => p.Key).ToList())
                {
                    if (key == "timestamp") o[key] = "<timestamp>";
                    else if (o[key] is JsonValue v && v.TryGetValue<string>(out var s) && s == runId) o[key] = "<run_id:1>";
                    else Walk(o[key]);
                }
            }
            else if (n is JsonArray a) foreach (var item in a) Walk(item);
        }
        var copy = node.DeepClone();
        Walk(copy);
        return copy.ToJsonString();
    }

    [Fact]
    public async Task LogBatch_SendsTheRecordedRequestFieldForField()
    {
        var (r, sent, client) = Recorded(new ReplayOptions { Flows = ["runs"] });
        using (r)
        using (client)
        {
            await client.LogBatchAsync(
                Replayed.Run1,
                [new("rmse", 0.5, Now, 0), new("rmse", 0.25, Now, 1), new("r2", 0.97, Now, 1)],
                [new("alpha", "0.5"), new("fit_intercept", "True")],
                [new("team", "conformance")]);
            r.AssertAllMatched();
            Assert.Equal("log-batch", Assert.Single(r.Replay.Calls).Matched!.Step);
            // Field for field and in the recorded order, the timestamps aside.
            var recorded = r.Replay.All.Single(e => e.Flow == "runs" && e.Step == "log-batch").RequestBody!;
            Assert.Equal(recorded.ToJsonString(), AsRecorded(Assert.Single(sent.JsonBodies("/runs/log-batch")), Replayed.Run1));
        }
    }

    [Fact]
    public async Task LogBatch_ThatMatchesTheRecording_GetsTheRecordedAnswer_AndIsKeptWithAcceptLogging()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["runs"], AcceptLogging = true });
        await r.Client.LogBatchAsync(Replayed.Run1, [new("rmse", 0.5, Now, 0), new("rmse", 0.25, Now, 1), new("r2", 0.97, Now, 1)],
            [new("alpha", "0.5"), new("fit_intercept", "True")], [new("team", "conformance")]);
        Assert.Equal("log-batch", Assert.Single(r.Replay.Calls).Matched!.Step);
        Assert.Equal([("rmse", 0.5, 0L), ("rmse", 0.25, 1L), ("r2", 0.97, 1L)],
            r.Replay.LoggedMetrics(Replayed.Run1).Select(m => (m.Key, m.Value, m.Step)));
        Assert.Equal("True", r.Replay.LoggedParams(Replayed.Run1)["fit_intercept"]);
        r.AssertAllMatched();
    }

    [Fact]
    public async Task LogBatch_ToARunTheServerLacks_IsTheRecordedNotFound()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["errors"] });
        const string Missing = "00000000000000000000000000000000";
        var ex = await Assert.ThrowsAsync<MlflowException>(() => r.Client.LogBatchAsync(Missing, [], [new("alpha", "0.5")]));
        r.AssertAllMatched();
        Assert.Equal("log-batch-missing-run", Assert.Single(r.Replay.Calls).Matched!.Step);
        Assert.True(ex.IsNotFound);
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task LogBatch_OfNothing_SendsNothing()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["runs"] });
        await r.Client.LogBatchAsync(Replayed.Run1, []);
        Assert.Empty(r.Replay.Calls);
    }

    [Fact]
    public async Task LogBatch_SplitsAtMlflowsLimits()
    {
        var (r, sent, client) = Recorded(new ReplayOptions { Flows = ["log-model"], AcceptLogging = true });
        using (r)
        using (client)
        {
            // Metrics alone: 1000 a request (the fake refuses more, as MLflow does).
            var metrics = Enumerable.Range(0, 2500).Select(i => new MetricValue($"m{i}", i, Now + i, 0)).ToList();
            await client.LogBatchAsync(Replayed.Run1, metrics);
            var batches = sent.JsonBodies("/runs/log-batch");
            Assert.Equal([1000, 1000, 500], batches.Select(b => b["metrics"]!.AsArray().Count));
            Assert.All(batches, b => Assert.Equal(["run_id", "metrics"], b.AsObject().Select(p => p.Key)));
            Assert.Equal(metrics.Select(m => m.Key), r.Replay.LoggedMetrics(Replayed.Run1).Select(m => m.Key));

            // With params and tags: 100 of each at a time, side by side, each request filled up with metrics to 1000
            // entities; then the metrics left, 1000 at a time (MlflowClient.log_batch).
            sent.Requests.Clear();
            var more = metrics.Take(1900).Select(m => m with { Key = "n" + m.Key }).ToList();
            var parameters = Enumerable.Range(0, 150).Select(i => KeyValuePair.Create($"p{i}", $"{i}")).ToList();
            var tags = Enumerable.Range(0, 20).Select(i => KeyValuePair.Create($"t{i}", $"{i}")).ToList();
            await client.LogBatchAsync(Replayed.Run1, more, parameters, tags);
            int Count(JsonNode b, string field) => b[field]?.AsArray().Count ?? 0;
            Assert.Equal([(880, 100, 20), (950, 50, 0), (70, 0, 0)],
                sent.JsonBodies("/runs/log-batch").Select(b => (Count(b, "metrics"), Count(b, "params"), Count(b, "tags"))));
            Assert.Equal(metrics.Concat(more).Select(m => m.Key), r.Replay.LoggedMetrics(Replayed.Run1).Select(m => m.Key));
            Assert.Equal(150, r.Replay.LoggedParams(Replayed.Run1).Count);
            Assert.Equal(20, r.Replay.LoggedTags(Replayed.Run1).Count);
            r.AssertAllMatched();
        }
    }

    [Fact]
    public async Task LogBatch_SendsNaNAndInfinitiesAsMlflowsClientDoes_AndReadsThemBack()
    {
        var (r, sent, client) = Recorded(new ReplayOptions { Flows = ["log-model"], AcceptLogging = true });
        using (r)
        using (client)
        {
            await client.LogBatchAsync(Replayed.Run1,
                [
                    new("nan_metric", double.NaN, Now, 0),
                    new("pos_inf", double.PositiveInfinity, Now, 0),
                    new("neg_inf", double.NegativeInfinity, Now, 0),
                ]);
            var body = Assert.Single(sent.JsonBodies("/runs/log-batch"));
            Assert.Equal(["NaN", "Infinity", "-Infinity"], body["metrics"]!.AsArray().Select(m => m!["value"]!.GetValue<string>()));
            var logged = r.Replay.LoggedMetrics(Replayed.Run1);
            Assert.True(double.IsNaN(logged[0].Value));
            Assert.Equal([double.PositiveInfinity, double.NegativeInfinity], logged.Skip(1).Select(m => m.Value));

            // runs/get answers NaN as "NaN" and the infinities as the SQL store keeps them.
            var metricsAfter = (await client.GetRunAsync(Replayed.Run1)).Data!.Metrics!;
            Assert.True(double.IsNaN(metricsAfter.Single(m => m.Key == "nan_metric").Value));
            Assert.Equal(double.MaxValue, metricsAfter.Single(m => m.Key == "pos_inf").Value);
            Assert.Equal(double.MinValue, metricsAfter.Single(m => m.Key == "neg_inf").Value);
            r.AssertAllMatched();
        }
    }
}

[Trait("Category", "Fast")]
public class RunLoggerTests
{
    private static readonly Dictionary<string, double> EvalMetrics = new()
    {
        ["accuracy_score"] = 0.9,
        ["f1_score"] = 0.875,
        ["precision_score"] = 0.8,
        ["recall_score"] = 0.95,
        ["roc_auc"] = 0.9612,
        ["log_loss"] = 0.3112,
    };

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>A folder as mlflow.evaluate's default evaluator leaves it: two plots and the results table.</summary>
    private static (string Folder, Dictionary<string, byte[]> Files) EvaluationFolder(bool withSubfolder = false)
    {
        var folder = TestPaths.NewTempDir();
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["confusion_matrix.png"] = Png(1),
            ["roc_curve_plot.png"] = Png(2),
            ["eval_results_table.json"] = Encoding.UTF8.GetBytes("""{"columns": ["label", "prediction"], "data": [[1, 1], [0, 1]]}"""),
        };
        if (withSubfolder) files["per_class/class_0.json"] = Encoding.UTF8.GetBytes("""{"precision": 0.8}""");
        foreach (var (relative, bytes) in files)
        {
            var path = Path.Combine(folder, relative.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }
        return (folder, files);
    }

    /// <summary>PNG-looking bytes: the signature, then bytes that are not UTF-8.</summary>
    private static byte[] Png(int seed)
    {
        var bytes = new byte[700];
        new Random(seed).NextBytes(bytes);
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        signature.CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>The fake holds exactly the evaluation's metrics (step 0, one timestamp) and its files, byte for byte, at the run's root.</summary>
    private static void AssertLogged(TrackingReplay replay, string runId, Dictionary<string, byte[]> files)
    {
        var logged = replay.LoggedMetrics(runId);
        Assert.Equal(EvalMetrics.Keys.Order(StringComparer.Ordinal), logged.Select(m => m.Key).Order(StringComparer.Ordinal));
        foreach (var (key, value) in EvalMetrics) Assert.Equal(value, Assert.Single(logged, m => m.Key == key).Value);
        Assert.All(logged, m => Assert.Equal(0, m.Step));
        Assert.Single(logged.Select(m => m.Timestamp).Distinct());
        var uploaded = replay.UploadedArtifacts(runId);
        Assert.Equal(files.Keys.Order(StringComparer.Ordinal), uploaded.Keys);
        foreach (var (relative, bytes) in files) Assert.Equal(bytes, uploaded[relative]);
    }

    private static string Step(ReceivedCall c) => c.Matched is { } m ? $"{m.Flow}/{m.Step}" : $"written {c.Written}";

    [Fact]
    public async Task LogEvaluation_ToAnExistingRun_LogsTheMetricsAndFilesAtTheRoot_AndLeavesTheRunAsItWas()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["log-model"], AcceptLogging = true });
        var (folder, files) = EvaluationFolder();
        var logger = new RunLogger(r.Client);
        var run = await logger.OpenAsync(Replayed.Run1, null, null);
        Assert.Equal(new RunTarget(Replayed.Run1, $"mlflow-artifacts:/{Replayed.Exp1}/{Replayed.Run1}/artifacts", Created: false), run);
        var progress = new List<PublishProgress>();
        await logger.LogEvaluationAsync(run.RunId, EvalMetrics, folder, new SyncProgress<PublishProgress>(progress.Add));
        await logger.CloseAsync(run, succeeded: true);

        r.AssertAllMatched();
        AssertLogged(r.Replay, Replayed.Run1, files);
        Assert.Equal(["log-model/get-run", "written runs/log-batch", "written mlflow-artifacts/artifacts (upload)",
            "written mlflow-artifacts/artifacts (upload)", "written mlflow-artifacts/artifacts (upload)"], r.Replay.Calls.Select(Step));
        Assert.Null(r.Replay.RunStatus(Replayed.Run1));
        Assert.Equal(
            ["confusion_matrix.png", "eval_results_table.json", "roc_curve_plot.png"],
            progress.Where(p => p.File != null).Select(p => p.File));
        Assert.Equal((3, 3), (progress[^1].FilesDone, progress[^1].FilesTotal));

        // runs/get now shows them beside the run's earlier metrics, as MLflow's latest value per key.
        var metrics = (await r.Client.GetRunAsync(Replayed.Run1)).Data!.Metrics!;
        foreach (var (key, value) in EvalMetrics)
        {
            var metric = Assert.Single(metrics, m => m.Key == key);
            Assert.Equal((value, 0L), (metric.Value, metric.Step!.Value));
        }
        Assert.Equal(0.25, metrics.Single(m => m.Key == "rmse").Value);
    }

    [Fact]
    public async Task LogEvaluation_OverHttp_KeepsSubfoldersAndTheProxyListsTheFiles()
    {
        using var server = ReplayHttpServer.Start(
            TestPaths.TrackingConformance, new ReplayOptions { Flows = ["log-model", "artifacts"], AcceptLogging = true });
        var settings = new TrackingSettings
        {
            TrackingUri = new Uri(server.Uri), TrackingUriSource = "MLFLOW_TRACKING_URI",
            RegistryUri = new Uri(server.Uri), RegistryUriSource = "MLFLOW_TRACKING_URI",
            Retry = new RetryOptions { MaxRetries = 0 },
        };
        using var client = new TrackingClient(settings);
        var (folder, files) = EvaluationFolder(withSubfolder: true);
        var logger = new RunLogger(client);
        var run = await logger.LogAsync(Replayed.Run1, null, null, EvalMetrics, folder);

        Assert.Empty(server.Replay.Mismatches);
        Assert.False(run.Created);
        AssertLogged(server.Replay, Replayed.Run1, files);
        Assert.DoesNotContain(server.Replay.Calls, c => c.PathAndQuery.EndsWith("/runs/update", StringComparison.Ordinal));

        // The proxy lists them beside what the recording holds; the subfolder's file under its folder.
        using var repository = new ProxiedArtifactRepository(client, run.ArtifactUri);
        var root = await repository.ListAsync("", default);
        Assert.Equal(["confusion_matrix.png", "eval_results_table.json", "model", "per_class", "roc_curve_plot.png"], root.Select(e => e.Path));
        Assert.Equal((false, (long?)files["confusion_matrix.png"].Length), root[0] is var e ? (e.IsDir, e.Size) : default);
        Assert.True(root.Single(x => x.Path == "per_class").IsDir);
        Assert.Equal(["per_class/class_0.json"], (await repository.ListAsync("per_class", default)).Select(x => x.Path));
        Assert.Empty(server.Replay.Mismatches);
    }

    [Fact]
    public async Task LogAsync_ToAnExperiment_CreatesTheRunAndEndsItFinished()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["experiments", "runs"], AcceptLogging = true });
        var (folder, files) = EvaluationFolder();
        var logger = new RunLogger(r.Client) { UserId = "conformance", SourceName = "train.py" };
        var run = await logger.LogAsync(null, "tracking-conformance", "ridge-run", EvalMetrics, folder);

        r.AssertAllMatched();
        Assert.Equal(new RunTarget(Replayed.Run1, $"mlflow-artifacts:/{Replayed.Exp1}/{Replayed.Run1}/artifacts", Created: true), run);
        Assert.Equal(["experiments/get-by-name-missing", "experiments/create", "experiments/get", "runs/create", "written runs/log-batch",
            "runs/get", "written mlflow-artifacts/artifacts (upload)", "written mlflow-artifacts/artifacts (upload)",
            "written mlflow-artifacts/artifacts (upload)", "runs/update-finished"], r.Replay.Calls.Select(Step));
        Assert.Equal("FINISHED", r.Replay.RunStatus(Replayed.Run1));
        AssertLogged(r.Replay, Replayed.Run1, files);
    }

    [Fact]
    public async Task LogAsync_ThatFails_EndsTheRunItCreatedFailed()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["experiments", "runs"], AcceptLogging = true });
        var logger = new RunLogger(r.Client) { UserId = "conformance", SourceName = "train.py" };
        // MLflow refuses a metric name with parentheses.
        var ex = await Assert.ThrowsAsync<MlflowException>(() => logger.LogAsync(null, "tracking-conformance", "ridge-run",
            new Dictionary<string, double> { ["f1 (macro)"] = 0.5 }, null));
        Assert.Equal(("INVALID_PARAMETER_VALUE", HttpStatusCode.BadRequest), (ex.ErrorCode, ex.StatusCode));
        Assert.Contains("Invalid metric name: 'f1 (macro)'", ex.Message);
        Assert.Equal("FAILED", r.Replay.RunStatus(Replayed.Run1));
        var update = r.Replay.Calls[^1];
        Assert.Equal(("runs/update", "/api/2.0/mlflow/runs/update"), (update.Written, update.PathAndQuery));
        Assert.Empty(r.Replay.LoggedMetrics(Replayed.Run1));
        r.AssertAllMatched();
    }

    [Fact]
    public async Task CloseAsync_EndsOnlyARunTheLoggerCreated()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["experiments", "runs"], AcceptLogging = true });
        var logger = new RunLogger(r.Client) { UserId = "conformance", SourceName = "train.py" };
        var run = await logger.OpenAsync(null, "tracking-conformance", "ridge-run");
        await logger.CloseAsync(run with { Created = false }, succeeded: true);
        Assert.Null(r.Replay.RunStatus(Replayed.Run1));
        await logger.CloseAsync(run, succeeded: false);
        Assert.Equal("FAILED", r.Replay.RunStatus(Replayed.Run1));
        r.AssertAllMatched();
    }

    [Fact]
    public async Task UnknownRunId_IsTheTypedNotFoundError()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["errors", "log-model"], AcceptLogging = true });
        var logger = new RunLogger(r.Client);
        var ex = await Assert.ThrowsAsync<MlflowException>(() => logger.OpenAsync("00000000000000000000000000000000", null, null));
        Assert.True(ex.IsNotFound);
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Contains("00000000000000000000000000000000", ex.Message);

        // Logging to a run the server lacks is the same error (MLflow's answer, written by the fake).
        const string Missing = "0123456789abcdef0123456789abcdef";
        var ex2 = await Assert.ThrowsAsync<MlflowException>(() => logger.LogEvaluationAsync(Missing, EvalMetrics, null));
        Assert.True(ex2.IsNotFound);
        Assert.Contains($"Run with id={Missing} not found", ex2.Message);
        Assert.Empty(r.Replay.LoggedMetrics(Missing));
        r.AssertAllMatched();
    }

    [Fact]
    public async Task LogEvaluation_ToALocalArtifactRoot_WritesTheFilesInItsFolder()
    {
        var root = TestPaths.NewTempDir();
        using var r = new Replayed(new ReplayOptions { Flows = ["log-model"], AcceptLogging = true, ArtifactRoot = new Uri(root).AbsoluteUri });
        var (folder, files) = EvaluationFolder(withSubfolder: true);
        var logger = new RunLogger(r.Client);
        var run = await logger.OpenAsync(Replayed.Run1, null, null);
        Assert.StartsWith("file://", run.ArtifactUri, StringComparison.Ordinal);
        await logger.LogEvaluationAsync(run.RunId, EvalMetrics, folder);

        var runRoot = Path.Combine(root, Replayed.Exp1, Replayed.Run1, "artifacts");
        Assert.Equal(files.Keys.Order(StringComparer.Ordinal),
            Directory.EnumerateFiles(runRoot, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(runRoot, f).Replace(Path.DirectorySeparatorChar, '/')).Order(StringComparer.Ordinal));
        foreach (var (relative, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(runRoot, relative)));
        Assert.DoesNotContain(r.Replay.Calls, c => c.Method == "PUT");
        Assert.Empty(r.Replay.Uploads);
        Assert.Equal(EvalMetrics.Count, r.Replay.LoggedMetrics(Replayed.Run1).Count);
        r.AssertAllMatched();
    }

    [Fact]
    public async Task LogEvaluation_OfAMissingFolder_FailsBeforeLoggingAnything()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["log-model"], AcceptLogging = true });
        var missing = Path.Combine(TestPaths.NewTempDir(), "no-such-folder");
        await Assert.ThrowsAsync<DirectoryNotFoundException>(() => new RunLogger(r.Client).LogEvaluationAsync(Replayed.Run1, EvalMetrics, missing));
        Assert.Empty(r.Replay.Calls);
    }

    [Fact]
    public void Plan_ListsTheCallsInOrder()
    {
        var (folder, _) = EvaluationFolder();
        var many = Enumerable.Range(0, 1500).ToDictionary(i => $"m{i}", i => (double)i);
        var plan = RunLogger.Plan(null, "e", "r", many, folder);
        Assert.Equal(["GET experiments/get-by-name", "POST runs/create", "POST runs/log-batch", "POST runs/log-batch", "GET runs/get",
            "PUT mlflow-artifacts/artifacts", "PUT mlflow-artifacts/artifacts", "PUT mlflow-artifacts/artifacts", "POST runs/update"],
            plan.Select(c => $"{c.Method} {c.Endpoint}"));
        Assert.Equal(["run <new run>: 1000 metric(s) at step 0", "run <new run>: 500 metric(s) at step 0"],
            plan.Where(c => c.Endpoint == "runs/log-batch").Select(c => c.Target));
        Assert.Equal("<artifact root of run <new run>>/confusion_matrix.png", plan[5].Target);

        var toRun = RunLogger.Plan("abc", null, null, EvalMetrics, null);
        Assert.Equal(["GET runs/get", "POST runs/log-batch"], toRun.Select(c => $"{c.Method} {c.Endpoint}"));
        Assert.Throws<ArgumentException>(() => RunLogger.Plan(null, null, null, EvalMetrics, null));
        Assert.Throws<DirectoryNotFoundException>(() => RunLogger.Plan("abc", null, null, EvalMetrics, Path.Combine(folder, "missing")));
    }
}

/// <summary>The fake's written answers to what no recording matches, and its strict replay without AcceptLogging.</summary>
[Trait("Category", "Fast")]
public class TrackingFakeLoggingTests
{
    private const string LogBatch = "/api/2.0/mlflow/runs/log-batch";
    private const string Docs = " See the API docs for more information about request parameters.";
    private const string AList = " Hint: Value was of type 'list'." + Docs;

    private static TrackingReplay Accepting() =>
        new(TestPaths.TrackingConformance, new ReplayOptions { Flows = ["log-model"], AcceptLogging = true });

    private static async Task<(int Status, JsonNode? Body)> Post(TrackingReplay replay, string json)
    {
        using var http = new HttpClient(new ReplayHandler(replay)) { BaseAddress = new Uri("http://127.0.0.1:5000") };
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(LogBatch, content);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static string Metric(string key, string value = "0.5") =>
        $$"""{"key": "{{key}}", "value": {{value}}, "timestamp": 1700000000000, "step": 0}""";

    private static string Metrics(string runId, params string[] metrics) =>
        $$"""{"run_id": "{{runId}}", "metrics": [{{string.Join(", ", metrics)}}]}""";

    [Theory]
    [InlineData("""{"metrics": []}""", "Missing value for required parameter 'run_id'." + Docs)]
    [InlineData("""{"run_id": "RUN", "metrics": [{"value": 1, "timestamp": 5}]}""",
        "Invalid value [{'value': 1, 'timestamp': 5}] for parameter 'metrics' supplied." + AList)]
    [InlineData("""{"run_id": "RUN", "metrics": [{"key": "a", "timestamp": 5}]}""",
        "Invalid value [{'key': 'a', 'timestamp': 5}] for parameter 'metrics' supplied." + AList)]
    [InlineData("""{"run_id": "RUN", "params": [{"value": "x"}]}""", "Invalid value [{'value': 'x'}] for parameter 'params' supplied." + AList)]
    [InlineData("""{"run_id": "RUN", "metrics": [{"key": "a/../b", "value": 1, "timestamp": 5}]}""",
        "Invalid metric name: 'a/../b'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. "
        + "This name would resolve to 'b'")]
    [InlineData("""{"run_id": "RUN", "params": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]}""",
        "Duplicate parameter keys have been submitted: ['a']. Please ensure the request contains only one param value per param key.")]
    public async Task LogBatch_ThatMlflowRefuses_Is400InvalidParameterValue(string body, string message)
    {
        var replay = Accepting();
        var (status, answer) = await Post(replay, body.Replace("RUN", TrackingReplay.RunId(1), StringComparison.Ordinal));
        Assert.Equal(400, status);
        Assert.Equal("INVALID_PARAMETER_VALUE", answer!["error_code"]!.GetValue<string>());
        Assert.Equal(message, answer["message"]!.GetValue<string>());
        Assert.Empty(replay.LoggedMetrics(TrackingReplay.RunId(1)));
        Assert.Empty(replay.LoggedParams(TrackingReplay.RunId(1)));
    }

    [Fact]
    public async Task LogBatch_OverTheLimits_IsRefusedAsMlflowRefusesIt()
    {
        var replay = Accepting();
        var run = TrackingReplay.RunId(1);
        var (status, answer) = await Post(replay, Metrics(run, Enumerable.Range(0, 1001).Select(i => Metric($"m{i}")).ToArray()));
        Assert.Equal(400, status);
        Assert.Equal(
            "A batch logging request can contain at most 1000 metrics. Got 1001 metrics. "
                + "Please split up metrics across multiple requests and try again.",
            answer!["message"]!.GetValue<string>());
        var parameters = string.Join(", ", Enumerable.Range(0, 101).Select(i => $$"""{"key": "p{{i}}", "value": "1"}"""));
        (status, answer) = await Post(replay, $$"""{"run_id": "{{run}}", "params": [{{parameters}}]}""");
        Assert.Equal(400, status);
        Assert.StartsWith("A batch logging request can contain at most 100 params. Got 101 params.", answer!["message"]!.GetValue<string>(),
            StringComparison.Ordinal);
        Assert.Empty(replay.LoggedMetrics(run));
    }

    [Fact]
    public async Task LogBatch_ToAnUnknownRun_Is404AndAKnownRunKeepsWhatWasLogged()
    {
        var replay = Accepting();
        var (status, answer) = await Post(replay, Metrics(TrackingReplay.RunId(3), Metric("a")));
        Assert.Equal((404, "RESOURCE_DOES_NOT_EXIST", $"Run with id={TrackingReplay.RunId(3)} not found"),
            (status, answer!["error_code"]!.GetValue<string>(), answer["message"]!.GetValue<string>()));

        var run = TrackingReplay.RunId(1);
        (status, answer) = await Post(replay,
            $$"""{"run_id": "{{run}}", "metrics": [{{Metric("a", "\"NaN\"")}}, {{Metric("a", "2")}}], "tags": [{"key": "k", "value": "v"}]}""");
        Assert.Equal((200, "{}"), (status, answer!.ToJsonString()));
        Assert.Equal(["a", "a"], replay.LoggedMetrics(run).Select(m => m.Key));
        Assert.True(double.IsNaN(replay.LoggedMetrics(run)[0].Value));
        Assert.Equal("v", replay.LoggedTags(run)["k"]);
    }

    [Fact]
    public async Task WithoutAcceptLogging_TheReplayStaysStrict()
    {
        var replay = new TrackingReplay(TestPaths.TrackingConformance, new ReplayOptions { Flows = ["log-model"] });
        var (status, answer) = await Post(replay, Metrics(TrackingReplay.RunId(1), Metric("a")));
        Assert.Equal((501, "REPLAY_MISMATCH"), (status, answer!["error_code"]!.GetValue<string>()));
        Assert.Single(replay.Mismatches);
        Assert.Empty(replay.LoggedMetrics(TrackingReplay.RunId(1)));
    }

    [Fact]
    public async Task Uploads_OutsideAKnownRunsRoot_OrWithDotDot_AreNotTaken()
    {
        var replay = Accepting();
        using var http = new HttpClient(new ReplayHandler(replay)) { BaseAddress = new Uri("http://127.0.0.1:5000") };
        const string Proxy = "/api/2.0/mlflow-artifacts/artifacts";
        var root = $"{Proxy}/{TrackingReplay.ExperimentId(1)}/{TrackingReplay.RunId(1)}/artifacts";
        using (var ok = await http.PutAsync(root + "/metrics.json", new ByteArrayContent([1, 2, 3])))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (var other = await http.PutAsync($"{Proxy}/9/{TrackingReplay.RunId(3)}/artifacts/x.png", new ByteArrayContent([1])))
            Assert.Equal(HttpStatusCode.NotImplemented, other.StatusCode);
        // Sent as the path reaches the server (HttpClient would resolve the dots).
        var escape = replay.Handle("PUT", root + "/%2E%2E/%2E%2E/x.txt", "text/plain", null, null, [1]);
        Assert.Equal(
            (400, """{"error_code":"INVALID_PARAMETER_VALUE","message":"Invalid path"}"""),
            (escape.Status, Encoding.UTF8.GetString(escape.Body)));
        var (path, bytes) = Assert.Single(replay.UploadedArtifacts(TrackingReplay.RunId(1)));
        Assert.Equal("metrics.json", path);
        Assert.Equal([1, 2, 3], bytes);
        Assert.Single(replay.Uploads);
    }
}
