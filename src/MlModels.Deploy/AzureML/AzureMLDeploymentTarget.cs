using System.Text.Json;
using System.Text.Json.Nodes;
using MlModels.Core.Format;

namespace MlModels.Deploy.AzureML;

/// <summary>
/// Azure ML behind the one deployment interface (MLflow's BaseDeploymentClient shape): a deployment is an online
/// endpoint (or, with <c>batch</c>, a batch endpoint). Register it with
/// <c>factory.Register(AzureMLDeploymentTarget.TargetName, AzureMLDeploymentTarget.Create)</c>.
/// Settings: subscription_id, resource_group, workspace; environment or resource_manager_url + authority_host;
/// tenant_id, client_id + client_secret, access_token. Config of a request: endpoint (default: the request's name),
/// deployment, instance_type, instance_count, traffic, auth_mode, batch, compute, model_name, model_version.
/// </summary>
public sealed class AzureMLDeploymentTarget(AzureMLDeployer deployer, IDisposable? owned = null) : IDeploymentTarget, IDisposable
{
    public const string TargetName = "azureml";

    public string Name => TargetName;

    public static IDeploymentTarget Create(IReadOnlyDictionary<string, object?> settings)
    {
        string? S(string key) => settings.TryGetValue(key, out var v) ? v?.ToString() : null;
        string Required(string key) => S(key) is { Length: > 0 } v ? v : throw new ArgumentException($"The azureml target needs the setting '{key}'.");
        var sub = S("subscription_id") ?? AzureSubscription.Default() ?? throw new ArgumentException("The azureml target needs the setting 'subscription_id' (or AZURE_SUBSCRIPTION_ID).");
        var connection = AzureMLConnection.Open(new AzureMLConnectionOptions(new AzureMLWorkspace(sub, Required("resource_group"), Required("workspace")))
        {
            Environment = S("environment") ?? "AzureCloud",
            ResourceManagerUrl = S("resource_manager_url") is { } rm ? new Uri(rm) : null,
            AuthorityHost = S("authority_host") is { } a ? new Uri(a) : null,
            TenantId = S("tenant_id"), ClientId = S("client_id"), ClientSecret = S("client_secret"), AccessToken = S("access_token"),
            BlobServiceUri = S("blob_service_url") is { } b ? new Uri(b) : null,
        });
        return new AzureMLDeploymentTarget(connection.Deployer, connection);
    }

    public void Dispose() => owned?.Dispose();

    public Task<Deployment> CreateAsync(DeploymentRequest request, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken) =>
        PublishAsync(request, progress, cancellationToken);

    /// <summary>Azure ML's create-or-update: a new version of the model, the deployment updated in place.</summary>
    public Task<Deployment> UpdateAsync(DeploymentRequest request, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken) =>
        PublishAsync(request, progress, cancellationToken);

    private async Task<Deployment> PublishAsync(DeploymentRequest request, IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        if (request.ModelPath == null) throw new ArgumentException("An Azure ML deployment needs the model folder.");
        var c = request.Config;
        var publish = new AzureMLPublishRequest(request.ModelPath, Text(c, "endpoint") ?? request.Name)
        {
            DeploymentName = Text(c, "deployment") ?? "blue",
            ModelName = Text(c, "model_name"),
            ModelVersion = Text(c, "model_version"),
            InstanceType = Text(c, "instance_type") ?? "Standard_DS3_v2",
            InstanceCount = Number(c, "instance_count") ?? 1,
            AuthMode = Text(c, "auth_mode") ?? "Key",
            Batch = c.TryGetValue("batch", out var batch) && batch is true or "true" or "True",
            ComputeName = Text(c, "compute"),
            Traffic = c.TryGetValue("traffic", out var t) && t != null ? TrafficOf(t) : null,
        };
        var endpoint = await deployer.PublishAsync(publish, ModelStore.Load(request.ModelPath), progress, ct).ConfigureAwait(false);
        return ToDeployment(endpoint);
    }

    public async Task DeleteAsync(string name, IReadOnlyDictionary<string, object?>? config, IProgress<DeploymentProgress>? progress, CancellationToken cancellationToken)
    {
        var deployment = config == null ? null : Text(config, "deployment");
        if (!await deployer.RemoveAsync(name, deployment, progress, cancellationToken).ConfigureAwait(false))
            throw new AzureMLResourceNotFoundException(deployment == null ? $"There is no endpoint '{name}'." : $"There is no deployment '{deployment}' of endpoint '{name}'.", null);
    }

