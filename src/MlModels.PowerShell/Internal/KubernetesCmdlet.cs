using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using MlModels.Deploy;
using MlModels.Deploy.Kubernetes;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// The kubectl-style parameters every Kubernetes cmdlet shares (-Kubeconfig, -Context, -Namespace, -InCluster), the target
/// from the factory, progress, and the mapping of the API server's answers onto error records.
/// </summary>
public abstract class KubernetesCmdlet : MLModelCmdlet
{
    /// <summary>A kubeconfig file (else KUBECONFIG, else ~/.kube/config).</summary>
    [Parameter]
    [Alias("KubeconfigPath")]
    public string? Kubeconfig { get; set; }

    /// <summary>A context of the kubeconfig (else its current-context).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(KubernetesContextCompleter))]
    public string? Context { get; set; }

    /// <summary>The namespace (else the context's, else "default").</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Namespace { get; set; }

    /// <summary>Use the pod's service account instead of a kubeconfig.</summary>
    [Parameter]
    public SwitchParameter InCluster { get; set; }

    /// <summary>Kubernetes as a deployment target, from the factory; the caller disposes it.</summary>
    private protected KubernetesDeploymentTarget OpenTarget()
    {
        try
        {
            return DeploymentTargetFactory.Default.Create<KubernetesDeploymentTarget>(KubernetesDeploymentTarget
                .TargetName, new KubernetesTargetSettings
                {
                    KubeconfigPath = Kubeconfig == null ? null : ResolveTarget(Kubeconfig),
                    Context = Context,
                    Namespace = Namespace,
                    InCluster = InCluster,
                });
        }
        catch (Exception ex) when (ToRecord(ex, Context ?? Kubeconfig) is { } error)
        {
            ThrowTerminatingError(error);
            throw;
        }
    }

    /// <summary>
    /// Runs Kubernetes work off the pipeline thread; progress is shown, errors become ErrorRecords naming <paramref name="target"/>.
    /// </summary>
    private protected bool TryRun<T>(
        string activity,
        object? target,
        Func<IProgress<DeploymentProgress>, CancellationToken, Task<T>> work,
        out T result)
    {
        try
        {
            result = RunWithProgress(ProgressIds.Kubernetes, activity, work);
            return true;
        }
        catch (Exception ex) when (ToRecord(ex, target) is { } error)
        {
            result = default!;
            WriteError(error);
            return false;
        }
    }

    internal static ErrorRecord? ToRecord(Exception ex, object? target) => ex switch
    {
        KubernetesApiException { StatusCode: 409, Reason: "AlreadyExists" } =>
            Errors.WithAdvice(
                Errors.Record(ex, "KubernetesObjectExists", ErrorCategory.ResourceExists, target),
                "Use -Force to replace the objects."),
        KubernetesApiException { StatusCode: 409 } =>
            Errors.WithAdvice(Errors.Record(ex, "KubernetesConflict", ErrorCategory.ResourceBusy, target),
                "Another client changed the object meanwhile; run the command again."),
        KubernetesApiException { StatusCode: 404, DetailsKind: "namespaces" } k =>
            Errors.Record(ex, "KubernetesNamespaceNotFound", ErrorCategory.ObjectNotFound, k.DetailsName),
        KubernetesApiException { StatusCode: 404 } => Errors.Record(ex, "KubernetesResourceNotFound", ErrorCategory.ObjectNotFound, target),
        KubernetesApiException { StatusCode: 401 } => Errors.Record(ex, "KubernetesUnauthorized", ErrorCategory.AuthenticationError, target),
        KubernetesApiException { StatusCode: 403 } => Errors.Record(ex, "KubernetesForbidden", ErrorCategory.PermissionDenied, target),
        KubernetesApiException { StatusCode: 400 or 422 } => Errors.Record(ex, "KubernetesInvalidObject", ErrorCategory.InvalidData, target),
        KubernetesApiException => Errors.Record(ex, "KubernetesApiError", ErrorCategory.InvalidResult, target),
        KubernetesConfigException { Problem: KubernetesConfigProblem.ContextNotFound } c =>
            Errors.WithAdvice(Errors.Record(ex, "KubernetesContextNotFound", ErrorCategory.ObjectNotFound, c.Context ?? c.Path),
                "Name a context of the file with -Context."),
        KubernetesConfigException { Problem: KubernetesConfigProblem.NotFound } c =>
            Errors.WithAdvice(Errors.Record(ex, "KubeconfigNotFound", ErrorCategory.ObjectNotFound, c.Path),
                "Give a kubeconfig with -Kubeconfig, set KUBECONFIG, or use -InCluster in a pod."),
        KubernetesConfigException c => Errors.Record(ex, "KubeconfigInvalid", ErrorCategory.InvalidData, c.Path),
        TimeoutException => Errors.WithAdvice(Errors.Record(ex, "KubernetesDeploymentTimeout", ErrorCategory.OperationTimeout, target),
            "The objects are left as they are; wait longer with -TimeoutSec, or look at them with kubectl describe."),
        HttpRequestException => Errors.Record(ex, "KubernetesConnectionFailed", ErrorCategory.ConnectionError, target),
        ArgumentException => Errors.Record(ex, "InvalidKubernetesDeployment", ErrorCategory.InvalidArgument, target),
        _ when ExpectedFailure.Is(ex) => Errors.FromException(ex, target),
        _ => null,
    };

    /// <summary>
    /// Publish's and Export's shared parameters as the target's options; -MaxReplicas left out follows -MinReplicas (a fixed count).
    /// </summary>
    internal static KubernetesDeploymentOptions Options(PSCmdlet cmdlet, string name, string image, string kind, int min, int max, string cpu,
        string memory, string? modelName, Hashtable? environment) => new()
        {
            Name = name,
            Image = image,
            Kind = Enum.Parse<KubernetesWorkloadKind>(kind, ignoreCase: true),
            MinReplicas = min,
            MaxReplicas = cmdlet.MyInvocation.BoundParameters.ContainsKey("MaxReplicas") ? max : Math.Max(1, min),
            Cpu = cpu,
            Memory = memory,
            ModelName = modelName,
            Environment = StringMap(environment),
        };
}

/// <summary>Completes -Context from the kubeconfig kubectl would read (or -Kubeconfig's).</summary>
public sealed class KubernetesContextCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = wordToComplete.Trim('\'', '"');
        var file = fakeBoundParameters["Kubeconfig"] as string;
        return KubernetesConnection.ContextNames(file)
            .Where(c => c.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(c => new CompletionResult(c, c, CompletionResultType.ParameterValue, $"kubeconfig context {c}"));
    }
}
