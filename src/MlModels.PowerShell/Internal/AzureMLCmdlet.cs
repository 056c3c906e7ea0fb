using System.Management.Automation;
using System.Net;
using System.Security;
using MlModels.Deploy;
using MlModels.Deploy.AzureML;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// The Azure ML cmdlets' shared parameters (Az names: -SubscriptionId, -ResourceGroupName, -WorkspaceName, -TenantId,
/// -Credential, -Environment) and the way they become a signed-in client, plus the mapping of Azure errors onto records.
/// </summary>
public abstract class AzureMLCmdlet : MLModelCmdlet
{
    // Virtual so a cmdlet with a set that needs no workspace (Publish -Local) can declare them per set.
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public virtual string ResourceGroupName { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public virtual string WorkspaceName { get; set; } = "";

    /// <summary>Default: the Az PowerShell context's subscription, then AZURE_SUBSCRIPTION_ID, then the az CLI's default.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? SubscriptionId { get; set; }

    [Parameter]
    public string? TenantId { get; set; }

    /// <summary>A service principal: application id as user name, client secret as password (needs -TenantId).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>A Resource Manager token obtained elsewhere (as Connect-AzAccount -AccessToken takes one).</summary>
    [Parameter]
    public SecureString? AccessToken { get; set; }

    [Parameter]
    [ValidateSet("AzureCloud", "AzureChinaCloud", "AzureUSGovernment")]
    public string Environment { get; set; } = "AzureCloud";

    /// <summary>An explicit Resource Manager URL (a private cloud); with -AuthorityHost, instead of -Environment.</summary>
    [Parameter]
    public Uri? ResourceManagerUrl { get; set; }

    [Parameter]
    public Uri? AuthorityHost { get; set; }

    internal AzureMLWorkspace Workspace(bool required = true)
    {
        var sub = SubscriptionId;
        if (string.IsNullOrEmpty(sub))
        {
            try
            {
                sub = InvokeCommand.InvokeScript("if (Get-Command Get-AzContext -ErrorAction Ignore) { (Get-AzContext).Subscription.Id }")
                    .Select(o => o?.BaseObject as string).FirstOrDefault(s => !string.IsNullOrEmpty(s));
            }
            catch (RuntimeException) { sub = null; }
            sub ??= AzureSubscription.Default();
        }
        if (string.IsNullOrEmpty(sub))
        {
            if (!required) return new AzureMLWorkspace(AzureMLWorkspace.UnknownSubscription, ResourceGroupName, WorkspaceName);
            ThrowTerminatingError(Errors.Record(new ArgumentException(
                "No subscription: give -SubscriptionId, or sign in with Connect-AzAccount (its context names one), or set AZURE_SUBSCRIPTION_ID."),
                "AzureSubscriptionRequired", ErrorCategory.InvalidArgument, null));
        }
        return new AzureMLWorkspace(sub!, ResourceGroupName, WorkspaceName);
    }

    /// <summary>Azure ML as a deployment target for this workspace, from the factory; the caller disposes it.</summary>
    internal AzureMLDeploymentTarget OpenTarget(AzureMLWorkspace workspace) =>
        DeploymentTargetFactory.Default
            .Create<AzureMLDeploymentTarget>(AzureMLDeploymentTarget.TargetName, new AzureMLTargetSettings(ConnectionOptions(workspace)));

    private AzureMLConnectionOptions ConnectionOptions(AzureMLWorkspace workspace) => new(workspace)
    {
        Environment = Environment,
        ResourceManagerUrl = ResourceManagerUrl,
        AuthorityHost = AuthorityHost,
        TenantId = TenantId,
        ClientId = Credential?.UserName,
        ClientSecret = Credential == null ? null : new NetworkCredential("", Credential.Password).Password,
        AccessToken = AccessToken == null ? null : new NetworkCredential("", AccessToken).Password,
        // A private endpoint or an emulator in place of the datastore's own blob host.
        BlobServiceUri = System.Environment.GetEnvironmentVariable("MLMODELS_AZUREML_BLOB_ENDPOINT") is { Length: > 0 } blob ? new Uri(blob) : null,
        Log = line => Post(() => WriteVerbose(line)),
    };

    internal IProgress<DeploymentProgress> ProgressFor(int activityId) => new SyncProgress<DeploymentProgress>(p => Post(() =>
        WriteProgress(
            new ProgressRecord(activityId, p.Activity, string.IsNullOrEmpty(p.Status) ? "..." : p.Status) { PercentComplete = p.PercentComplete })));

    /// <summary>Runs Azure work off the pipeline thread; Azure failures become terminating errors with specific ids.</summary>
    internal T RunAzure<T>(object? target, Func<CancellationToken, Task<T>> work)
    {
        try { return RunPumped(ct => work(ct).GetAwaiter().GetResult()); }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            ThrowTerminatingError(AzureError(ex, target));
            throw;
        }
    }

    internal static ErrorRecord AzureError(Exception ex, object? target) => ex switch
    {
        AzureSignInException => Errors.Record(ex, "AzureNotSignedIn", ErrorCategory.AuthenticationError, target),
        AzureMLResourceNotFoundException => Errors.Record(ex, "AzureMLResourceNotFound", ErrorCategory.ObjectNotFound, target),
        AzureMLDeploymentFailedException d => Errors.Record(ex, "AzureMLDeploymentFailed", ErrorCategory.ResourceUnavailable, target),
        ArmException a when a.Status is 401 or 403 => Errors.Record(ex, "AzureAccessDenied", ErrorCategory.PermissionDenied, target),
        ArmException => Errors.Record(ex, "AzureResourceManagerError", ErrorCategory.InvalidResult, target),
        NotSupportedException => Errors.Record(ex, "ModelNotServableNoCode", ErrorCategory.InvalidArgument, target),
        TimeoutException => Errors.Record(ex, "AzureOperationTimedOut", ErrorCategory.OperationTimeout, target),
        HttpRequestException => Errors.Record(ex, "AzureConnectionFailed", ErrorCategory.ConnectionError, target),
        _ => Errors.FromException(ex, target),
    };
}
