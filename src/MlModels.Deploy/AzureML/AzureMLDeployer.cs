using System.Net.Http.Headers;
using Azure.Core;
using MlModels.Core.Format;

namespace MlModels.Deploy.AzureML;

/// <summary>What to publish to Azure ML: the model folder and the endpoint, with Azure ML's deployment settings.</summary>
public sealed record AzureMLPublishRequest(string ModelPath, string EndpointName) : DeploymentOptions
{
    public override string TargetName => EndpointName;

    public string DeploymentName { get; init; } = "blue";
    public string? ModelName { get; init; }
    public string? ModelVersion { get; init; }
    public string InstanceType { get; init; } = "Standard_DS3_v2";
    public int InstanceCount { get; init; } = 1;
    /// <summary>Traffic per deployment after this one is up; null keeps the endpoint's split (a new endpoint sends all to this deployment).</summary>
    public IReadOnlyDictionary<string, int>? Traffic { get; init; }
    public string AuthMode { get; init; } = "Key";
    public string? Description { get; init; }
    public bool Batch { get; init; }
    /// <summary>The compute cluster a batch deployment runs on.</summary>
    public string? ComputeName { get; init; }
    public int MiniBatchSize { get; init; } = 10;
    /// <summary>Deploys score.py with its environment (a code version and an environment version) instead of no-code.</summary>
    public bool ScoringScript { get; init; }
    /// <summary>A folder with the score.py to deploy (an Export-MLModelAzureML folder, perhaps edited) and
    /// environment/conda.yaml; default: the module's score.py and the model's environment.</summary>
    public string? CodePath { get; init; }
    /// <summary>The base image of the scoring script's environment.</summary>
    public string EnvironmentImage { get; init; } = AzureMLExportOptions.DefaultImage;
    /// <summary>How many lines of the deployment's logs to show when it fails.</summary>
    public int LogTail { get; init; } = 100;
}

/// <summary>A deployment under an endpoint, as Azure ML reports it.</summary>
public sealed record AzureMLDeploymentInfo(string Name, string? ProvisioningState, string? Model, string? InstanceType, int? InstanceCount);

/// <summary>An Azure ML endpoint (online, batch, or a local one in Docker without a workspace), what Publish/Get return.</summary>
public sealed record AzureMLEndpoint(
    string Name, string Kind, string? ProvisioningState, Uri? ScoringUri, string? AuthMode,
    IReadOnlyDictionary<string, int> Traffic, IReadOnlyList<AzureMLDeploymentInfo> Deployments,
    string? Location, string? Id, AzureMLWorkspace? Workspace)
{
    /// <summary>The Docker container of a local endpoint (Publish-MLModelAzureML -Local).</summary>
    public Docker.MLModelContainer? Container { get; init; }
    public Uri? SwaggerUri { get; init; }
    public string? ModelId { get; init; }
    public string? DefaultDeployment { get; init; }
}

/// <summary>A deployment that ended Failed: the operation's error, the deployment's logs, and what Azure left behind.</summary>
public sealed class AzureMLDeploymentFailedException(string message, string? logs, ArmException inner) : Exception(message, inner)
{
    public string? Logs { get; } = logs;
    public string Code => ((ArmException)InnerException!).Code;
}

