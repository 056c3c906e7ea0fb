using System.Text.Json.Nodes;
using MlModels.Core.Format;
using MlModels.Core.Format.Yaml;

namespace MlModels.Core.Tracking;

/// <summary>What Publish-MLModel logs and registers.</summary>
public sealed record PublishRequest
{
    /// <summary>The model; its folder's files are uploaded with an MLmodel that names the run and artifact path.</summary>
    public required MLModel Model { get; init; }
    /// <summary>An existing run to log to; else a new run in <see cref="ExperimentName"/>.</summary>
    public string? RunId { get; init; }
    public string? ExperimentName { get; init; }
    public string? RunName { get; init; }
    public string ArtifactPath { get; init; } = "model";
    public string? RegisteredModelName { get; init; }
    public IReadOnlyList<string> Aliases { get; init; } = [];
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    /// <summary>The run's mlflow.user (MLflow: the login name) and mlflow.source.name (MLflow: the script).</summary>
    public string? UserId { get; init; }
    public string? SourceName { get; init; }
    /// <summary>How long to wait for a version to leave PENDING_REGISTRATION (MLflow: 300 s, polling every 3 s).</summary>
    public TimeSpan RegistrationTimeout { get; init; } = TimeSpan.FromSeconds(300);
    public TimeSpan RegistrationPoll { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>One REST call the publish makes, for -WhatIf.</summary>
public sealed record PlannedCall(string Method, string Endpoint, string Target);

public sealed record PublishProgress(string Step, string? File, int FilesDone, int FilesTotal);

/// <summary>The run the model went to, and the registered version when it was registered.</summary>
public sealed record PublishResult(string RunId, string ArtifactUri, string ModelUri, ModelVersion? Version, bool RunCreated);

/// <summary>
/// MLflow's log_model and register_model over REST, call for call: the run (mlflow.set_experiment + start_run when
/// none is given), its artifact root, one PUT per model file through the artifact proxy, runs/log-model with the model's
/// JSON, then registered-models/create (an existing model is fine), model-versions/create with the resolved source, and
/// polling until the version is READY; aliases and tags after. A run this call created is ended FINISHED, or FAILED
/// when a step fails.
/// </summary>
public sealed class ModelPublisher(TrackingClient client, Action<string>? warn = null)
{
    /// <summary>
    /// Where a run's artifacts are written, by the scheme of its artifact_uri: the server's proxy, or (when the server does
    /// not proxy) the store itself, as MLflow's client writes there (S3 and the others registered by MlModels.Deploy).
    /// </summary>
    public Artifacts.ArtifactRepositories Repositories { get; init; } = Artifacts.ArtifactRepositories.WithBuiltIns(client);

    private static readonly string[] ModelJsonOrder =
        [
            "run_id", "artifact_path", "utc_time_created", "flavors", "model_uuid", "mlflow_version", "metadata", "signature",
            "saved_input_example_info", "model_size_bytes",
        ];

    /// <summary>The calls <see cref="PublishAsync"/> would make, in order (the run's artifact root is known only once it exists).</summary>
    public static IReadOnlyList<PlannedCall> Plan(PublishRequest r)
    {
        Validate(r);
        var calls = new List<PlannedCall>();
        var run = r.RunId ?? "<new run>";
        if (r.RunId == null)
        {
            calls.Add(new("GET", "experiments/get-by-name", $"experiment '{r.ExperimentName}' (created with experiments/create when missing)"));
            calls.Add(new("POST", "runs/create", $"a run in experiment '{r.ExperimentName}'" + (r.RunName != null ? $" named '{r.RunName}'" : "")));
        }
        calls.Add(new("GET", "runs/get", $"run {run} (its artifact root)"));
        foreach (var f in Files(r.Model))
            calls.Add(new("PUT", "mlflow-artifacts/artifacts", $"<artifact root of run {run}>/{r.ArtifactPath}/{f.Relative}"));
        calls.Add(new("POST", "runs/log-model", $"run {run}, artifact path '{r.ArtifactPath}'"));
        if (r.RegisteredModelName is { } name)
        {
            calls.Add(new("POST", "registered-models/create", $"registered model '{name}' (kept when it exists)"));
            calls.Add(new("GET", "runs/get", $"run {run} (to resolve runs:/{run}/{r.ArtifactPath})"));
            calls.Add(new("POST", "model-versions/create", $"a version of '{name}' from runs:/{run}/{r.ArtifactPath}"));
            calls.Add(new("GET", "model-versions/get", $"the new version of '{name}', until READY"));
            foreach (var a in r.Aliases) calls.Add(new("POST", "registered-models/alias", $"alias '{a}' of '{name}' to the new version"));
            foreach (var (k, v) in r.Tags) calls.Add(new("POST", "model-versions/set-tag", $"tag {k}={v} on the new version of '{name}'"));
        }
        if (r.RunId == null) calls.Add(new("POST", "runs/update", "the new run, FINISHED"));
        return calls;
    }

    public async Task<PublishResult> PublishAsync(PublishRequest r, IProgress<PublishProgress>? progress = null, CancellationToken ct = default)
    {
        Validate(r);
        string runId;
        bool created = false;
        if (r.RunId != null) runId = r.RunId;
        else
        {
            progress?.Report(new PublishProgress($"Creating a run in experiment '{r.ExperimentName}'", null, 0, 0));
            runId = (await StartRunAsync(client, r.ExperimentName!, r.RunName, r.UserId, r.SourceName, ct).ConfigureAwait(false)).Info.RunId;
            created = true;
        }

        try
        {
            var result = await LogAndRegisterAsync(r, runId, created, progress, ct).ConfigureAwait(false);
            if (created) await client.UpdateRunAsync(runId, "FINISHED", CancellationToken.None).ConfigureAwait(false);
            return result;
        }
        catch when (created)
        {
            try { await client.UpdateRunAsync(runId, "FAILED", CancellationToken.None).ConfigureAwait(false); }
            catch (Exception ex) when (ex is MlflowException or TrackingConnectionException)
            {
                warn?.Invoke(
                $"Run {runId} could not be marked FAILED: {ex.Message}");
            }
            throw;
        }
    }

    /// <summary>
    /// mlflow.set_experiment then mlflow.start_run: the experiment by name (created, then read back, when missing) and a
    /// new run in it with the tags MLflow's fluent API sets (mlflow.user, mlflow.source.name, mlflow.source.type, mlflow.runName).
    /// </summary>
    internal static async Task<Run> StartRunAsync(
        TrackingClient client,
        string experimentName,
        string? runName,
        string? userId,
        string? sourceName,
        CancellationToken ct)
    {
        var experiment = await client.GetExperimentByNameAsync(experimentName, ct).ConfigureAwait(false);
        var experimentId = experiment?.ExperimentId;
        if (experimentId == null)
        {
            experimentId = await client.CreateExperimentAsync(experimentName, ct).ConfigureAwait(false);
            await client.GetExperimentAsync(experimentId, ct).ConfigureAwait(false);
        }
        var tags = new List<TagEntry>();
        if (userId != null) tags.Add(new TagEntry("mlflow.user", userId));
        if (sourceName != null) tags.Add(new TagEntry("mlflow.source.name", sourceName));
        tags.Add(new TagEntry("mlflow.source.type", "LOCAL"));
        if (runName != null) tags.Add(new TagEntry("mlflow.runName", runName));
        return await client.CreateRunAsync(experimentId, userId, runName, tags, ct).ConfigureAwait(false);
    }

    private async Task<PublishResult> LogAndRegisterAsync(
        PublishRequest r,
        string runId,
        bool created,
        IProgress<PublishProgress>? progress,
        CancellationToken ct)
    {
        var runRoot = (await client.GetRunAsync(runId, ct).ConfigureAwait(false)).Info.ArtifactUri
            ?? throw new MlflowException(
                "INVALID_STATE",
                $"Run {runId} has no artifact_uri.",
                System.Net.HttpStatusCode.OK,
                "GET",
                "runs/get",
                $"run {runId}");
        using var repository = Repositories.Open(runRoot);

        // The MLmodel logged names this run and artifact path, as log_model writes it.
        var logged = r.Model.Clone();
        logged.RunId = runId;
        logged.ArtifactPath = r.ArtifactPath;
        var onDisk = r.Model.MLmodelFile != null && File.Exists(r.Model.MLmodelFile) ? File.ReadAllBytes(r.Model.MLmodelFile) : null;
        byte[] mlmodelBytes = onDisk != null && SameContent(onDisk, logged)
            ? onDisk
            : System.Text.Encoding.UTF8.GetBytes(YamlWriter.Write(logged.ToDictionary(), width: 80));

        var files = Files(r.Model);
        var temp = Path.Combine(Path.GetTempPath(), "mlmodels-publish-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            var mlmodelFile = Path.Combine(temp, ModelFiles.MLmodelFileName);
            File.WriteAllBytes(mlmodelFile, mlmodelBytes);
            for (int i = 0; i < files.Count; i++)
            {
                var (rel, full) = files[i];
                progress?.Report(new PublishProgress($"Uploading to run {runId}", rel, i, files.Count));
                // MLmodel, and its copy under metadata/ when that was a copy, carry the run; other files go as they are.
                var source = rel == ModelFiles.MLmodelFileName
                    || (rel == "metadata/MLmodel" && onDisk != null && File.ReadAllBytes(full).AsSpan().SequenceEqual(onDisk))
                    ? mlmodelFile : full;
                var remote = $"{r.ArtifactPath}/{rel}";
                // Upload under the file's own name so the Content-Type is guessed from it.
                if (source != full)
                {
                    var named = Path.Combine(temp, rel.Replace('/', Path.DirectorySeparatorChar));
                    Directory.CreateDirectory(Path.GetDirectoryName(named)!);
                    if (!File.Exists(named)) File.Copy(mlmodelFile, named);
                    source = named;
                }
                await repository.UploadAsync(source, remote, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            try { Directory.Delete(temp, true); } catch (IOException) { }
        }

        progress?.Report(new PublishProgress($"Recording the model on run {runId}", null, files.Count, files.Count));
        try { await client.LogModelAsync(runId, ModelJson(logged), ct).ConfigureAwait(false); }
        catch (MlflowException ex) when (ex is not TrackingAuthException)
        {
            // MLflow's client only warns here: older servers lack the endpoint.
            warn?.Invoke($"The model was uploaded, but the server did not record it on run {runId} (runs/log-model): {ex.Message}");
        }

        var artifactUri = $"{runRoot.TrimEnd('/')}/{r.ArtifactPath}";
        ModelVersion? version = null;
        if (r.RegisteredModelName is { } name)
        {
            progress?.Report(new PublishProgress($"Registering '{name}'", null, files.Count, files.Count));
            try { await client.CreateRegisteredModelAsync(name, ct).ConfigureAwait(false); }
            catch (MlflowException ex) when (ex.ErrorCode == "RESOURCE_ALREADY_EXISTS") { }
            // register_model("runs:/<run>/<path>") resolves the URI first and registers the storage location.
            var source = $"{(await client.GetRunAsync(runId, ct).ConfigureAwait(false)).Info.ArtifactUri!.TrimEnd('/')}/{r.ArtifactPath}";
            version = await client.CreateModelVersionAsync(name, source, runId, ct).ConfigureAwait(false);
            var deadline = DateTime.UtcNow + r.RegistrationTimeout;
            while (version.Status == "PENDING_REGISTRATION")
            {
                if (DateTime.UtcNow >= deadline)
                    throw new TimeoutException($"Version {version.Version} of '{name}' was still PENDING_REGISTRATION after " +
                        $"{r.RegistrationTimeout.TotalSeconds:0} s; it may still become READY (Get-MLModelVersion -Name '{name}' " +
                            $"-Version {version.Version}).");
                progress?.Report(
                    new PublishProgress($"Waiting for version {version.Version} of '{name}' to be READY", null, files.Count, files.Count));
                await Task.Delay(r.RegistrationPoll, ct).ConfigureAwait(false);
                version = await client.GetModelVersionAsync(name, version.Version, ct).ConfigureAwait(false);
            }
            if (version.Status == "FAILED_REGISTRATION")
                throw new MlflowException(
                    "FAILED_REGISTRATION",
                    $"models:/{name}/{version.Version}: registration failed: {version.StatusMessage}",
                    System.Net.HttpStatusCode.OK,
                    "GET",
                    "model-versions/get",
                    $"models:/{name}/{version.Version}");
            foreach (var alias in r.Aliases) await client.SetAliasAsync(name, alias, version.Version, ct).ConfigureAwait(false);
            foreach (var (k, v) in r.Tags) await client.SetModelVersionTagAsync(name, version.Version, k, v, ct).ConfigureAwait(false);
            if (r.Aliases.Count > 0 || r.Tags.Count > 0) version = await client.GetModelVersionAsync(name, version.Version, ct).ConfigureAwait(false);
        }
        return new PublishResult(runId, artifactUri, $"runs:/{runId}/{r.ArtifactPath}", version, created);
    }

    /// <summary>The model's JSON as MLflow's Model.to_json writes it for runs/log-model: its fields, MLflow's keys first.</summary>
    public static string ModelJson(MLModel model)
    {
        var node = PyJson.FromPlain(model.ToDictionary())!.AsObject();
        var ordered = new JsonObject();
        foreach (var key in ModelJsonOrder)
            if (node.Remove(key, out var v)) ordered[key] = v;
        foreach (var (k, v) in node.ToList()) { node.Remove(k); ordered[k] = v; }
        return PyJson.Dumps(ordered);
    }

    private static bool SameContent(byte[] file, MLModel model)
    {
        try
        {
            return PlainValues.DeepEquals(
            YamlReader.Read(System.Text.Encoding.UTF8.GetString(file), "MLmodel", null, out _),
            model.ToDictionary());
        }
        catch (MLModelFormatException) { return false; }
    }

    /// <summary>The files uploaded: the model folder's (<see cref="FolderFiles"/>), MLmodel among them.</summary>
    private static IReadOnlyList<(string Relative, string Full)> Files(MLModel model)
    {
        if (model.Path == null || !Directory.Exists(model.Path))
            return [(ModelFiles.MLmodelFileName, "")];
        var result = FolderFiles(model.Path).ToList();
        if (!result.Any(f => f.Relative == ModelFiles.MLmodelFileName)) result.Insert(0, (ModelFiles.MLmodelFileName, ""));
        return result;
    }

    /// <summary>
    /// A folder's files as log_artifacts uploads them, walked as os.walk lists them: a folder's files, then its subfolders
    /// (each in name order); relative paths with '/'; links leading out of the folder are left out.
    /// </summary>
    internal static IReadOnlyList<(string Relative, string Full)> FolderFiles(string folder)
    {
        var root = Path.GetFullPath(folder);
        var result = new List<(string, string)>();
        void Walk(DirectoryInfo d)
        {
            var entries = d.EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
            foreach (var f in entries.OfType<FileInfo>())
            {
                if (f.LinkTarget != null
                    && (f.ResolveLinkTarget(true) is not { Exists: true } t || !ModelFiles.IsUnder(root, Path.GetFullPath(t.FullName)))) continue;
                result.Add((Path.GetRelativePath(root, f.FullName).Replace(Path.DirectorySeparatorChar, '/'), f.FullName));
            }
            foreach (var sub in entries.OfType<DirectoryInfo>())
                if (sub.LinkTarget == null) Walk(sub);
        }
        Walk(new DirectoryInfo(root));
        return result;
    }

    private static void Validate(PublishRequest r)
    {
        if (r.RunId == null && string.IsNullOrWhiteSpace(r.ExperimentName))
            throw new ArgumentException("Give the run to log to (-RunId) or the experiment to start one in (-Experiment).");
        if (string.IsNullOrWhiteSpace(r.ArtifactPath) || r.ArtifactPath.Split('/').Any(s => s is "" or "." or ".."))
            throw new ArgumentException($"The artifact path '{r.ArtifactPath}' must be a relative path without '.' or '..' segments.");
        if (r.Aliases.Count + r.Tags.Count > 0 && r.RegisteredModelName == null)
            throw new ArgumentException("Aliases and tags are set on a registered version: give -RegisteredModelName.");
    }
}
