using System.Net.Http.Headers;
using System.Text.Json.Serialization.Metadata;

namespace MlModels.Core.Tracking;

/// <summary>
/// MLflow's REST API 2.0 as MLflow's Python client calls it (mlflow/store/tracking/rest_store.py,
/// mlflow/store/model_registry/rest_store.py, mlflow/store/artifact/mlflow_artifacts_repo.py): the same endpoints,
/// methods, query parameters and bodies. Tracking calls go to the tracking URI, registry calls to the registry URI.
/// </summary>
public sealed class TrackingClient : IDisposable
{
    private const string Api = "/api/2.0/mlflow";
    private const string ArtifactsApi = "/api/2.0/mlflow-artifacts/artifacts";
    private readonly TrackingHttp _http;
    private readonly Dictionary<string, Run> _runCache = new(StringComparer.Ordinal);

    public TrackingClient(TrackingSettings settings, HttpMessageHandler? handler = null) => _http = new TrackingHttp(settings, handler);

    public TrackingSettings Settings => _http.Settings;
    internal TrackingHttp Http => _http;

    private Uri Tracking => Settings.TrackingUri;
    private Uri Registry => Settings.RegistryUri;

    private static KeyValuePair<string, string?> Q(string k, string? v) => new(k, v);

    private Task<TResp> Get<TResp>(
        Uri server,
        string path,
        JsonTypeInfo<TResp> type,
        string? resource,
        CancellationToken ct,
        params KeyValuePair<string, string?>[] query) =>
        _http.CallAsync<EmptyResponse, TResp>(server, HttpMethod.Get, path, query, null, null, type, resource, ct);

    private Task<TResp> Send<TReq, TResp>(
        Uri server,
        HttpMethod method,
        string path,
        TReq body,
        JsonTypeInfo<TReq> bodyType,
        JsonTypeInfo<TResp> type,
        string? resource,
        CancellationToken ct) =>
        _http.CallAsync(server, method, path, null, body, bodyType, type, resource, ct);

    // Experiments and runs.