/// <summary>
/// The Azure ML workflow (MLflow's <c>azureml deploy</c>, brought to managed online and batch endpoints): workspace,
/// upload to the default datastore, model version of type mlflow_model, endpoint and deployment created or updated,
/// traffic, and the failure path (the deployment's logs and what was left behind).
/// </summary>
public sealed class AzureMLDeployer(
    AzureMLClient client,
    DatastoreUploader uploader,
    TokenCredential credential,
    string dataPlaneScope,
    HttpMessageHandler? dataPlaneHandler = null)
    : IDisposable
{
    // One client for the data plane (scoring and batch-job URIs), with a bound on each answer.
    private readonly HttpClient _dataPlane = new(dataPlaneHandler ?? new SocketsHttpHandler(), disposeHandler: dataPlaneHandler == null)
    {
        Timeout = Endpoints.InvocationsClient.DefaultTimeout,
    };

    public void Dispose() => _dataPlane.Dispose();

    private string Ws => client.Workspace.Path;

    /// <summary>Checks names and the model before any call, so a refusal never leaves half a deployment.</summary>
    public static void Check(AzureMLPublishRequest r, MLModel model)
    {
        AzureMLNames.CheckEndpoint(r.EndpointName);
        AzureMLNames.CheckResource("deployment", r.DeploymentName);
        AzureMLNames.CheckResource("model", ModelNameOf(r));
        if (r.ModelVersion != null) AzureMLNames.CheckResource("model version", r.ModelVersion);
        if (r.InstanceCount < 1) throw new ArgumentException($"The instance count must be at least 1, not {r.InstanceCount}.");
        if (r.Batch && string.IsNullOrEmpty(r
            .ComputeName)) throw new ArgumentException("A batch deployment runs on a compute cluster: give its name (-ComputeName).");
        if (r.Traffic != null) CheckTraffic(r.Traffic);
        if (r.ScoringScript)
        {
            if (r.Batch) throw new ArgumentException(
                "A scoring-script deployment is made on an online endpoint; batch endpoints serve the model no-code.");
            if (r.CodePath != null && !File.Exists(Path.Combine(r.CodePath, ScoringScriptFile)))
                throw new FileNotFoundException(
                    $"The code folder '{r.CodePath}' has no {ScoringScriptFile}.",
                    Path.Combine(r.CodePath, ScoringScriptFile));
            if (r.CodePath == null && !model.Flavors.ContainsKey("python_function"))
                throw new NotSupportedException($"The model at '{r.ModelPath}' has no python_function flavor, and the module's " +
                    $"score.py loads models with mlflow.pyfunc. Export it with Export-MLModelAzureML, make the folder's score.py load " +
                        $"this model, and deploy that folder: Publish-MLModelAzureML -ScoringScript -CodePath <folder>.");
        }
        else if (!model.Flavors.ContainsKey("python_function"))
            throw new NotSupportedException($"The model at '{r.ModelPath}' has no python_function flavor, so Azure ML cannot serve it " +
                $"without a scoring script (no-code deployment). Deploy it with a scoring script instead: Export-MLModelAzureML writes " +
                    $"score.py with its environment (deployment-scoring-script.yml for the az CLI); make score.py load this model " +
                    "and run Publish-MLModelAzureML -ScoringScript -CodePath <that folder>.");
    }

    public static void CheckTraffic(IReadOnlyDictionary<string, int> traffic)
    {
        foreach (var (name, pct) in traffic)
        {
            AzureMLNames.CheckResource("deployment", name);
            if (pct is < 0 or > 100) throw new ArgumentException($"Traffic for deployment '{name}' is {pct}; each share is 0 to 100.");
        }
        var sum = traffic.Values.Sum();
        if (sum != 100 && sum != 0) throw new ArgumentException($"Traffic shares add up to {sum}; Azure ML needs them to add up to 100 (or all 0).");
    }

    /// <summary>The model's name in Azure ML: the one given, else the folder's name with what Azure refuses made '-'.</summary>
    public static string ModelNameOf(AzureMLPublishRequest r)
    {
        if (r.ModelName != null) return r.ModelName;
        var folder = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(r.ModelPath)));
        var name = new string(folder.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-').ToArray()).TrimStart('-', '_');
        return name.Length > 0 ? name : "model";
    }

    /// <summary>Each call Publish would make against this deployer's workspace (what -WhatIf prints).</summary>
    public IReadOnlyList<string> Plan(AzureMLPublishRequest r) => Plan(client.Arm.BaseAddress, client.Workspace, r);

    /// <summary>Each call Publish would make, in order, as "METHOD URL (operation)" (what -WhatIf prints).</summary>
    public static IReadOnlyList<string> Plan(Uri resourceManager, AzureMLWorkspace ws, AzureMLPublishRequest r)
    {
        string U(string path, string? q = null) => ArmClient.UrlOf(resourceManager, ws.Path + path, q).ToString();
        var model = Uri.EscapeDataString(ModelNameOf(r));
        var ep = Uri.EscapeDataString(r.EndpointName);
        var dep = Uri.EscapeDataString(r.DeploymentName);
        var kind = r.Batch ? "batchEndpoints" : "onlineEndpoints";
        var calls = new List<string>
        {
            $"GET {U("")} (Workspaces_Get)",
            $"GET {U("/datastores", "isDefault=true")} (Datastores_List)",
            $"POST {U("/datastores/{default}/listSecrets")} (Datastores_ListSecrets, only where the datastore holds a key)",
            $"PUT blobs LocalUpload/{{content hash}}/{Path.GetFileName(Path.TrimEndingDirectorySeparator(r.ModelPath))}/* (Azure " +
                $"Storage, the model folder)",
        };
        if (r.ModelVersion == null) calls.Add($"GET {U($"/models/{model}/versions")} (ModelVersions_List, for the next version)");
        var version = Uri.EscapeDataString(r.ModelVersion ?? "{next}");
        calls.Add($"PUT {U($"/models/{model}/versions/{version}")} (ModelVersions_CreateOrUpdate, mlflow_model)");
        if (r.ScoringScript)
        {
            calls.Add($"PUT blobs LocalUpload/{{content hash}}/code/{ScoringScriptFile} (Azure Storage, the scoring script)");
            calls.Add($"PUT {U($"/codes/{model}-code/versions/{version}")} (CodeVersions_CreateOrUpdate)");
            calls.Add($"PUT {U($"/environments/{model}-env/versions/{version}")} (EnvironmentVersions_CreateOrUpdate, " +
                $"{r.EnvironmentImage} with the conda file)");
        }
        calls.Add($"GET {U($"/{kind}/{ep}")} ({(r.Batch ? "BatchEndpoints_Get" : "OnlineEndpoints_Get")})");
        calls.Add(
            $"PUT {U($"/{kind}/{ep}")} ({(r.Batch ? "BatchEndpoints_CreateOrUpdate" : "OnlineEndpoints_CreateOrUpdate")}, where it does not exist)");
        calls.Add(
            $"PUT {U($"/{kind}/{ep}/deployments/{dep}")} ({(r.Batch ? "BatchDeployments_CreateOrUpdate" : "OnlineDeployments_CreateOrUpdate")})");
        calls.Add(r.Batch
            ? $"PUT {U($"/{kind}/{ep}")} (BatchEndpoints_CreateOrUpdate, default deployment '{r.DeploymentName}')"
            : $"PUT {U($"/{kind}/{ep}")} (OnlineEndpoints_CreateOrUpdate, traffic " +
                $"{TrafficText(r.Traffic ?? new Dictionary<string, int> { [r.DeploymentName] = 100 })})");
        return calls;
    }

    private static string TrafficText(IReadOnlyDictionary<string, int> t)
        => string.Join(", ", t.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));

    public async Task<AzureMLEndpoint> PublishAsync(
        AzureMLPublishRequest r,
        MLModel model,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct)
    {
        Check(r, model);
        const string activity = "Publishing to Azure ML";
        progress?.Report(new DeploymentProgress(activity, $"Workspace {client.Workspace.WorkspaceName}"));
        var workspace = await client.GetWorkspaceAsync(ct).ConfigureAwait(false);
        var location = workspace.Location ?? throw new InvalidOperationException($"The workspace {client.Workspace} reports no location.");
        var datastore = await client.GetDefaultDatastoreAsync(ct).ConfigureAwait(false);
        var upload = await uploader.UploadFolderAsync(datastore, r.ModelPath, progress, ct).ConfigureAwait(false);

        var modelName = ModelNameOf(r);
        var version = r.ModelVersion ?? await NextVersionAsync(modelName, ct).ConfigureAwait(false);
        progress?.Report(new DeploymentProgress(activity, $"Registering model {modelName}:{version}"));
        var flavors = model.Flavors.Keys.ToDictionary(k => k, _ => new FlavorData(new Dictionary<string, string>()));
        var mv = await client.CreateModelVersionAsync(modelName, version, new ModelVersionResource(new ModelVersionProperties(
            "mlflow_model", upload.AzureMLUri, r.Description, Flavors: flavors,
            Properties: model.RunId == null ? null : new Dictionary<string, string> { ["mlflow.run_id"] = model.RunId })), ct).ConfigureAwait(false);
        var modelId = mv.Id ?? $"{Ws}/models/{modelName}/versions/{version}";
        (string CodeId, string EnvironmentId)? script = r.ScoringScript
            ? await ScoringScriptAsync(r, model, datastore, modelName, version, progress, ct).ConfigureAwait(false)
            : null;

        return r.Batch
            ? await PublishBatchAsync(r, location, modelId, progress, ct).ConfigureAwait(false)
            : await PublishOnlineAsync(r, location, modelId, script, progress, ct).ConfigureAwait(false);
    }

    public const string ScoringScriptFile = "score.py";

    /// <summary>
    /// The scoring script's parts, as the az CLI makes them for a deployment with code_configuration: the script's
    /// folder uploaded to the datastore and registered as a code version, and an environment version (base image and
    /// conda file). Names follow the model: &lt;model&gt;-code and &lt;model&gt;-env, at the model's version.
    /// </summary>
    private async Task<(string CodeId, string EnvironmentId)> ScoringScriptAsync(AzureMLPublishRequest r, MLModel model, DatastoreResource datastore,
        string modelName, string version, IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        var staging = Path.Combine(Path.GetTempPath(), "mlmodels-azureml-code-" + Guid.NewGuid().ToString("N"));
        var code = Path.Combine(staging, "code");
        try
        {
            Directory.CreateDirectory(code);
            // The script and the Python files beside it; the model travels as the model asset, not as code.
            if (r.CodePath == null) File.WriteAllText(Path.Combine(code, ScoringScriptFile), AzureMLExporter.ScorePy());
            else foreach (var py in Directory.GetFiles(r.CodePath, "*.py")) File.Copy(py, Path.Combine(code, Path.GetFileName(py)));
            var conda = r.CodePath != null && File.Exists(Path.Combine(r.CodePath, "environment", "conda.yaml"))
                ? File.ReadAllText(Path.Combine(r.CodePath, "environment", "conda.yaml"))
                : Core.Format.Yaml.YamlWriter.Write(AzureMLExporter.Conda(model));
            progress?.Report(new DeploymentProgress("Publishing to Azure ML", $"Uploading {ScoringScriptFile}"));
            var upload = await uploader.UploadFolderAsync(datastore, code, progress, ct).ConfigureAwait(false);
            var codeUri = DatastoreUploader.ContainerUri(datastore.Properties!, null).ToString().TrimEnd('/') + "/" + upload.BlobPrefix;
            var codeVersion = await client.CreateCodeVersionAsync(
                modelName + "-code",
                version,
                new CodeVersionResource(new CodeVersionProperties(codeUri, r.Description)),
                ct).ConfigureAwait(false);
            progress?.Report(new DeploymentProgress("Publishing to Azure ML", $"Registering environment {modelName}-env:{version}"));
            var environment = await client.CreateEnvironmentVersionAsync(modelName + "-env", version, new EnvironmentVersionResource(
                new EnvironmentVersionProperties(r.EnvironmentImage, conda, Description: r.Description)), ct).ConfigureAwait(false);
            return (codeVersion.Id ?? $"{Ws}/codes/{modelName}-code/versions/{version}", environment.Id
                ?? $"{Ws}/environments/{modelName}-env/versions/{version}");
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    private async Task<string> NextVersionAsync(string modelName, CancellationToken ct)
    {
        var list = await client.Arm.FindAsync(
            Ws + "/models/" + Uri.EscapeDataString(modelName) + "/versions",
            AzureMLJson.Default.ModelVersionList,
            ct).ConfigureAwait(false);
        var latest = list?.Value?.Select(v => int.TryParse(v.Name, out var n) ? n : 0).DefaultIfEmpty(0).Max() ?? 0;
        return (latest + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<AzureMLEndpoint> PublishOnlineAsync(
        AzureMLPublishRequest r,
        string location,
        string modelId,
        (string CodeId, string EnvironmentId)? script,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct)
    {
        var existing = await client.FindOnlineEndpointAsync(r.EndpointName, ct).ConfigureAwait(false);
        var created = existing == null;
        var endpoint = existing ?? await client.PutOnlineEndpointAsync(r.EndpointName,
            new OnlineEndpointResource(
                location,
                new OnlineEndpointProperties(r.AuthMode, r.Description),
                Identity: new ResourceIdentity("SystemAssigned")), progress, ct).ConfigureAwait(false);

        var body = new OnlineDeploymentResource(location,
            new OnlineDeploymentProperties(
                "Managed",
                Model: modelId,
                InstanceType: r.InstanceType,
                ScaleSettings: new ScaleSettings("Default"),
                Description: r.Description,
                CodeConfiguration: script is { } s ? new CodeConfiguration(s.CodeId, ScoringScriptFile) : null,
                EnvironmentId: script?.EnvironmentId),
            new DeploymentSku("Default", r.InstanceCount));
        OnlineDeploymentResource deployment;
        try
        {
            deployment = await client.PutOnlineDeploymentAsync(r.EndpointName, r.DeploymentName, body, progress, ct).ConfigureAwait(false);
            if (IsFailed(deployment.Properties.ProvisioningState))
                throw new ArmOperationFailedException($"Deployment '{r.DeploymentName}'", deployment.Properties.ProvisioningState!, null);
        }
        catch (ArmException ex) when (!ct.IsCancellationRequested)
        {
            throw await FailedAsync(r, created, modelId, ex, ct).ConfigureAwait(false);
        }

        var traffic = r.Traffic ?? (created || (endpoint.Properties.Traffic?.Count ?? 0) == 0
            ? new Dictionary<string, int> { [r.DeploymentName] = 100 } : null);
        if (traffic != null)
        {
            progress?.Report(new DeploymentProgress("Publishing to Azure ML", "Traffic " + TrafficText(traffic)));
            endpoint = await client.PutOnlineEndpointAsync(r.EndpointName, endpoint with
            {
                Properties = endpoint.Properties with
                {
                    Traffic
                = traffic,
                    ProvisioningState = null,
                    ScoringUri = null,
                    SwaggerUri = null
                }
            }, progress, ct).ConfigureAwait(false);
        }
        var result = await GetAsync(r.EndpointName, ct).ConfigureAwait(false) ?? ToEndpoint(endpoint, [Info(deployment)]);
        return result with { ModelId = modelId };
    }

    private async Task<Exception> FailedAsync(AzureMLPublishRequest r, bool endpointCreated, string modelId, ArmException ex, CancellationToken ct)
    {
        string? logs = null;
        if (ex is ArmOperationFailedException)
        {
            try { logs = (await client.GetDeploymentLogsAsync(r.EndpointName, r.DeploymentName, r.LogTail, ct).ConfigureAwait(false)).Content; }
            catch (ArmException) { logs = null; }
        }
        var left = ex is ArmOperationFailedException
            ? $"Azure keeps the deployment '{r.DeploymentName}' in state Failed on endpoint '{r.EndpointName}'" + (endpointCreated
                ? " (created by this command)"
                : "") + $"; the model version {modelId} stays registered."
            : $"Nothing was deployed" + (endpointCreated
                ? $"; endpoint '{r.EndpointName}' was created by this command and is left with no deployment"
                : "") + $"; the model version {modelId} stays registered.";
        var message = $"Deploying '{r.DeploymentName}' to '{r.EndpointName}' failed: {ex.Code}: " +
            $"{ex.ArmMessage}{Environment.NewLine}{left} Fix the cause and run Publish-MLModelAzureML again (it updates them), or " +
                $"remove them with Remove-MLModelAzureMLEndpoint -Name {r.EndpointName}."
            + (string.IsNullOrWhiteSpace(logs) ? "" : $"{Environment.NewLine}Last lines of the deployment's log:{Environment.NewLine}{logs}");
        return new AzureMLDeploymentFailedException(message, logs, ex);
    }

    private static bool IsFailed(
        string? state) => state is not null
            && (state.Equals("Failed", StringComparison.OrdinalIgnoreCase) || state.Equals("Canceled", StringComparison.OrdinalIgnoreCase));

    private async Task<AzureMLEndpoint> PublishBatchAsync(
        AzureMLPublishRequest r,
        string location,
        string modelId,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct)
    {
        var existing = await client.FindBatchEndpointAsync(r.EndpointName, ct).ConfigureAwait(false);
        var endpoint = existing ?? await client.PutBatchEndpointAsync(r.EndpointName,
            new BatchEndpointResource(location, new BatchEndpointProperties("AADToken", r.Description)), progress, ct).ConfigureAwait(false);
        BatchDeploymentResource deployment;
        try
        {
            deployment = await client.PutBatchDeploymentAsync(r.EndpointName, r
                .DeploymentName, new BatchDeploymentResource(location, new BatchDeploymentProperties(
                Compute: r.ComputeName, Model: new AssetReference("Id", modelId), Resources: new BatchResources(r.InstanceCount),
                MiniBatchSize: r.MiniBatchSize, OutputAction: "AppendRow", OutputFileName: "predictions.csv", Description: r
                    .Description)), progress, ct).ConfigureAwait(false);
        }
        catch (ArmException ex)
        {
            var left = existing == null
                ? $"Batch endpoint '{r.EndpointName}' was created by this command and is left with no deployment"
                : "Nothing else was changed";
            throw new AzureMLDeploymentFailedException($"Batch deployment '{r.DeploymentName}' of '{r.EndpointName}' failed: " +
                $"{ex.Code}: {ex.ArmMessage}{Environment.NewLine}{left}; the model version {modelId} stays registered.", null, ex);
        }
        endpoint = await client.PutBatchEndpointAsync(r.EndpointName, endpoint with
        {
            Properties = endpoint
                .Properties with
            { Defaults = new BatchEndpointDefaults(r.DeploymentName), ProvisioningState = null, ScoringUri = null },
        }, progress, ct).ConfigureAwait(false);
        return ToEndpoint(endpoint, [new AzureMLDeploymentInfo(
            r.DeploymentName,
            deployment.Properties.ProvisioningState,
            modelId,
            null,
            deployment.Properties.Resources?.InstanceCount)]) with
        { ModelId = modelId };
    }

    /// <summary>An online endpoint with its deployments, or a batch endpoint, or null where there is none of that name.</summary>
    public async Task<AzureMLEndpoint?> GetAsync(string name, CancellationToken ct)
    {
        var online = await client.FindOnlineEndpointAsync(name, ct).ConfigureAwait(false);
        if (online != null)
        {
            var list = await client.Arm.FindAsync(
                Ws + "/onlineEndpoints/" + Uri.EscapeDataString(name) + "/deployments",
                AzureMLJson.Default.OnlineDeploymentList,
                ct).ConfigureAwait(false);
            return ToEndpoint(online, (list?.Value ?? []).Select(Info).ToList());
        }
        var batch = await client.FindBatchEndpointAsync(name, ct).ConfigureAwait(false);
        return batch == null ? null : ToEndpoint(batch, []);
    }

    /// <summary>Every online endpoint of the workspace (OnlineEndpoints_List, following nextLink).</summary>
    public async Task<IReadOnlyList<AzureMLEndpoint>> ListAsync(CancellationToken ct)
    {
        var list = await client.Arm.GetAsync(Ws + "/onlineEndpoints", AzureMLJson.Default.OnlineEndpointList, ct).ConfigureAwait(false);
        return (list.Value ?? []).Select(e => ToEndpoint(e, [])).ToList();
    }

    /// <summary>Sets the traffic split of an online endpoint (a PUT of the endpoint, long-running).</summary>
    public async Task<AzureMLEndpoint> SetTrafficAsync(
        string name,
        IReadOnlyDictionary<string, int> traffic,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct)
    {
        AzureMLNames.CheckEndpoint(name);
        CheckTraffic(traffic);
        var endpoint = await client.FindOnlineEndpointAsync(name, ct).ConfigureAwait(false)
            ?? throw new AzureMLResourceNotFoundException($"There is no online endpoint '{name}' in the workspace {client.Workspace}.", null);
        await client.PutOnlineEndpointAsync(name, endpoint with
        {
            Properties = endpoint.Properties with
            {
                Traffic = traffic,
                ProvisioningState
            = null,
                ScoringUri = null,
                SwaggerUri = null
            }
        }, progress, ct).ConfigureAwait(false);
        return (await GetAsync(name, ct).ConfigureAwait(false))!;
    }

    /// <summary>Deletes one deployment, or the whole endpoint with its deployments; false where it did not exist.</summary>
    public async Task<bool> RemoveAsync(string name, string? deployment, IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        AzureMLNames.CheckResource("endpoint", name);
        // ARM answers 204 to a DELETE of what is not there, so existence is read first.
        if (deployment != null)
            return await client.FindOnlineDeploymentAsync(name, deployment, ct).ConfigureAwait(false) != null
                && await client.DeleteOnlineDeploymentAsync(name, deployment, progress, ct).ConfigureAwait(false);
        if (await client.FindOnlineEndpointAsync(name, ct).ConfigureAwait(false) != null)
            return await client.DeleteOnlineEndpointAsync(name, progress, ct).ConfigureAwait(false);
        if (await client.FindBatchEndpointAsync(name, ct).ConfigureAwait(false) != null)
            return await client.Arm.DeleteAsync(
                Ws + "/batchEndpoints/" + Uri.EscapeDataString(name),
                $"Deleting batch endpoint '{name}'",
                progress,
                ct).ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// Sends one scoring request to an online endpoint's scoring URI with the key (listKeys) or token (token, or an
    /// Entra token for AADToken endpoints) its auth mode calls for; a deployment name pins the request to it.
    /// </summary>
    public async Task<PredictionResponse> InvokeAsync(string name, PredictionRequest request, string? deployment, CancellationToken ct)
    {
        var endpoint = await client.FindOnlineEndpointAsync(name, ct).ConfigureAwait(false)
            ?? throw new AzureMLResourceNotFoundException($"There is no online endpoint '{name}' in the workspace {client.Workspace}.", null);
        var scoring = endpoint.Properties.ScoringUri
            ?? throw new InvalidOperationException($"The endpoint '{name}' has no scoring URI yet (state {endpoint.Properties.ProvisioningState}).");
        var auth = endpoint.Properties.AuthMode;
        string bearer = auth.Equals("Key", StringComparison.OrdinalIgnoreCase)
            ? (await client.ListKeysAsync(name, ct).ConfigureAwait(false)).PrimaryKey
                ?? throw new InvalidOperationException($"The endpoint '{name}' has no key.")
            : auth.Equals("AMLToken", StringComparison.OrdinalIgnoreCase)
                ? (await client.GetTokenAsync(name, ct).ConfigureAwait(false)).AccessToken
                    ?? throw new InvalidOperationException($"The endpoint '{name}' gave no token.")
                : (await credential.GetTokenAsync(new TokenRequestContext([dataPlaneScope]), ct).ConfigureAwait(false)).Token;
        var http = _dataPlane;
        using var message = new HttpRequestMessage(HttpMethod.Post, scoring) { Content = new ReadOnlyMemoryContent(request.Body) };
        message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(request.ContentType);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (deployment != null) message.Headers.Add("azureml-model-deployment", deployment);
        using var response = await http.SendAsync(message, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        return new PredictionResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body);
    }

    /// <summary>Starts a batch scoring job on a batch endpoint's default deployment over the files at an azureml:// or https URI.</summary>
    public async Task<BatchJobResource> StartBatchJobAsync(string name, string inputUri, string inputType, CancellationToken ct)
    {
        var endpoint = await client.FindBatchEndpointAsync(name, ct).ConfigureAwait(false)
            ?? throw new AzureMLResourceNotFoundException($"There is no batch endpoint '{name}' in the workspace {client.Workspace}.", null);
        var scoring = endpoint.Properties.ScoringUri ?? throw new InvalidOperationException(
            $"The batch endpoint '{name}' has no scoring URI yet (state {endpoint.Properties.ProvisioningState}).");
        var token = await credential.GetTokenAsync(new TokenRequestContext([dataPlaneScope]), ct).ConfigureAwait(false);
        var http = _dataPlane;
        var body = System.Text.Json.JsonSerializer.Serialize(new BatchJobRequest(new BatchJobRequestProperties(
            new Dictionary<string, BatchJobInput> { ["input_data"] = new(inputType, inputUri) })), AzureMLJson.Default.BatchJobRequest);
        using var message = new HttpRequestMessage(HttpMethod.Post, scoring)
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json")
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        using var response = await http.SendAsync(message, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            ArmError? error = null;
            try
            {
                error = System.Text.Json.JsonSerializer.Deserialize(text, AzureMLJson.Default.ArmErrorResponse)?
                .Error;
            }
            catch (System.Text.Json.JsonException) { }
            throw new ArmException(
                (int)response.StatusCode,
                error?.Code ?? response.StatusCode.ToString(),
                error?.Message ?? text,
                "POST " + scoring);
        }
        return System.Text.Json.JsonSerializer.Deserialize(text, AzureMLJson.Default.BatchJobResource)
            ?? throw new ArmException((int)response.StatusCode, "EmptyResponse", "The batch endpoint answered with no job.", "POST " + scoring);
    }

    public Task<BatchJobResource> GetBatchJobAsync(string jobName, CancellationToken ct)
    {
        AzureMLNames.CheckResource("job", jobName);
        return client.GetJobAsync(jobName, ct);
    }

    private AzureMLEndpoint ToEndpoint(OnlineEndpointResource e, IReadOnlyList<AzureMLDeploymentInfo> deployments) =>
        new(e.Name ?? "", "Online", e.Properties.ProvisioningState, Parse(e.Properties.ScoringUri), e.Properties.AuthMode,
            e.Properties.Traffic ?? new Dictionary<string, int>(), deployments, e.Location, e.Id, client.Workspace)
        { SwaggerUri = Parse(e.Properties.SwaggerUri) };

    private AzureMLEndpoint ToEndpoint(BatchEndpointResource e, IReadOnlyList<AzureMLDeploymentInfo> deployments) =>
        new(e.Name ?? "", "Batch", e.Properties.ProvisioningState, Parse(e.Properties.ScoringUri), e.Properties.AuthMode,
            new Dictionary<string, int>(), deployments, e.Location, e.Id, client.Workspace)
        { DefaultDeployment = e.Properties.Defaults?.DeploymentName };

    private static AzureMLDeploymentInfo Info(OnlineDeploymentResource d) =>
        new(d.Name ?? "", d.Properties.ProvisioningState, d.Properties.Model, d.Properties.InstanceType, d.Sku?.Capacity);

    private static Uri? Parse(string? s) => Uri.TryCreate(s, UriKind.Absolute, out var u) ? u : null;
}