    public async Task<Deployment?> GetAsync(string name, CancellationToken cancellationToken) =>
        await deployer.GetAsync(name, cancellationToken).ConfigureAwait(false) is { } e ? ToDeployment(e) : null;

    public async Task<IReadOnlyList<Deployment>> ListAsync(CancellationToken cancellationToken) =>
        (await deployer.ListAsync(cancellationToken).ConfigureAwait(false)).Select(ToDeployment).ToList();

    /// <summary>An MLflow JSON request (dataframe_split, dataframe_records, instances, inputs) sent in Azure ML's input_data form.</summary>
    public Task<PredictionResponse> PredictAsync(string name, PredictionRequest request, CancellationToken cancellationToken)
    {
        var body = request.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            ? ToAzureMLRequest(request.Body.Span)
            : throw new NotSupportedException($"Azure ML endpoints take JSON; '{request.ContentType}' cannot be sent. Read CSV into rows and send them as JSON.");
        return deployer.InvokeAsync(name, new PredictionRequest(body, "application/json"), null, cancellationToken);
    }

    /// <summary>MLflow's request forms mapped onto Azure ML's: tables to a split-orient input_data, tensors as they are.</summary>
    public static byte[] ToAzureMLRequest(ReadOnlySpan<byte> mlflow)
    {
        if (JsonNode.Parse(mlflow) is not JsonObject o) throw new ArgumentException("The request must be a JSON object in one of MLflow's forms.");
        var azure = new JsonObject();
        if (o["input_data"] is { } already) azure["input_data"] = already.DeepClone();
        else if (o["dataframe_split"] is JsonObject split) azure["input_data"] = split.DeepClone();
        else if (o["dataframe_records"] is JsonArray records)
        {
            var columns = new List<string>();
            foreach (var r in records.OfType<JsonObject>()) foreach (var (k, _) in r) if (!columns.Contains(k)) columns.Add(k);
            azure["input_data"] = new JsonObject
            {
                ["columns"] = new JsonArray(columns.Select(c => (JsonNode)c).ToArray()),
                ["index"] = new JsonArray(Enumerable.Range(0, records.Count).Select(i => (JsonNode)i).ToArray()),
                ["data"] = new JsonArray(records.Select(r => (JsonNode)new JsonArray(columns.Select(c => r?[c]?.DeepClone()).ToArray())).ToArray()),
            };
        }
        else if ((o["inputs"] ?? o["instances"]) is { } tensors) azure["input_data"] = tensors.DeepClone();
        else throw new ArgumentException("The request has none of MLflow's keys (dataframe_split, dataframe_records, instances, inputs).");
        if (o["params"] is { } p) azure["params"] = p.DeepClone();
        return JsonSerializer.SerializeToUtf8Bytes(azure);
    }

    private static Deployment ToDeployment(AzureMLEndpoint e) => new(e.Name, TargetName, e.ProvisioningState, e.ScoringUri)
    {
        Details = new Dictionary<string, object?>
        {
            ["id"] = e.Id, ["kind"] = e.Kind, ["auth_mode"] = e.AuthMode, ["traffic"] = e.Traffic,
            ["deployments"] = e.Deployments, ["model_id"] = e.ModelId, ["location"] = e.Location,
        },
    };

    private static string? Text(IReadOnlyDictionary<string, object?> c, string key) => c.TryGetValue(key, out var v) && v != null ? v.ToString() : null;

    private static int? Number(IReadOnlyDictionary<string, object?> c, string key) =>
        c.TryGetValue(key, out var v) && v != null ? Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture) : null;

    private static IReadOnlyDictionary<string, int> TrafficOf(object value) => value switch
    {
        IReadOnlyDictionary<string, int> d => d,
        IEnumerable<KeyValuePair<string, object?>> d => d.ToDictionary(kv => kv.Key, kv => Convert.ToInt32(kv.Value, System.Globalization.CultureInfo.InvariantCulture)),
        _ => throw new ArgumentException("traffic must map deployment names to percentages."),
    };
}
