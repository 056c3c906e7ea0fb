namespace MlModels.Core.Tracking;

/// <summary>The run an evaluation is logged to: its id, its artifact root, and whether the logger created it (and so ends it).</summary>
public sealed record RunTarget(string RunId, string ArtifactUri, bool Created);

/// <summary>
/// What mlflow.evaluate logs to its run, over REST: the aggregate metrics in runs/log-batch at step 0 with one timestamp
/// (the default evaluator's _log_metrics), then the evaluation's files (plots, eval_results_table.json, ...) at the top of
/// the run's artifact root, through the artifact repositories <see cref="ModelPublisher"/> writes with. The run is an
/// existing one, by id, or a new one in an experiment, started as <see cref="ModelPublisher"/> starts its runs; only a
/// run this logger started is ended by it.
/// </summary>
public sealed class RunLogger(TrackingClient client, Action<string>? warn = null)
{
    /// <summary>Where a run's artifacts are written, by the scheme of its artifact_uri (see <see cref="ModelPublisher.Repositories"/>).</summary>
    public Artifacts.ArtifactRepositories Repositories { get; init; } = Artifacts.ArtifactRepositories.WithBuiltIns(client);

    /// <summary>A new run's mlflow.user and user_id (MLflow: the login name).</summary>
    public string? UserId { get; init; }

    /// <summary>A new run's mlflow.source.name (MLflow: the script).</summary>
    public string? SourceName { get; init; }

