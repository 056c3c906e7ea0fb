using MlModels.Core;
using MlModels.Core.Format;
using MlModels.Deploy.Aws;

namespace MlModels.Deploy.SageMaker;

/// <summary>
/// MLflow's <c>sagemaker deploy</c>, <c>delete</c> and endpoint listing. A deployment is planned first (read-only
/// calls: STS, ListEndpoints, DescribeEndpoint/Config, HeadBucket), so -WhatIf can show every call, then carried
/// out; when it fails, times out or is cancelled, what this call made is deleted again and the error says what was
/// rolled back and what remains.
/// </summary>
public sealed class SageMakerDeployer(AwsConnection connection, TimeProvider? time = null)
{
    /// <summary>The flavors the serving image serves (MLflow's container serves python_function; this image has no MLeap).</summary>
    public static readonly IReadOnlyList<string> SupportedFlavors = ["python_function"];

    public const string FlavorEnvironmentVariable = "MLFLOW_DEPLOYMENT_FLAVOR_NAME";
    public const string ServingEnvironmentVariable = "SERVING_ENVIRONMENT";

    private readonly SageMakerClient _sagemaker = new(connection);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public SageMakerClient Client => _sagemaker;

    /// <summary>How long rollback and clean-up may take after the deployment itself was cancelled or timed out.</summary>
    public TimeSpan RollbackTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>The flavor to deploy: the one asked for, which the model must have, else python_function.</summary>
    public static string ChooseFlavor(MLModel model, string? flavor)
    {
        var has = string.Join(", ", model.Flavors.Keys);
        if (flavor != null)
        {
            if (!SupportedFlavors.Contains(flavor))
                throw new ArgumentException(
                    $"The flavor '{flavor}' cannot be deployed to SageMaker. Supported flavors: {string.Join(", ", SupportedFlavors)}.");
            if (!model.Flavors.ContainsKey(flavor))
                throw new ArgumentException($"The model '{model.Name}' has no '{flavor}' flavor (it has: {has}).");
            return flavor;
        }
        return SupportedFlavors.FirstOrDefault(model.Flavors.ContainsKey)
            ?? throw new ArgumentException($"The model '{model.Name}' has no flavor the serving image can serve (it has: " +
                $"{(has.Length > 0 ? has : "none")}; supported: {string.Join(", ", SupportedFlavors)}).");
    }

    /// <summary>Checks that need no call; everything here is refused before anything is sent.</summary>
    public static MLModel Validate(SageMakerDeployOptions o)
    {
        SageMakerNames.ValidateName(o.AppName, "app name");
        if (o.VariantName != null) SageMakerNames.ValidateName(o.VariantName, "variant name");
        if (o.ExecutionRoleArn != null) SageMakerNames.ValidateRoleArn(o.ExecutionRoleArn);
        if (o.InstanceCount < 1) throw new ArgumentException("The instance count must be at least 1.");
        if (o.Timeout <= TimeSpan.Zero) throw new ArgumentException("The timeout must be positive.");
        if (!o.Synchronous && !o.Archive)
            throw new ArgumentException(
                "Without waiting, replaced resources cannot be cleaned up: wait for the deployment or keep them with -Archive.");
        if (o.Tags?.ContainsKey(SageMakerNames.AppNameTagKey) == true)
            throw new ArgumentException($"The tag '{SageMakerNames.AppNameTagKey}' is set by the deployment itself.");
        var model = ModelStore.Load(o.ModelPath);
        ChooseFlavor(model, o.Flavor);
        return model;
    }

