using MlModels.Deploy.Aws;

namespace MlModels.Deploy.SageMaker;

/// <summary>MLflow's deploy_transform_job: the model to S3 and SageMaker, then a batch transform job over S3 data.</summary>
public sealed record SageMakerTransformOptions
{
    public required string JobName { get; init; }
    public required string ModelPath { get; init; }
    public required string InputUri { get; init; }
    public required string OutputUri { get; init; }
    public string ContentType { get; init; } = "text/csv";
    public string InputDataType { get; init; } = "S3Prefix";
    public string CompressionType { get; init; } = "None";
    public string SplitType { get; init; } = "Line";
    public string Accept { get; init; } = "text/csv";
    public string AssembleWith { get; init; } = "Line";
    public string InputFilter { get; init; } = "$";
    public string OutputFilter { get; init; } = "$";
    public string JoinSource { get; init; } = "None";
    public string? ExecutionRoleArn { get; init; }
    public string? ImageUrl { get; init; }
    public string? Bucket { get; init; }
    public string InstanceType { get; init; } = "ml.m4.xlarge";
    public int InstanceCount { get; init; } = 1;
    public VpcConfig? VpcConfig { get; init; }
    public string? Flavor { get; init; }
    /// <summary>Keep the model and its data after the job (else deleted once it has finished, as MLflow does).</summary>
    public bool Archive { get; init; }
    public bool Wait { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1200);
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>A batch transform job as SageMaker describes it.</summary>
public sealed record SageMakerTransformJob(string JobName, string? Status)
{
    public string? JobArn { get; init; }
    public string? ModelName { get; init; }
    public string? FailureReason { get; init; }
    public string? InputUri { get; init; }
    public string? OutputUri { get; init; }
    public string? InstanceType { get; init; }
    public int? InstanceCount { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
    public string? Region { get; init; }
    public IReadOnlyList<string> CleanedUp { get; init; } = [];

    internal static SageMakerTransformJob From(DescribeTransformJobResponse r, string region) => new(r.TransformJobName!, r.TransformJobStatus)
    {
        JobArn = r.TransformJobArn, ModelName = r.ModelName, FailureReason = r.FailureReason, InputUri = r.TransformInput?.DataSource.S3DataSource
            .S3Uri,
        OutputUri = r.TransformOutput?.S3OutputPath, InstanceType = r.TransformResources?.InstanceType, InstanceCount = r.TransformResources?
            .InstanceCount,
        CreationTime = r.CreationTime, StartTime = r.TransformStartTime, EndTime = r.TransformEndTime, Region = region,
    };
}

public sealed class SageMakerTransforms(AwsConnection connection, TimeProvider? time = null)
{
    private readonly SageMakerClient _sagemaker = new(connection);
    private readonly SageMakerDeployer _deployer = new(connection, time);

    /// <summary>The calls Start would make (read-only look-ups done), for -WhatIf.</summary>
    public async Task<(SageMakerDeploymentPlan Plan, IReadOnlyList<SageMakerCall> Calls)> PlanAsync(SageMakerTransformOptions o, CancellationToken ct)
    {
        SageMakerNames.ValidateName(o.JobName, "transform job name");
        SageMakerNames.ParseS3Uri(o.InputUri);
        SageMakerNames.ParseS3Uri(o.OutputUri);
        if (!o.Wait && !o.Archive) throw new ArgumentException(
            "Without -Wait the model cannot be cleaned up after the job: wait for it or keep the model with -Archive.");
        if (await FindAsync(o.JobName, ct).ConfigureAwait(false) != null) throw new InvalidOperationException(
            $"A transform job named '{o.JobName}' already exists in {connection.RegionName}.");
        // The model part is a deployment's model part: same names, bucket, image and role rules.
        var plan = await _deployer.PlanAsync(new SageMakerDeployOptions
        {
            AppName = o.JobName, ModelPath = o.ModelPath, Mode = SageMakerDeployMode.Create, ExecutionRoleArn = o.ExecutionRoleArn, ImageUrl = o
                .ImageUrl,
            Bucket = o.Bucket, VpcConfig = o.VpcConfig, Flavor = o.Flavor, Archive = true,
        }, ct, checkEndpoint: false).ConfigureAwait(false);
        var calls = new List<SageMakerCall>();
        if (!plan.BucketExists) calls.Add(new("S3", "CreateBucket", plan.Bucket));
        calls.Add(new("S3", "PutObject (multipart)", plan.ModelDataUrl));
        calls.Add(new("SageMaker", "CreateModel", plan.ModelName));
        calls.Add(new("SageMaker", "CreateTransformJob", $"{o.JobName} ({o.InputUri} → {o.OutputUri}, {o.InstanceCount} × {o.InstanceType})"));
        if (o.Wait) calls.Add(new("SageMaker", "DescribeTransformJob (until Completed)", o.JobName));
        if (o.Wait && !o.Archive)
        {
            calls.Add(new("S3", "DeleteObject", plan.ModelDataUrl)); calls.Add(
            new("SageMaker", "DeleteModel", plan.ModelName));
        }
        return (plan, calls);
    }

