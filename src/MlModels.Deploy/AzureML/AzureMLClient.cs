using System.Text.RegularExpressions;

namespace MlModels.Deploy.AzureML;

/// <summary>An Azure ML workspace by subscription, resource group and name.</summary>
public sealed record AzureMLWorkspace(string SubscriptionId, string ResourceGroupName, string WorkspaceName)
{
    /// <summary>The subscription's place in a plan made before one is known (-WhatIf without sign-in).</summary>
    public const string UnknownSubscription = "{subscription}";

    public string Path =>
        $"/subscriptions/{Uri.EscapeDataString(SubscriptionId)}/resourceGroups/{Uri.EscapeDataString(ResourceGroupName)}" +
        $"/providers/Microsoft.MachineLearningServices/workspaces/{Uri.EscapeDataString(WorkspaceName)}";

    public override string ToString() => $"{WorkspaceName} (resource group {ResourceGroupName}, subscription {SubscriptionId})";
}

/// <summary>The names Azure ML accepts, checked before any call so a bad one never leaves half a deployment.</summary>
public static partial class AzureMLNames
{
    // The swagger's pattern for endpoint, deployment, model and version names on PUT.
    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$")]
    private static partial Regex ResourceName();

    // Endpoint names are also DNS labels of the scoring host: Azure ML wants 3 to 32 characters, a letter first,
    // no underscores and no trailing hyphen.
    [GeneratedRegex("^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$")]
    private static partial Regex EndpointName();

    public static void CheckResource(string kind, string name)
    {
        if (string.IsNullOrEmpty(name) || !ResourceName().IsMatch(name))
            throw new ArgumentException($"The {kind} name '{name}' is not one Azure ML accepts: it must match " +
                $"^[a-zA-Z0-9][a-zA-Z0-9\\-_]{{0,254}}$ (a letter or digit, then letters, digits, '-' or '_', at most 255 characters).");
    }

    public static void CheckEndpoint(string name)
    {
        CheckResource("endpoint", name);
        if (!EndpointName().IsMatch(name))
            throw new ArgumentException($"The endpoint name '{name}' is not one Azure ML accepts for an endpoint: it becomes part of " +
                $"the scoring host name, so it must start with a letter, hold only letters, digits and '-', not end with '-', and have " +
                    $"3 to 32 characters.");
    }
}

/// <summary>The Azure ML operations of one workspace, each named after its swagger operation.</summary>
public sealed class AzureMLClient(ArmClient arm, AzureMLWorkspace workspace)
{
    public ArmClient Arm { get; } = arm;
    public AzureMLWorkspace Workspace { get; } = workspace;
    private string P => Workspace.Path;
    private static string E(string s) => Uri.EscapeDataString(s);

    /// <summary>Workspaces_Get; a missing workspace is an error that names it.</summary>
    public async Task<WorkspaceResource> GetWorkspaceAsync(CancellationToken ct)
    {
        try { return await Arm.GetAsync(P, AzureMLJson.Default.WorkspaceResource, ct).ConfigureAwait(false); }
        catch (ArmException ex) when (ex.Status == 404)
        {
            throw new AzureMLResourceNotFoundException(
                $"The Azure ML workspace {Workspace} does not exist or is not visible to this sign-in ({ex.Code}: {ex.ArmMessage}).",
                ex);
        }
    }