    public async Task<SageMakerDeploymentPlan> PlanAsync(SageMakerDeployOptions o, CancellationToken ct, bool checkEndpoint = true)
    {
        var model = Validate(o);
        var flavor = ChooseFlavor(model, o.Flavor);
        var existing = checkEndpoint ? await _sagemaker.FindEndpointAsync(o.AppName, ct).ConfigureAwait(false) : null;
        if (existing != null && o.Mode == SageMakerDeployMode.Create)
            throw new InvalidOperationException(
                $"An endpoint named '{o.AppName}' already exists in {connection.RegionName}; deploy with -Mode Replace or Add to update it.");
        if (existing == null && o.Mode != SageMakerDeployMode.Create)
            throw new InvalidOperationException($"There is no endpoint named '{o.AppName}' in {connection.RegionName} to " +
                $"{o.Mode.ToString().ToLowerInvariant()} a model in; deploy with -Mode Create.");

        DescribeEndpointResponse? endpoint = null;
        DescribeEndpointConfigResponse? config = null;
        if (existing != null)
        {
            endpoint = await _sagemaker.DescribeEndpointAsync(o.AppName, ct).ConfigureAwait(false);
            if (endpoint.EndpointStatus is not ("InService" or "Failed"))
                throw new InvalidOperationException(
                    $"The endpoint '{o.AppName}' is {endpoint.EndpointStatus}; wait until it is InService before updating it.");
            config = await _sagemaker.DescribeEndpointConfigAsync(endpoint.EndpointConfigName!, ct).ConfigureAwait(false);
        }

        var role = o.ExecutionRoleArn ?? await AssumedRoleArnAsync(ct).ConfigureAwait(false);
        var image = o.ImageUrl
            ?? Environment.GetEnvironmentVariable("MLFLOW_SAGEMAKER_DEPLOY_IMG_URL") ?? await DefaultImageAsync(ct).ConfigureAwait(false);
        string bucket;
        bool bucketExists;
        using (var store = new ModelDataStore(connection))
        {
            bucket = o.Bucket ?? SageMakerNames.DefaultBucket(connection.RegionName, await connection.GetAccountIdAsync(ct).ConfigureAwait(false));
            bucketExists = await store.BucketExistsAsync(bucket, ct).ConfigureAwait(false);
        }
        var modelName = SageMakerNames.ModelName(o.AppName);
        return new SageMakerDeploymentPlan
        {
            Options = o, Flavor = flavor, Region = connection.RegionName, RoleArn = role, ImageUrl = image, Bucket = bucket,
            BucketExists = bucketExists, ModelName = modelName, ConfigName = SageMakerNames.ConfigName(o.AppName),
            ModelDataUrl = o.ModelDataS3Uri is { } inPlace ? inPlace.TrimEnd('/') + "/" : $"s3://{bucket}/{modelName}/model.tar.gz",
            Endpoint = endpoint, EndpointConfig = config,
        };
    }

    /// <summary>MLflow's fallback when no role is given: the role the caller has assumed.</summary>
    private async Task<string> AssumedRoleArnAsync(CancellationToken ct)
    {
        var arn = await connection.GetCallerArnAsync(ct).ConfigureAwait(false);
        // arn:aws:sts::123456789012:assumed-role/RoleName/session → arn:aws:iam::123456789012:role/RoleName
        var parts = arn.Split(':');
        if (parts.Length == 6 && parts[2] == "sts" && parts[5].StartsWith("assumed-role/", StringComparison.Ordinal))
            return $"arn:{parts[1]}:iam::{parts[4]}:role/{parts[5].Split('/')[1]}";
        throw new ArgumentException(
            $"No -ExecutionRoleArn was given and the caller ({arn}) is not an assumed role; give the role SageMaker should run the model as.");
    }

    /// <summary>MLflow's default image: the mlflow-pyfunc repository in this account's ECR, tagged with the module version.</summary>
    private async Task<string> DefaultImageAsync(CancellationToken ct)
    {
        var repo = await new EcrClient(connection).FindRepositoryAsync(SageMakerNames.DefaultImageRepository, ct).ConfigureAwait(false)
            ?? throw new ArgumentException($"No -ImageUrl was given and there is no '{SageMakerNames.DefaultImageRepository}' ECR " +
                $"repository in {connection.RegionName}; run Publish-MLModelSageMakerImage first.");
        return $"{repo.RepositoryUri}:{ImageTag}";
    }

    /// <summary>The tag Publish-MLModelSageMakerImage pushes: the module's version in full, so a prerelease never takes a release's tag.</summary>
    public static string ImageTag => ModuleVersion.Full;