    /// <summary>The calls <see cref="LogAsync"/> would make, in order (the run's artifact root is known only once it exists).</summary>
    public static IReadOnlyList<PlannedCall> Plan(
        string? runId,
        string? experimentName,
        string? runName,
        IReadOnlyDictionary<string, double> metrics,
        string? artifactsFolder)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        Validate(runId, experimentName);
        var files = ArtifactFiles(artifactsFolder);
        var run = runId ?? "<new run>";
        var calls = new List<PlannedCall>();
        if (runId != null) calls.Add(new("GET", "runs/get", $"run {run} (it must exist; its artifact root)"));
        else
        {
            calls.Add(new("GET", "experiments/get-by-name", $"experiment '{experimentName}' (created with experiments/create when missing)"));
            calls.Add(new("POST", "runs/create", $"a run in experiment '{experimentName}'" + (runName != null ? $" named '{runName}'" : "")));
        }
        foreach (var batch in TrackingClient.SplitLogBatch(run, EvaluationMetrics(metrics, 0)))
            calls.Add(new("POST", "runs/log-batch", $"run {run}: {batch.Metrics?.Count ?? 0} metric(s) at step 0"));
        if (files.Count > 0 && runId == null) calls.Add(new("GET", "runs/get", $"run {run} (its artifact root)"));
        foreach (var (relative, _) in files)
            calls.Add(new("PUT", "mlflow-artifacts/artifacts", $"<artifact root of run {run}>/{relative}"));
        if (runId == null) calls.Add(new("POST", "runs/update", "the new run, FINISHED"));
        return calls;
    }

    /// <summary>
    /// The run to log to: the run <paramref name="runId"/> (read with runs/get; one the server does not have is its
    /// RESOURCE_DOES_NOT_EXIST, an <see cref="MlflowException"/> whose IsNotFound is true), or else a new run in the
    /// experiment <paramref name="experimentName"/> (created when missing), named <paramref name="runName"/> when given.
    /// </summary>
    public async Task<RunTarget> OpenAsync(string? runId, string? experimentName, string? runName, CancellationToken ct = default)
    {
        Validate(runId, experimentName);
        if (runId != null)
        {
            var existing = await client.GetRunAsync(runId, ct).ConfigureAwait(false);
            return new RunTarget(existing.Info.RunId, ArtifactUriOf(existing), Created: false);
        }
        var created = await ModelPublisher.StartRunAsync(client, experimentName!, runName, UserId, SourceName, ct).ConfigureAwait(false);
        return new RunTarget(created.Info.RunId, ArtifactUriOf(created), Created: true);
    }

    /// <summary>
    /// Logs the metrics at step 0 with one timestamp (runs/log-batch, split at MLflow's limits), then uploads every file
    /// of <paramref name="artifactsFolder"/>, when given, to the run's artifact root: its top-level files at the top,
    /// files of its subfolders under the same relative paths. The folder is checked before anything is logged.
    /// </summary>
    public async Task LogEvaluationAsync(
        string runId,
        IReadOnlyDictionary<string, double> metrics,
        string? artifactsFolder,
        IProgress<PublishProgress>? progress = null,
        CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ArgumentNullException.ThrowIfNull(metrics);
        var files = ArtifactFiles(artifactsFolder);
        progress?.Report(new PublishProgress($"Logging {metrics.Count} metric(s) to run {runId}", null, 0, files.Count));
        await client.LogBatchAsync(runId, EvaluationMetrics(metrics, Millis.Now()), ct: ct).ConfigureAwait(false);
        if (files.Count == 0) return;

        // log_artifact asks for the run's artifact root (runs/get, kept per run by the client).
        var root = await client.GetRunArtifactUriAsync(runId, ct).ConfigureAwait(false);
        using var repository = Repositories.Open(root);
        for (int i = 0; i < files.Count; i++)
        {
            var (relative, full) = files[i];
            progress?.Report(new PublishProgress($"Uploading to run {runId}", relative, i, files.Count));
            await repository.UploadAsync(full, relative, ct).ConfigureAwait(false);
        }
        progress?.Report(new PublishProgress($"Uploaded to run {runId}", null, files.Count, files.Count));
    }

    /// <summary>
    /// Ends a run this logger created: FINISHED, or FAILED, with the end time (runs/update). A run given by id is left
    /// as it was. On a failure path pass <see cref="CancellationToken.None"/>, so that the run is ended even when the
    /// work was cancelled.
    /// </summary>
    public async Task CloseAsync(RunTarget run, bool succeeded, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (!run.Created) return;
        await client.UpdateRunAsync(run.RunId, succeeded ? "FINISHED" : "FAILED", ct).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="OpenAsync"/>, <see cref="LogEvaluationAsync"/> and <see cref="CloseAsync"/> in one: a run this call
    /// created ends FINISHED, or FAILED when logging fails (a failure to mark it so is only warned of).
    /// </summary>
    public async Task<RunTarget> LogAsync(
        string? runId,
        string? experimentName,
        string? runName,
        IReadOnlyDictionary<string, double> metrics,
        string? artifactsFolder,
        IProgress<PublishProgress>? progress = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArtifactFiles(artifactsFolder);
        var run = await OpenAsync(runId, experimentName, runName, ct).ConfigureAwait(false);
        try
        {
            await LogEvaluationAsync(run.RunId, metrics, artifactsFolder, progress, ct).ConfigureAwait(false);
        }
        catch when (run.Created)
        {
            try { await CloseAsync(run, succeeded: false, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception ex) when (ex is MlflowException or TrackingConnectionException)
            {
                warn?.Invoke($"Run {run.RunId} could not be marked FAILED: {ex.Message}");
            }
            throw;
        }
        await CloseAsync(run, succeeded: true, CancellationToken.None).ConfigureAwait(false);
        return run;
    }

    /// <summary>The metrics as mlflow.evaluate logs them: one timestamp, step 0, in the dictionary's order.</summary>
    public static IReadOnlyList<MetricValue> EvaluationMetrics(IReadOnlyDictionary<string, double> metrics, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return metrics.Select(m => new MetricValue(m.Key, m.Value, timestamp, 0)).ToList();
    }

    private static IReadOnlyList<(string Relative, string Full)> ArtifactFiles(string? folder)
    {
        if (folder == null) return [];
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The artifacts folder '{folder}' does not exist.");
        return ModelPublisher.FolderFiles(folder);
    }

    private static string ArtifactUriOf(Run run) =>
        run.Info.ArtifactUri ?? throw new MlflowException(
            "INVALID_STATE",
            $"Run {run.Info.RunId} has no artifact_uri.",
            System.Net.HttpStatusCode.OK,
            "GET",
            "runs/get",
            $"run {run.Info.RunId}");

    private static void Validate(string? runId, string? experimentName)
    {
        if (runId == null && string.IsNullOrWhiteSpace(experimentName))
            throw new ArgumentException("Give the run to log to (-RunId) or the experiment to start one in (-Experiment).");
        if (runId != null && string.IsNullOrWhiteSpace(runId)) throw new ArgumentException("The run id is empty.", nameof(runId));
    }
}