    public async Task<SageMakerTransformJob> StartAsync(
        SageMakerTransformOptions o,
        SageMakerDeploymentPlan plan,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct)
    {
        await _deployer.CreateModelOnlyAsync(plan, progress, ct, async token =>
        {
            await _sagemaker.CreateTransformJobAsync(new CreateTransformJobRequest
            {
                TransformJobName = o.JobName,
                ModelName = plan.ModelName,
                TransformInput = new TransformInput
                {
                    DataSource = new TransformDataSource(new S3DataSource(o.InputDataType, o.InputUri)),
                    ContentType = o.ContentType, CompressionType = o.CompressionType, SplitType = o.SplitType,
                },
                TransformOutput = new TransformOutput { S3OutputPath = o.OutputUri, Accept = o.Accept, AssembleWith = o.AssembleWith },
                TransformResources = new TransformResources { InstanceType = o.InstanceType, InstanceCount = o.InstanceCount },
                DataProcessing = new DataProcessing { InputFilter = o.InputFilter, OutputFilter = o.OutputFilter, JoinSource = o.JoinSource },
                Tags = [new Tag("model_name", plan.ModelName)],
            }, token).ConfigureAwait(false);
        }).ConfigureAwait(false);
        if (!o.Wait) return await GetAsync(o.JobName, ct).ConfigureAwait(false) ?? new SageMakerTransformJob(o.JobName, "InProgress");

        var job = await LongWait.UntilAsync($"Transform job {o.JobName}", async token =>
        {
            var r = await _sagemaker.DescribeTransformJobAsync(o.JobName, token).ConfigureAwait(false);
            return r.TransformJobStatus is "Completed" or "Failed" or "Stopped"
                ? PollResult<DescribeTransformJobResponse>.Finished(r.TransformJobStatus, r)
                : PollResult<DescribeTransformJobResponse>.Pending(r.TransformJobStatus ?? "InProgress");
        }, o.PollInterval, o.Timeout, progress, ct, time).ConfigureAwait(false);
        var cleaned = new List<string>();
        if (!o.Archive)
        {
            using var store = new ModelDataStore(connection);
            await store.DeleteAsync(plan.ModelDataUrl, ct).ConfigureAwait(false);
            cleaned.Add($"model data {plan.ModelDataUrl}");
            await _sagemaker.DeleteModelAsync(plan.ModelName, ct).ConfigureAwait(false);
            cleaned.Add($"model {plan.ModelName}");
        }
        var result = SageMakerTransformJob.From(job, connection.RegionName) with { CleanedUp = cleaned };
        if (job.TransformJobStatus == "Failed")
            throw new InvalidOperationException($"The transform job '{o.JobName}' failed: {job.FailureReason ?? "SageMaker gave no reason"}.");
        return result;
    }

    public async Task<SageMakerTransformJob?> GetAsync(string name, CancellationToken ct)
    {
        if (await FindAsync(name, ct).ConfigureAwait(false) == null) return null;
        return SageMakerTransformJob.From(await _sagemaker.DescribeTransformJobAsync(name, ct).ConfigureAwait(false), connection.RegionName);
    }

    public async Task<IReadOnlyList<SageMakerTransformJob>> ListAsync(string? nameContains, CancellationToken ct) =>
        (await _sagemaker.ListTransformJobsAsync(nameContains, ct).ConfigureAwait(false))
        .Where(j => j.TransformJobName != null)
        .Select(j => new SageMakerTransformJob(j.TransformJobName!, j.TransformJobStatus)
        {
            JobArn = j.TransformJobArn, FailureReason = j.FailureReason, CreationTime = j.CreationTime, Region = connection.RegionName,
        }).ToList();

    public Task StopAsync(string name, CancellationToken ct) => _sagemaker.StopTransformJobAsync(name, ct);

    /// <summary>
    /// MLflow's <c>terminate_transform_job</c>: StopTransformJob, then (with <paramref name="wait"/>) follow the job until
    /// it is Stopped, Completed or Failed and, unless <paramref name="archive"/>, delete the model it ran and its model data.
    /// </summary>
    public async Task<SageMakerTransformJob> TerminateAsync(string name, bool archive, bool wait, TimeSpan timeout, TimeSpan pollInterval,
        IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        SageMakerNames.ValidateName(name, "transform job name");
        if (!wait && !archive) throw new ArgumentException(
            "Without waiting for the job to stop, its model cannot be cleaned up: wait for it or keep the model with -Archive.");
        await _sagemaker.StopTransformJobAsync(name, ct).ConfigureAwait(false);
        if (!wait) return await GetAsync(name, ct).ConfigureAwait(false) ?? new SageMakerTransformJob(name, "Stopping");
        var job = await LongWait.UntilAsync($"Transform job {name} stopping", async token =>
        {
            var r = await _sagemaker.DescribeTransformJobAsync(name, token).ConfigureAwait(false);
            return r.TransformJobStatus is "Completed" or "Failed" or "Stopped"
                ? PollResult<DescribeTransformJobResponse>.Finished(r.TransformJobStatus, r)
                : PollResult<DescribeTransformJobResponse>.Pending(r.TransformJobStatus ?? "Stopping");
        }, pollInterval, timeout, progress, ct, time).ConfigureAwait(false);
        var cleaned = new List<string>();
        if (!archive && job.ModelName is { } model)
        {
            using var store = new ModelDataStore(connection);
            cleaned.AddRange(await _deployer.DeleteModelAsync(model, store, includeData: true, ct).ConfigureAwait(false));
        }
        return SageMakerTransformJob.From(job, connection.RegionName) with { CleanedUp = cleaned };
    }

    private async Task<TransformJobSummary?> FindAsync(string name, CancellationToken ct) =>
        (await _sagemaker.ListTransformJobsAsync(name, ct).ConfigureAwait(false)).FirstOrDefault(j => j.TransformJobName == name);
}