    /// <summary>Carries out a plan. On failure the calls that created something are undone, newest first.</summary>
    public async Task<SageMakerDeployment> DeployAsync(SageMakerDeploymentPlan plan, IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        var o = plan.Options;
        var made = new List<(string Kind, string Name)>();
        var updated = false;
        try
        {
            await CreateModelPartAsync(plan, made, progress, ct).ConfigureAwait(false);
            progress?.Report(new DeploymentProgress("Deploying " + o.AppName, $"Creating endpoint configuration {plan.ConfigName}"));
            await _sagemaker.CreateEndpointConfigAsync(plan.CreateEndpointConfigRequest(), ct).ConfigureAwait(false);
            made.Add(("endpoint configuration", plan.ConfigName));
            if (plan.Endpoint == null)
            {
                await _sagemaker.CreateEndpointAsync(plan.CreateEndpointRequest(), ct).ConfigureAwait(false);
                made.Add(("endpoint", o.AppName));
            }
            else
            {
                await _sagemaker.UpdateEndpointAsync(new UpdateEndpointRequest(o.AppName, plan.ConfigName), ct).ConfigureAwait(false);
                updated = true;
            }

            if (o.Synchronous) await WaitForDeploymentAsync(plan, progress, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not SageMakerDeploymentException)
        {
            throw await FailAsync(plan, ex, made, updated, "Deploying").ConfigureAwait(false);
        }

        // The new configuration serves: the replaced resources go unless archived (MLflow's clean-up).
        var archived = new List<string>();
        var cleaned = new List<string>();
        if (plan.Endpoint != null && plan.EndpointConfig != null && o.Synchronous)
        {
            var old = plan.EndpointConfig;
            var oldModels = o.Mode == SageMakerDeployMode.Replace
                ? (old.ProductionVariants ?? []).Select(v => v.ModelName).OfType<string>().Distinct().ToList()
                : [];
            if (o.Archive)
            {
                archived.Add($"endpoint configuration {old.EndpointConfigName}");
                archived.AddRange(oldModels.Select(m => $"model {m}"));
            }
            else
            {
                using var store = new ModelDataStore(connection);
                foreach (var m in oldModels) cleaned.AddRange(await DeleteModelAsync(m, store, includeData: true, ct).ConfigureAwait(false));
                await _sagemaker.DeleteEndpointConfigAsync(old.EndpointConfigName!, ct).ConfigureAwait(false);
                cleaned.Add($"endpoint configuration {old.EndpointConfigName}");
            }
        }
        var result = await GetAsync(o.AppName, ct).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The endpoint '{o.AppName}' vanished after deployment.");
        return result with
        {
            Flavor = plan.Flavor,
            ModelDataUrl = plan.ModelDataUrl,
            ImageUrl = plan
            .ImageUrl,
            Archived = archived,
            CleanedUp = cleaned
        };
    }

    /// <summary>The bucket when missing, model.tar.gz and CreateModel: the part a deployment and a transform job share.</summary>
    private async Task CreateModelPartAsync(
        SageMakerDeploymentPlan plan,
        List<(string Kind, string Name)> made,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct)
    {
        var o = plan.Options;
        // Model data read in place is the user's: nothing to pack, upload, or roll back.
        if (!plan.InPlace) await UploadModelDataAsync(plan, made, progress, ct).ConfigureAwait(false);
        progress?.Report(new DeploymentProgress("Deploying " + o.AppName, $"Creating model {plan.ModelName}"));
        await _sagemaker.CreateModelAsync(plan.CreateModelRequest(), ct).ConfigureAwait(false);
        made.Add(("model", plan.ModelName));
    }

    /// <summary>The bucket when missing, then model.tar.gz packed and uploaded, each noted for the rollback.</summary>
    private async Task UploadModelDataAsync(
        SageMakerDeploymentPlan plan,
        List<(string Kind, string Name)> made,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct)
    {
        var o = plan.Options;
        var tmp = Path.Combine(Path.GetTempPath(), "mlmodels-sagemaker-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var store = new ModelDataStore(connection);
            if (!plan.BucketExists)
            {
                progress?.Report(new DeploymentProgress("Deploying " + o.AppName, $"Creating bucket {plan.Bucket}"));
                await store.CreateBucketAsync(plan.Bucket, ct).ConfigureAwait(false);
                made.Add(("bucket", plan.Bucket));
            }
            Directory.CreateDirectory(tmp);
            var archive = Path.Combine(tmp, "model.tar.gz");
            progress?.Report(new DeploymentProgress("Deploying " + o.AppName, "Packing model.tar.gz"));
            ModelArchive.Write(o.ModelPath, archive);
            var (bucket, key) = SageMakerNames.ParseS3Uri(plan.ModelDataUrl);
            made.Add(("model data", plan.ModelDataUrl));
            await store.UploadAsync(archive, bucket, key, progress, ct).ConfigureAwait(false);
        }
        finally
        {
            try { if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The model part, then <paramref name="then"/> (a transform job); on failure the model part is rolled back.</summary>
    internal async Task CreateModelOnlyAsync(
        SageMakerDeploymentPlan plan,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct,
        Func<CancellationToken, Task> then)
    {
        var made = new List<(string Kind, string Name)>();
        try
        {
            await CreateModelPartAsync(plan, made, progress, ct).ConfigureAwait(false);
            await then(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not SageMakerDeploymentException)
        {
            throw await FailAsync(plan, ex, made, updated: false, "Starting").ConfigureAwait(false);
        }
    }

    private async Task<SageMakerDeploymentException> FailAsync(
        SageMakerDeploymentPlan plan,
        Exception ex,
        List<(string Kind, string Name)> made,
        bool updated,
        string verb)
    {
        var o = plan.Options;
        var (rolledBack, remaining) = await RollbackAsync(plan, made, updated).ConfigureAwait(false);
        var what = ex switch
        {
            OperationCanceledException => "was cancelled",
            TimeoutException => $"did not finish within {o.Timeout.TotalSeconds:0} s",
            _ => "failed",
        };
        var message = $"{verb} '{o.AppName}' ({o.Mode}) {what}: {ex.Message}";
        if (plan.Endpoint != null) message += $" The endpoint keeps its previous configuration '{plan.Endpoint.EndpointConfigName}'"
            + (remaining.Count == 0 ? "." : " unless its update completes.");
        message += rolledBack.Count > 0 ? $" Rolled back: {string.Join("; ", rolledBack)}." : " Nothing had been created.";
        if (remaining.Count > 0) message += $" Left in place: {string.Join("; ", remaining)}.";
        return new SageMakerDeploymentException(message, rolledBack, remaining, ex);
    }

    private async Task WaitForDeploymentAsync(SageMakerDeploymentPlan plan, IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        var name = plan.Options.AppName;
        var updating = plan.Endpoint != null;
        var started = _time.GetTimestamp();
        var sawChange = false;
        await LongWait.UntilAsync<bool>($"Endpoint {name} reaching InService", async token =>
        {
            var e = await _sagemaker.DescribeEndpointAsync(name, token).ConfigureAwait(false);
            var status = e.EndpointStatus ?? "unknown";
            if (status == "Failed")
                throw new InvalidOperationException(
                    $"The endpoint '{name}' failed: {e.FailureReason ?? "SageMaker gave no reason; see its CloudWatch logs"}.");
            if (status != "InService") { sawChange = true; return PollResult<bool>.Pending(status); }
            if (!updating || e.EndpointConfigName == plan.ConfigName) return PollResult<bool>.Finished(status, true);
            // InService on the old configuration: either the update has not shown yet, or SageMaker rolled it back.
            if (sawChange || _time.GetElapsedTime(started) >= TimeSpan.FromSeconds(20))
                throw new InvalidOperationException($"SageMaker rolled the update of '{name}' back: {e.FailureReason ?? "no reason given"}.");
            return PollResult<bool>.Pending("Updating");
        }, plan.Options.PollInterval, plan.Options.Timeout, progress, ct, _time).ConfigureAwait(false);
    }

    /// <summary>Deletes, newest first, what this deployment made; what cannot go is reported as remaining.</summary>
    private async Task<(List<string> RolledBack, List<string> Remaining)> RollbackAsync(
        SageMakerDeploymentPlan plan,
        List<(string Kind, string Name)> made,
        bool updated)
    {
        var rolledBack = new List<string>();
        var remaining = new List<string>();
        using var cts = new CancellationTokenSource(RollbackTimeout);
        var ct = cts.Token;
        var name = plan.Options.AppName;
        if (updated)
        {
            // An endpoint mid-update keeps using the new configuration; it and its model must stay until it settles.
            string? status = null;
            try { status = (await _sagemaker.DescribeEndpointAsync(name, ct).ConfigureAwait(false)).EndpointStatus; }
            catch (Exception ex) when (ex is AwsServiceException or HttpRequestException or InvalidDataException) { status = null; }
            if (status is "Updating" or "SystemUpdating" or null)
            {
                remaining.Add($"endpoint {name} is {status ?? "in an unknown state"}, moving to configuration {plan.ConfigName}");
                foreach (var (kind, n) in made.AsEnumerable().Reverse()) remaining.Add($"{kind} {n}");
                return (rolledBack, remaining);
            }
        }
        using var store = new ModelDataStore(connection);
        foreach (var (kind, n) in made.AsEnumerable().Reverse())
        {
            try
            {
                switch (kind)
                {
                    case "endpoint": await _sagemaker.DeleteEndpointAsync(n, ct).ConfigureAwait(false); break;
                    case "endpoint configuration": await _sagemaker.DeleteEndpointConfigAsync(n, ct).ConfigureAwait(false); break;
                    case "model": await _sagemaker.DeleteModelAsync(n, ct).ConfigureAwait(false); break;
                    case "model data":
                        if (await store.ObjectExistsAsync(n, ct).ConfigureAwait(false)) await store.DeleteAsync(n, ct)
                        .ConfigureAwait(false);
                        else continue; break;
                    case "bucket": await store.DeleteBucketAsync(n, ct).ConfigureAwait(false); break;
                }
                rolledBack.Add($"{kind} {n}");
            }
            catch (Exception ex) when (ex is AwsServiceException or HttpRequestException or OperationCanceledException or IOException)
            {
                remaining.Add($"{kind} {n} ({ex.Message})");
            }
        }
        return (rolledBack, remaining);
    }

    /// <summary>Deletes a model and, when asked, its model data; returns what went.</summary>
    internal async Task<List<string>> DeleteModelAsync(string modelName, ModelDataStore store, bool includeData, CancellationToken ct)
    {
        var deleted = new List<string>();
        var info = await _sagemaker.DescribeModelAsync(modelName, ct).ConfigureAwait(false);
        if (includeData && info.PrimaryContainer?.ModelDataUrl is { } data && data.StartsWith("s3://", StringComparison.Ordinal))
        {
            await store.DeleteAsync(data, ct).ConfigureAwait(false);
            deleted.Add($"model data {data}");
        }
        await _sagemaker.DeleteModelAsync(modelName, ct).ConfigureAwait(false);
        deleted.Add($"model {modelName}");
        return deleted;
    }

    /// <summary>The endpoint with its variants, or null where there is none of that name.</summary>
    public async Task<SageMakerDeployment?> GetAsync(string name, CancellationToken ct)
    {
        if (await _sagemaker.FindEndpointAsync(name, ct).ConfigureAwait(false) == null) return null;
        var e = await _sagemaker.DescribeEndpointAsync(name, ct).ConfigureAwait(false);
        var variants = new List<SageMakerVariant>();
        if (e.EndpointConfigName != null)
        {
            try
            {
                var config = await _sagemaker.DescribeEndpointConfigAsync(e.EndpointConfigName, ct).ConfigureAwait(false);
                foreach (var v in config.ProductionVariants ?? [])
                {
                    var current = e.ProductionVariants?.FirstOrDefault(s => s.VariantName == v.VariantName);
                    variants.Add(new SageMakerVariant(
                        v.VariantName,
                        v.ModelName,
                        current?.CurrentWeight ?? v.InitialVariantWeight,
                        v.InstanceType,
                        current?.CurrentInstanceCount ?? v.InitialInstanceCount));
                }
            }
            catch (AwsServiceException ex) when (ex.ErrorCode == "ValidationException") { }
        }
        return new SageMakerDeployment(e.EndpointName ?? name, e.EndpointStatus, ScoringUri(name))
        {
            EndpointArn = e.EndpointArn, EndpointConfigName = e.EndpointConfigName, Region = connection.RegionName, FailureReason = e.FailureReason,
            CreationTime = e.CreationTime, LastModifiedTime = e.LastModifiedTime, Variants = variants,
        };
    }

    /// <summary>Endpoints whose names contain <paramref name="nameContains"/> (all when null).</summary>
    public async Task<IReadOnlyList<SageMakerDeployment>> ListAsync(string? nameContains, CancellationToken ct)
    {
        var list = new List<SageMakerDeployment>();
        foreach (var e in await _sagemaker.ListEndpointsAsync(nameContains, ct).ConfigureAwait(false))
        {
            if (e.EndpointName == null) continue;
            list.Add(new SageMakerDeployment(e.EndpointName, e.EndpointStatus, ScoringUri(e.EndpointName))
            {
                EndpointArn = e.EndpointArn, Region = connection.RegionName, CreationTime = e.CreationTime,
            });
        }
        return list;
    }

    public Uri ScoringUri(string endpointName)
        => new(connection.EndpointFor(AwsService.SageMakerRuntime), $"endpoints/{Uri.EscapeDataString(endpointName)}/invocations");

    /// <summary>
    /// MLflow's delete: the endpoint, then (unless archived) its configuration and models, and with
    /// <paramref name="includeModelData"/> their model.tar.gz in S3.
    /// </summary>
    public async Task<SageMakerRemoval> RemoveAsync(string name, bool archive, bool includeModelData, TimeSpan timeout, TimeSpan pollInterval,
        IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        var e = await _sagemaker.DescribeEndpointAsync(name, ct).ConfigureAwait(false);
        DescribeEndpointConfigResponse? config = null;
        if (e.EndpointConfigName != null)
        {
            try { config = await _sagemaker.DescribeEndpointConfigAsync(e.EndpointConfigName, ct).ConfigureAwait(false); }
            catch (AwsServiceException ex) when (ex.ErrorCode == "ValidationException") { }
        }
        var deleted = new List<string>();
        var kept = new List<string>();
        await _sagemaker.DeleteEndpointAsync(name, ct).ConfigureAwait(false);
        deleted.Add($"endpoint {name}");
        await LongWait.UntilAsync<bool>($"Endpoint {name} being deleted", async token =>
        {
            var found = await _sagemaker.FindEndpointAsync(name, token).ConfigureAwait(false);
            return found == null ? PollResult<bool>.Finished("Deleted", true) : PollResult<bool>.Pending(found.EndpointStatus ?? "Deleting");
        }, pollInterval, timeout, progress, ct, _time).ConfigureAwait(false);

        if (config == null) return new SageMakerRemoval(name, deleted, kept);
        var models = (config.ProductionVariants ?? []).Select(v => v.ModelName).OfType<string>().Distinct().ToList();
        if (archive)
        {
            kept.Add($"endpoint configuration {config.EndpointConfigName}");
            kept.AddRange(models.Select(m => $"model {m}"));
            return new SageMakerRemoval(name, deleted, kept);
        }
        await _sagemaker.DeleteEndpointConfigAsync(config.EndpointConfigName!, ct).ConfigureAwait(false);
        deleted.Add($"endpoint configuration {config.EndpointConfigName}");
        using var store = new ModelDataStore(connection);
        foreach (var m in models)
        {
            try { deleted.AddRange(await DeleteModelAsync(m, store, includeModelData, ct).ConfigureAwait(false)); }
            catch (AwsServiceException ex) when (ex.ErrorCode == "ValidationException") { kept.Add($"model {m} ({ex.ServiceMessage})"); }
        }
        return new SageMakerRemoval(name, deleted, kept);
    }
}

/// <summary>A deployment worked out before anything is made: the names, the bucket, the existing endpoint, and each call.</summary>
public sealed record SageMakerDeploymentPlan
{
    public required SageMakerDeployOptions Options { get; init; }
    public required string Flavor { get; init; }
    public required string Region { get; init; }
    public required string RoleArn { get; init; }
    public required string ImageUrl { get; init; }
    public required string Bucket { get; init; }
    public required bool BucketExists { get; init; }
    public required string ModelName { get; init; }
    public required string ConfigName { get; init; }
    public required string ModelDataUrl { get; init; }
    /// <summary>The model data is the folder's own S3 prefix, read in place (<see cref="SageMakerDeployOptions.ModelDataS3Uri"/>).</summary>
    public bool InPlace => Options.ModelDataS3Uri != null;
    public DescribeEndpointResponse? Endpoint { get; init; }
    public DescribeEndpointConfigResponse? EndpointConfig { get; init; }

    public CreateModelRequest CreateModelRequest()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SageMakerDeployer.FlavorEnvironmentVariable] = Flavor,
            [SageMakerDeployer.ServingEnvironmentVariable] = "SageMaker",
        };
        foreach (var (k, v) in Options.Environment ?? new Dictionary<string, string>()) env[k] = v;
        foreach (var proxy in new[] { "http_proxy", "https_proxy", "no_proxy" })
            if (Environment.GetEnvironmentVariable(proxy) is { } value) env[proxy] = value;
        var tags = new List<Tag>();
        foreach (var (k, v) in Options.Tags ?? new Dictionary<string, string>()) tags.Add(new Tag(k, v));
        tags.Add(new Tag("model_uri", Options.ModelPath));
        return new CreateModelRequest
        {
            ModelName = ModelName,
            PrimaryContainer = InPlace
                ? new ContainerDefinition
                {
                    Image = ImageUrl, Environment = env,
                    ModelDataSource = new ModelDataSource(new S3ModelDataSource(ModelDataUrl, "S3Prefix", "None")),
                }
                : new ContainerDefinition { Image = ImageUrl, ModelDataUrl = ModelDataUrl, Environment = env },
            ExecutionRoleArn = RoleArn,
            Tags = tags,
            VpcConfig = Options.VpcConfig,
        };
    }

    public CreateEndpointConfigRequest CreateEndpointConfigRequest()
    {
        var o = Options;
        var variant = new ProductionVariant
        {
            VariantName = o.VariantName ?? ModelName,
            ModelName = ModelName,
            InitialVariantWeight = o.Mode == SageMakerDeployMode.Add ? 0 : 1,
            ServerlessConfig = o.ServerlessConfig,
            InstanceType = o.ServerlessConfig == null ? o.InstanceType : null,
            InitialInstanceCount = o.ServerlessConfig == null ? o.InstanceCount : null,
        };
        var variants = o.Mode == SageMakerDeployMode.Add && EndpointConfig?.ProductionVariants is { } old
            ? [.. old, variant]
            : new List<ProductionVariant> { variant };
        return new CreateEndpointConfigRequest
        {
            EndpointConfigName = ConfigName,
            ProductionVariants = variants,
            DataCaptureConfig = o.DataCaptureConfig,
            AsyncInferenceConfig = o.AsyncInferenceConfig,
            Tags = [new Tag(SageMakerNames.AppNameTagKey, o.AppName)],
        };
    }

    public CreateEndpointRequest CreateEndpointRequest()
    {
        var tags = new List<Tag> { new(SageMakerNames.AppNameTagKey, Options.AppName) };
        foreach (var (k, v) in Options.Tags ?? new Dictionary<string, string>()) tags.Add(new Tag(k, v));
        return new CreateEndpointRequest { EndpointName = Options.AppName, EndpointConfigName = ConfigName, Tags = tags };
    }

    /// <summary>Every call the deployment makes, in order (what -WhatIf prints).</summary>
    public IReadOnlyList<SageMakerCall> Calls
    {
        get
        {
            var calls = new List<SageMakerCall>();
            if (!InPlace)
            {
                if (!BucketExists) calls.Add(new("S3", "CreateBucket", Bucket));
                calls.Add(new("S3", "PutObject (multipart)", ModelDataUrl));
            }
            calls.Add(new("SageMaker", "CreateModel", $"{ModelName} (image {ImageUrl}, role {RoleArn}, flavor {Flavor}" +
                (InPlace ? $", model data read in place from {ModelDataUrl}" : "") + ")"));
            var variants = CreateEndpointConfigRequest().ProductionVariants;
            calls.Add(new(
                "SageMaker",
                "CreateEndpointConfig",
                $"{ConfigName} (variants: {string.Join(", ", variants.Select(v => $"{v.VariantName} weight {v.InitialVariantWeight}"))})"));
            calls.Add(Endpoint == null
                ? new("SageMaker", "CreateEndpoint", Options.AppName)
                : new("SageMaker", "UpdateEndpoint", $"{Options.AppName} → {ConfigName}"));
            if (Options.Synchronous) calls.Add(new("SageMaker", "DescribeEndpoint (until InService)", Options.AppName));
            if (Endpoint != null && EndpointConfig != null && !Options.Archive && Options.Synchronous)
            {
                if (Options.Mode == SageMakerDeployMode.Replace)
                    foreach (var m in (EndpointConfig.ProductionVariants ?? []).Select(v => v.ModelName).OfType<string>().Distinct())
                    {
                        calls.Add(new("S3", "DeleteObject", $"model data of {m}"));
                        calls.Add(new("SageMaker", "DeleteModel", m));
                    }
                calls.Add(new("SageMaker", "DeleteEndpointConfig", EndpointConfig.EndpointConfigName ?? "?"));
            }
            return calls;
        }
    }
}