    /// <summary>Datastores_List with isDefault=true: the workspace's default blob datastore.</summary>
    public async Task<DatastoreResource> GetDefaultDatastoreAsync(CancellationToken ct)
    {
        var list = await Arm.GetAsync(P + "/datastores", AzureMLJson.Default.DatastoreList, ct, "isDefault=true").ConfigureAwait(false);
        var store = list.Value?.FirstOrDefault(d => d.Properties?.IsDefault != false) ?? (list.Value is { Count: > 0 } all ? all[0] : null)
            ?? throw new AzureMLResourceNotFoundException($"The workspace {Workspace} has no default datastore.", null);
        if (!string.Equals(store.Properties?.DatastoreType, "AzureBlob", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException(
                $"The default datastore '{store.Name}' is of type {store.Properties?.DatastoreType}; models are uploaded to an AzureBlob datastore.");
        return store;
    }

    public Task<DatastoreSecrets> ListDatastoreSecretsAsync(string datastore, CancellationToken ct) =>
        Arm.PostAsync(
            P + "/datastores/" + E(datastore) + "/listSecrets",
            null,
            AzureMLJson.Default.EmptyBody,
            AzureMLJson.Default.DatastoreSecrets,
            ct);

    public Task<ModelVersionResource> CreateModelVersionAsync(string name, string version, ModelVersionResource body, CancellationToken ct) =>
        Arm.PutAsync(P + "/models/" + E(name) + "/versions/" + E(version), body, AzureMLJson.Default.ModelVersionResource, ct);

    public Task<CodeVersionResource> CreateCodeVersionAsync(string name, string version, CodeVersionResource body, CancellationToken ct) =>
        Arm.PutAsync(P + "/codes/" + E(name) + "/versions/" + E(version), body, AzureMLJson.Default.CodeVersionResource, ct);

    public Task<EnvironmentVersionResource> CreateEnvironmentVersionAsync(
        string name,
        string version,
        EnvironmentVersionResource body,
        CancellationToken ct) =>
        Arm.PutAsync(P + "/environments/" + E(name) + "/versions/" + E(version), body, AzureMLJson.Default.EnvironmentVersionResource, ct);

    public Task<OnlineEndpointResource?> FindOnlineEndpointAsync(string name, CancellationToken ct) =>
        Arm.FindAsync(P + "/onlineEndpoints/" + E(name), AzureMLJson.Default.OnlineEndpointResource, ct);

    public Task<OnlineEndpointResource> PutOnlineEndpointAsync(
        string name,
        OnlineEndpointResource body,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct) =>
        Arm.PutLongRunningAsync(
            P + "/onlineEndpoints/" + E(name),
            body,
            AzureMLJson.Default.OnlineEndpointResource,
            $"Online endpoint '{name}'",
            progress,
            ct);

    public Task<OnlineDeploymentResource?> FindOnlineDeploymentAsync(string endpoint, string name, CancellationToken ct) =>
        Arm.FindAsync(P + "/onlineEndpoints/" + E(endpoint) + "/deployments/" + E(name), AzureMLJson.Default.OnlineDeploymentResource, ct);

    public Task<OnlineDeploymentResource> PutOnlineDeploymentAsync(
        string endpoint,
        string name,
        OnlineDeploymentResource body,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct) =>
        Arm.PutLongRunningAsync(
            P + "/onlineEndpoints/" + E(endpoint) + "/deployments/" + E(name),
            body,
            AzureMLJson.Default.OnlineDeploymentResource,
            $"Deployment '{name}' of '{endpoint}'",
            progress,
            ct);

    public Task<DeploymentLogs> GetDeploymentLogsAsync(string endpoint, string name, int tail, CancellationToken ct) =>
        Arm.PostAsync(
            P + "/onlineEndpoints/" + E(endpoint) + "/deployments/" + E(name) + "/getLogs",
            new DeploymentLogsRequest("InferenceServer", tail),
            AzureMLJson.Default.DeploymentLogsRequest,
            AzureMLJson.Default.DeploymentLogs,
            ct);

    public Task<bool> DeleteOnlineEndpointAsync(string name, IProgress<DeploymentProgress>? progress, CancellationToken ct) =>
        Arm.DeleteAsync(P + "/onlineEndpoints/" + E(name), $"Deleting online endpoint '{name}'", progress, ct);

    public Task<bool> DeleteOnlineDeploymentAsync(string endpoint, string name, IProgress<DeploymentProgress>? progress, CancellationToken ct) =>
        Arm.DeleteAsync(
            P + "/onlineEndpoints/" + E(endpoint) + "/deployments/" + E(name),
            $"Deleting deployment '{name}' of '{endpoint}'",
            progress,
            ct);

    public Task<EndpointAuthKeys> ListKeysAsync(string endpoint, CancellationToken ct) =>
        Arm.PostAsync(
            P + "/onlineEndpoints/" + E(endpoint) + "/listKeys",
            null,
            AzureMLJson.Default.EmptyBody,
            AzureMLJson.Default.EndpointAuthKeys,
            ct);

    public Task<EndpointAuthToken> GetTokenAsync(string endpoint, CancellationToken ct) =>
        Arm.PostAsync(
            P + "/onlineEndpoints/" + E(endpoint) + "/token",
            null,
            AzureMLJson.Default.EmptyBody,
            AzureMLJson.Default.EndpointAuthToken,
            ct);

    public Task<BatchEndpointResource?> FindBatchEndpointAsync(string name, CancellationToken ct) =>
        Arm.FindAsync(P + "/batchEndpoints/" + E(name), AzureMLJson.Default.BatchEndpointResource, ct);

    public Task<BatchEndpointResource> PutBatchEndpointAsync(
        string name,
        BatchEndpointResource body,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct) =>
        Arm.PutLongRunningAsync(
            P + "/batchEndpoints/" + E(name),
            body,
            AzureMLJson.Default.BatchEndpointResource,
            $"Batch endpoint '{name}'",
            progress,
            ct);

    public Task<BatchDeploymentResource> PutBatchDeploymentAsync(
        string endpoint,
        string name,
        BatchDeploymentResource body,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct) =>
        Arm.PutLongRunningAsync(
            P + "/batchEndpoints/" + E(endpoint) + "/deployments/" + E(name),
            body,
            AzureMLJson.Default.BatchDeploymentResource,
            $"Batch deployment '{name}' of '{endpoint}'",
            progress,
            ct);

    /// <summary>Jobs_Get: a batch scoring job's state.</summary>
    public Task<BatchJobResource> GetJobAsync(string name, CancellationToken ct) =>
        Arm.GetAsync(P + "/jobs/" + E(name), AzureMLJson.Default.BatchJobResource, ct);
}

/// <summary>A workspace, endpoint or deployment that does not exist.</summary>
public sealed class AzureMLResourceNotFoundException(string message, Exception? inner) : Exception(message, inner);
