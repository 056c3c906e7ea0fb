using System.Text.RegularExpressions;

namespace MlModels.Deploy.Kubernetes;

/// <summary>Which objects serve the model: KServe's InferenceService, or a plain Deployment, Service and HorizontalPodAutoscaler.</summary>
public enum KubernetesWorkloadKind
{
    InferenceService,
    Deployment,
}

/// <summary>What a deployment does when its objects exist: Create refuses (the API's 409), Replace updates them in place.</summary>
public enum KubernetesDeployMode
{
    Create,
    Replace,
}

/// <summary>
/// How to reach the cluster, as kubectl resolves it: <see cref="KubeconfigPath"/>, else KUBECONFIG (a list of files, merged),
/// else ~/.kube/config, else the pod's service account when running in a cluster; <see cref="Context"/> else the file's
/// current context; <see cref="Namespace"/> else the context's, else "default".
/// </summary>
public sealed record KubernetesTargetSettings : DeploymentTargetSettings
{
    public string? KubeconfigPath { get; init; }
    public string? Context { get; init; }
    public string? Namespace { get; init; }

    /// <summary>Use the pod's service account (KUBERNETES_SERVICE_HOST and the mounted token) and no kubeconfig.</summary>
    public bool InCluster { get; init; }

    /// <summary>Makes a handler that answers in place of the network (tests); a new one per client, as the client chains it.</summary>
    public Func<DelegatingHandler>? Handler { get; init; }
}

/// <summary>The model image and how it runs: replicas, resources, the V2 model name.</summary>
public sealed record KubernetesDeploymentOptions : DeploymentOptions
{
    public required string Name { get; init; }
    public required string Image { get; init; }
    public KubernetesWorkloadKind Kind { get; init; } = KubernetesWorkloadKind.InferenceService;

    /// <summary>Null: the settings' namespace, else the context's, else "default".</summary>
    public string? Namespace { get; init; }

    public int MinReplicas { get; init; } = 1;
    public int MaxReplicas { get; init; } = 1;

    /// <summary>CPU for each replica, requested and its limit (a Kubernetes quantity: "1", "500m").</summary>
    public string Cpu { get; init; } = "1";

    /// <summary>Memory for each replica, requested and its limit ("2Gi").</summary>
    public string Memory { get; init; } = "2Gi";

    /// <summary>The Open Inference model name (MLMODELS_MODEL_NAME); default: <see cref="Name"/>.</summary>
    public string? ModelName { get; init; }

    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public KubernetesDeployMode Mode { get; init; } = KubernetesDeployMode.Create;

    /// <summary>Wait until the objects are ready (Deployment: replicas available; InferenceService: condition Ready).</summary>
    public bool Wait { get; init; } = true;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    public override string TargetName => Name;

    public string EffectiveModelName => string.IsNullOrEmpty(ModelName) ? Name : ModelName;
}

/// <summary>What to delete: every object of that name the module manages (InferenceService, Deployment, Service, HPA).</summary>
public sealed record KubernetesDeleteOptions(string Name) : DeleteDeploymentOptions(Name)
{
    public string? Namespace { get; init; }
}

/// <summary>A model deployment in a cluster as the module reports it (Publish-, Get-MLModelKubernetesDeployment).</summary>
public sealed record KubernetesDeployment(string Name, string Namespace, KubernetesWorkloadKind Kind, string? Image, bool Ready, string Status)
{
    /// <summary>InferenceService: status.url; a Deployment has none outside the cluster.</summary>
    public Uri? Url { get; init; }

    /// <summary>The in-cluster address of the Service (http://name.namespace.svc.cluster.local:8080) for a Deployment.</summary>
    public Uri? ClusterUrl { get; init; }

    public string? ModelName { get; init; }

    /// <summary>The objects, as Kind/name.</summary>
    public IReadOnlyList<string> Objects { get; init; } = [];
}

/// <summary>Names Kubernetes accepts, checked before any call so the message names the rule.</summary>
public static partial class KubernetesNames
{
    /// <summary>
    /// A deployment's name is also its Service's (and KServe's Services'), so it must be an RFC 1035 label: at most 63
    /// characters, lowercase letters, digits and '-', starting with a letter and ending with a letter or digit.
    /// </summary>
    public static void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 63 || !Dns1035().IsMatch(name))
            throw new ArgumentException(
                $"'{name}' is not a valid Kubernetes name: use at most 63 lowercase letters, digits and '-', starting with a letter " +
                "and ending with a letter or digit (an RFC 1035 label, as a Service name must be).");
    }

    /// <summary>A namespace is an RFC 1123 label: at most 63 lowercase letters, digits and '-', starting and ending alphanumeric.</summary>
    public static void ValidateNamespace(string ns)
    {
        if (string.IsNullOrEmpty(ns) || ns.Length > 63 || !Dns1123().IsMatch(ns))
            throw new ArgumentException(
                $"'{ns}' is not a valid Kubernetes namespace: use at most 63 lowercase letters, digits and '-', starting and ending " +
                "with a letter or digit (an RFC 1123 label).");
    }

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123();
}

/// <summary>Why the cluster's configuration cannot be used.</summary>
public enum KubernetesConfigProblem
{
    /// <summary>No kubeconfig file (and not in a pod), or the named file does not exist.</summary>
    NotFound,
    /// <summary>The kubeconfig has no context of that name, or no current context.</summary>
    ContextNotFound,
    /// <summary>The file or the in-cluster configuration cannot be read or used.</summary>
    Invalid,
    /// <summary>In-cluster configuration asked for outside a pod.</summary>
    NotInCluster,
}

/// <summary>A kubeconfig that cannot be used: missing, unreadable, or without the named context.</summary>
public sealed class KubernetesConfigException(KubernetesConfigProblem problem, string message, string? path, Exception? inner = null)
    : Exception(message, inner)
{
    public KubernetesConfigProblem Problem { get; } = problem;
    public string? Path { get; } = path;

    /// <summary>The context that was asked for, where <see cref="Problem"/> is ContextNotFound.</summary>
    public string? Context { get; init; }
}

/// <summary>
/// The API server refused a call: its HTTP status and the Status object's reason (AlreadyExists, NotFound, Conflict,
/// Forbidden, Invalid), and its message, which names the object or namespace at fault.
/// </summary>
public sealed class KubernetesApiException(int statusCode, string? reason, string message, Exception? inner = null) : Exception(message, inner)
{
    public int StatusCode { get; } = statusCode;
    public string? Reason { get; } = reason;

    /// <summary>The Status' details: the object (or namespace) the answer is about, and its kind.</summary>
    public string? DetailsName { get; init; }
    public string? DetailsKind { get; init; }
}