    /// <summary>The experiment of that name, or null (the server's RESOURCE_DOES_NOT_EXIST), as mlflow.set_experiment checks.</summary>
    public async Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken ct = default)
    {
        try
        {
            return (await Get(
            Tracking,
            $"{Api}/experiments/get-by-name",
            TrackingJson.Default.ExperimentResponse,
            null,
            ct,
            Q("experiment_name", name)).ConfigureAwait(false)).Experiment;
        }
        catch (MlflowException ex) when (ex.IsNotFound) { return null; }
    }

    public async Task<string> CreateExperimentAsync(string name, CancellationToken ct = default) =>
        (await Send(
            Tracking,
            HttpMethod.Post,
            $"{Api}/experiments/create",
            new CreateExperimentRequest(name),
            TrackingJson.Default.CreateExperimentRequest,
            TrackingJson.Default.CreateExperimentResponse,
            $"experiment '{name}'",
            ct).ConfigureAwait(false)).ExperimentId;

    public async Task<Experiment> GetExperimentAsync(string id, CancellationToken ct = default) =>
        (await Get(Tracking, $"{Api}/experiments/get", TrackingJson.Default.ExperimentResponse, $"experiment {id}", ct, Q("experiment_id", id))
            .ConfigureAwait(false)).Experiment;

    /// <summary>runs/create with the tags MLflow's fluent API sets (mlflow.user, mlflow.source.*, mlflow.runName).</summary>
    public async Task<Run> CreateRunAsync(
        string experimentId,
        string? userId,
        string? runName,
        IReadOnlyList<TagEntry> tags,
        CancellationToken ct = default) =>
        (await Send(
            Tracking,
            HttpMethod.Post,
            $"{Api}/runs/create",
            new CreateRunRequest(experimentId, userId, runName, Millis.Now(), tags),
            TrackingJson.Default.CreateRunRequest,
            TrackingJson.Default.RunResponse,
            $"experiment {experimentId}",
            ct).ConfigureAwait(false)).Run;

    public async Task<Run> GetRunAsync(string runId, CancellationToken ct = default)
    {
        var run = (await Get(
            Tracking,
            $"{Api}/runs/get",
            TrackingJson.Default.RunResponse,
            $"run {runId}",
            ct,
            Q("run_uuid", runId),
            Q("run_id", runId)).ConfigureAwait(false)).Run;
        _runCache[runId] = run;
        return run;
    }

    /// <summary>The run's artifact root, from a run read earlier by this client when there was one (MLflow caches it per run too).</summary>
    public async Task<string> GetRunArtifactUriAsync(string runId, CancellationToken ct = default)
    {
        var run = _runCache.TryGetValue(runId, out var r) ? r : await GetRunAsync(runId, ct).ConfigureAwait(false);
        return run.Info.ArtifactUri ?? throw new MlflowException(
            "INVALID_STATE",
            $"Run {runId} has no artifact_uri.",
            System.Net.HttpStatusCode.OK,
            "GET",
            $"{Api}/runs/get",
            $"run {runId}");
    }

    public async Task<RunInfo> UpdateRunAsync(string runId, string status, CancellationToken ct = default) =>
        (await Send(
            Tracking,
            HttpMethod.Post,
            $"{Api}/runs/update",
            new UpdateRunRequest(runId, status, Millis.Now(), runId),
            TrackingJson.Default.UpdateRunRequest,
            TrackingJson.Default.UpdateRunResponse,
            $"run {runId}",
            ct).ConfigureAwait(false)).RunInfo;

    /// <summary>runs/log-model: the server appends the model to the run's mlflow.log-model.history tag.</summary>
    public Task LogModelAsync(string runId, string modelJson, CancellationToken ct = default) =>
        Send(
            Tracking,
            HttpMethod.Post,
            $"{Api}/runs/log-model",
            new LogModelRequest(runId, modelJson),
            TrackingJson.Default.LogModelRequest,
            TrackingJson.Default.EmptyResponse,
            $"run {runId}",
            ct);

    /// <summary>The most metrics one runs/log-batch takes (mlflow.utils.validation.MAX_METRICS_PER_BATCH).</summary>
    public const int MaxMetricsPerBatch = 1000;

    /// <summary>The most params, and the most tags, one runs/log-batch takes (MAX_PARAMS_TAGS_PER_BATCH).</summary>
    public const int MaxParamsTagsPerBatch = 100;

    /// <summary>The most metrics, params and tags together one runs/log-batch takes (MAX_ENTITIES_PER_BATCH).</summary>
    public const int MaxEntitiesPerBatch = 1000;

    /// <summary>
    /// runs/log-batch, split as MlflowClient.log_batch splits it: params and tags in chunks of 100, side by side, each
    /// request filled up with metrics to 1000 entities, then the metrics left in requests of 1000. Nothing is sent when
    /// there is nothing to log.
    /// </summary>
    public async Task LogBatchAsync(
        string runId,
        IReadOnlyList<MetricValue> metrics,
        IReadOnlyList<KeyValuePair<string, string>>? parameters = null,
        IReadOnlyList<KeyValuePair<string, string>>? tags = null,
        CancellationToken ct = default)
    {
        foreach (var request in SplitLogBatch(runId, metrics, parameters, tags))
        {
            await Send(
                Tracking,
                HttpMethod.Post,
                $"{Api}/runs/log-batch",
                request,
                TrackingJson.Default.LogBatchRequest,
                TrackingJson.Default.EmptyResponse,
                $"run {runId}",
                ct).ConfigureAwait(false);
        }
    }

    /// <summary>The runs/log-batch requests <see cref="LogBatchAsync"/> sends, in order.</summary>
    public static IReadOnlyList<LogBatchRequest> SplitLogBatch(
        string runId,
        IReadOnlyList<MetricValue> metrics,
        IReadOnlyList<KeyValuePair<string, string>>? parameters = null,
        IReadOnlyList<KeyValuePair<string, string>>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var paramChunks = (parameters ?? []).Select(p => new Param(p.Key, p.Value)).Chunk(MaxParamsTagsPerBatch).ToList();
        var tagChunks = (tags ?? []).Select(t => new TagEntry(t.Key, t.Value)).Chunk(MaxParamsTagsPerBatch).ToList();
        var requests = new List<LogBatchRequest>();
        int next = 0;
        for (int i = 0; i < Math.Max(paramChunks.Count, tagChunks.Count); i++)
        {
            Param[] p = i < paramChunks.Count ? paramChunks[i] : [];
            TagEntry[] t = i < tagChunks.Count ? tagChunks[i] : [];
            var size = Math.Max(Math.Min(MaxEntitiesPerBatch - p.Length - t.Length, MaxMetricsPerBatch), 0);
            var m = metrics.Skip(next).Take(size).ToArray();
            next += m.Length;
            requests.Add(new LogBatchRequest(runId, NullIfEmpty(m), NullIfEmpty(p), NullIfEmpty(t)));
        }
        for (; next < metrics.Count; next += MaxMetricsPerBatch)
            requests.Add(new LogBatchRequest(runId, metrics.Skip(next).Take(MaxMetricsPerBatch).ToArray()));
        return requests;

        static IReadOnlyList<T>? NullIfEmpty<T>(T[] items) => items.Length == 0 ? null : items;
    }

    // Artifacts, through the server's proxy.

    /// <summary>Where an artifact URI's files are served: the proxy's server and the path below it.</summary>
    public (Uri Server, string Path) ResolveArtifactUri(string artifactUri)
    {
        const string Scheme = "mlflow-artifacts:";
        if (!artifactUri.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            var scheme = artifactUri.Contains(':') ? artifactUri[..artifactUri.IndexOf(':')] : "a local path";
            throw new ArtifactLocationNotSupportedException(
                $"The artifacts are stored at '{artifactUri}' ({scheme}), which this client cannot read: it downloads through the " +
                    $"tracking server's artifact proxy "
                + "(mlflow-artifacts:/ URIs; start the server with --serve-artifacts, the default since MLflow 2.0).", artifactUri);
        }
        var rest = artifactUri[Scheme.Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            // mlflow-artifacts://host:port/path names another server, reached with the tracking URI's scheme.
            var slash = rest.IndexOf('/', 2);
            var authority = slash < 0 ? rest[2..] : rest[2..slash];
            var path = slash < 0 ? "" : rest[(slash + 1)..];
            return authority.Length == 0 ? (Tracking, path.Trim('/')) : (new Uri($"{Tracking.Scheme}://{authority}"), path.Trim('/'));
        }
        return (Tracking, rest.Trim('/'));
    }

    /// <summary>The proxy's listing of a folder: the entries directly under it; empty for a file or a missing folder.</summary>
    public async Task<IReadOnlyList<ArtifactFile>> ListArtifactsAsync(Uri server, string path, CancellationToken ct = default) =>
        (await Get(server, ArtifactsApi, TrackingJson.Default.ListArtifactsResponse, path, ct, Q("path", path)).ConfigureAwait(false)).Files ?? [];

    /// <summary>GET of one file through the proxy, streamed; the caller disposes the response.</summary>
    public Task<HttpResponseMessage> DownloadArtifactAsync(Uri server, string path, CancellationToken ct = default)
    {
        var url = ArtifactUrl(server, path);
        return _http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), path, HttpCompletionOption.ResponseHeadersRead, ct);
    }

    /// <summary>PUT of one file through the proxy, with the Content-Type MLflow's client guesses.</summary>
    public async Task UploadArtifactAsync(Uri server, string path, string localFile, CancellationToken ct = default)
    {
        var url = ArtifactUrl(server, path);
        var type = ArtifactContentType.Guess(localFile);
        using var response = await _http.SendAsync(() =>
        {
            var content = new StreamContent(File.OpenRead(localFile));
            content.Headers.ContentType = new MediaTypeHeaderValue(type);
            return new HttpRequestMessage(HttpMethod.Put, url) { Content = content };
        }, path, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
    }

    private static Uri ArtifactUrl(Uri server, string path) =>
        TrackingHttp.Url(server, ArtifactsApi + "/" + string.Join('/', path.Split('/').Select(Uri.EscapeDataString)));

    // Registry.

    public async Task<RegisteredModel> CreateRegisteredModelAsync(string name, CancellationToken ct = default) =>
        (await Send(
            Registry,
            HttpMethod.Post,
            $"{Api}/registered-models/create",
            new CreateRegisteredModelRequest(name),
            TrackingJson.Default.CreateRegisteredModelRequest,
            TrackingJson.Default.RegisteredModelResponse,
            $"registered model '{name}'",
            ct).ConfigureAwait(false)).RegisteredModel;

    public async Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken ct = default) =>
        (await Get(
            Registry,
            $"{Api}/registered-models/get",
            TrackingJson.Default.RegisteredModelResponse,
            $"registered model '{name}'",
            ct,
            Q("name", name)).ConfigureAwait(false)).RegisteredModel;

    /// <summary>registered-models/search (names for completion); <paramref name="filter"/> in MLflow's search syntax.</summary>
    public async Task<IReadOnlyList<RegisteredModel>> SearchRegisteredModelsAsync(string? filter, int maxResults, CancellationToken ct = default) =>
        (await Get(
            Registry,
            $"{Api}/registered-models/search",
            TrackingJson.Default.RegisteredModelsResponse,
            null,
            ct,
            Q("filter", filter),
            Q("max_results", maxResults.ToString(System.Globalization.CultureInfo.InvariantCulture))).ConfigureAwait(false)).RegisteredModels ?? [];

    public async Task<ModelVersion> CreateModelVersionAsync(string name, string source, string? runId, CancellationToken ct = default) =>
        Stamp((await Send(
            Registry,
            HttpMethod.Post,
            $"{Api}/model-versions/create",
            new CreateModelVersionRequest(name, source, runId),
            TrackingJson.Default.CreateModelVersionRequest,
            TrackingJson.Default.ModelVersionResponse,
            $"registered model '{name}'",
            ct).ConfigureAwait(false)).ModelVersion);

    public async Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken ct = default) =>
        Stamp((await Get(
            Registry,
            $"{Api}/model-versions/get",
            TrackingJson.Default.ModelVersionResponse,
            $"models:/{name}/{version}",
            ct,
            Q("name", name),
            Q("version", version)).ConfigureAwait(false)).ModelVersion);

    public async Task<string> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken ct = default) =>
        (await Get(
            Registry,
            $"{Api}/model-versions/get-download-uri",
            TrackingJson.Default.DownloadUriResponse,
            $"models:/{name}/{version}",
            ct,
            Q("name", name),
            Q("version", version)).ConfigureAwait(false)).ArtifactUri;

    public async Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken ct = default) =>
        Stamp((await Get(
            Registry,
            $"{Api}/registered-models/alias",
            TrackingJson.Default.ModelVersionResponse,
            $"models:/{name}@{alias}",
            ct,
            Q("name", name),
            Q("alias", alias)).ConfigureAwait(false)).ModelVersion);

    public Task SetAliasAsync(string name, string alias, string version, CancellationToken ct = default) =>
        Send(
            Registry,
            HttpMethod.Post,
            $"{Api}/registered-models/alias",
            new SetAliasRequest(name, alias, version),
            TrackingJson.Default.SetAliasRequest,
            TrackingJson.Default.EmptyResponse,
            $"models:/{name}/{version}",
            ct);

    public Task DeleteAliasAsync(string name, string alias, CancellationToken ct = default) =>
        Send(
            Registry,
            HttpMethod.Delete,
            $"{Api}/registered-models/alias",
            new DeleteAliasRequest(name, alias),
            TrackingJson.Default.DeleteAliasRequest,
            TrackingJson.Default.EmptyResponse,
            $"models:/{name}@{alias}",
            ct);

    /// <summary>model-versions/search with MLflow's filter syntax (<c>name='x'</c>), as MlflowClient.search_model_versions sends it.</summary>
    public async Task<IReadOnlyList<ModelVersion>> SearchModelVersionsAsync(string filter, int maxResults = 10000, CancellationToken ct = default) =>
        ((await Get(
            Registry,
            $"{Api}/model-versions/search",
            TrackingJson.Default.ModelVersionsResponse,
            null,
            ct,
            Q("filter", filter),
            Q("max_results", maxResults.ToString(System.Globalization.CultureInfo
                .InvariantCulture))).ConfigureAwait(false)).ModelVersions ?? []).Select(Stamp).ToList();

    /// <summary>The latest version per stage (all stages when <paramref name="stages"/> is null); POST as MLflow sends it.</summary>
    public async Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(
        string name,
        IReadOnlyList<string>? stages,
        CancellationToken ct = default) =>
        ((await Send(
            Registry,
            HttpMethod.Post,
            $"{Api}/registered-models/get-latest-versions",
            new GetLatestVersionsRequest(name, stages),
            TrackingJson.Default.GetLatestVersionsRequest,
            TrackingJson.Default.ModelVersionsResponse,
            $"registered model '{name}'",
            ct).ConfigureAwait(false)).ModelVersions ?? []).Select(Stamp).ToList();

    public Task SetModelVersionTagAsync(string name, string version, string key, string value, CancellationToken ct = default) =>
        Send(
            Registry,
            HttpMethod.Post,
            $"{Api}/model-versions/set-tag",
            new SetModelVersionTagRequest(name, version, key, value),
            TrackingJson.Default.SetModelVersionTagRequest,
            TrackingJson.Default.EmptyResponse,
            $"models:/{name}/{version}",
            ct);

    public Task DeleteModelVersionTagAsync(string name, string version, string key, CancellationToken ct = default) =>
        Send(
            Registry,
            HttpMethod.Delete,
            $"{Api}/model-versions/delete-tag",
            new DeleteModelVersionTagRequest(name, version, key),
            TrackingJson.Default.DeleteModelVersionTagRequest,
            TrackingJson.Default.EmptyResponse,
            $"models:/{name}/{version}",
            ct);

    public Task SetRegisteredModelTagAsync(string name, string key, string value, CancellationToken ct = default) =>
        Send(
            Registry,
            HttpMethod.Post,
            $"{Api}/registered-models/set-tag",
            new SetRegisteredModelTagRequest(name, key, value),
            TrackingJson.Default.SetRegisteredModelTagRequest,
            TrackingJson.Default.EmptyResponse,
            $"registered model '{name}'",
            ct);

    public Task DeleteRegisteredModelTagAsync(string name, string key, CancellationToken ct = default) =>
        Send(
            Registry,
            HttpMethod.Delete,
            $"{Api}/registered-models/delete-tag",
            new DeleteRegisteredModelTagRequest(name, key),
            TrackingJson.Default.DeleteRegisteredModelTagRequest,
            TrackingJson.Default.EmptyResponse,
            $"registered model '{name}'",
            ct);

    public async Task<ModelVersion> TransitionStageAsync(
        string name,
        string version,
        string stage,
        bool archiveExisting,
        CancellationToken ct = default) =>
        Stamp((await Send(
            Registry,
            HttpMethod.Post,
            $"{Api}/model-versions/transition-stage",
            new TransitionStageRequest(name, version, stage, archiveExisting),
            TrackingJson.Default.TransitionStageRequest,
            TrackingJson.Default.ModelVersionResponse,
            $"models:/{name}/{version}",
            ct).ConfigureAwait(false)).ModelVersion);

    public async Task<ModelVersion> UpdateModelVersionAsync(string name, string version, string description, CancellationToken ct = default) =>
        Stamp((await Send(
            Registry,
            HttpMethod.Patch,
            $"{Api}/model-versions/update",
            new UpdateModelVersionRequest(name, version, description),
            TrackingJson.Default.UpdateModelVersionRequest,
            TrackingJson.Default.ModelVersionResponse,
            $"models:/{name}/{version}",
            ct).ConfigureAwait(false)).ModelVersion);

    public Task DeleteModelVersionAsync(string name, string version, CancellationToken ct = default) =>
        Send(
            Registry,
            HttpMethod.Delete,
            $"{Api}/model-versions/delete",
            new DeleteModelVersionRequest(name, version),
            TrackingJson.Default.DeleteModelVersionRequest,
            TrackingJson.Default.EmptyResponse,
            $"models:/{name}/{version}",
            ct);

    private ModelVersion Stamp(ModelVersion v) => v with { TrackingUri = Settings.OriginalTrackingUri ?? Registry.ToString() };

    public void Dispose() => _http.Dispose();
}

/// <summary>The Content-Type MLflow's client sends with an uploaded artifact (mlflow/utils/mime_type_utils.py).</summary>
public static class ArtifactContentType
{
    private static readonly HashSet<string> TextExtensions = new(StringComparer.Ordinal)
    {
        "txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon", "toml", "yaml", "yml", "xml", "json",
        "js", "py", "py3", "csv", "tsv", "md", "rst", "MLmodel", "MLproject",
    };

    private static readonly Dictionary<string, string> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html", [".htm"] = "text/html", [".png"] = "image/png", [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg", [".gif"]
            = "image/gif",
        [".svg"] = "image/svg+xml", [".pdf"] = "application/pdf", [".zip"] = "application/zip", [".gz"] = "application/gzip", [".tar"]
            = "application/x-tar",
    };

    public static string Guess(string file)
    {
        var name = Path.GetFileName(file);
        var ext = Path.GetExtension(name).TrimStart('.');
        if (TextExtensions.Contains(ext.Length == 0 ? name : ext)) return "text/plain";
        return Known.TryGetValue(Path.GetExtension(name), out var t) ? t : "application/octet-stream";
    }
}
