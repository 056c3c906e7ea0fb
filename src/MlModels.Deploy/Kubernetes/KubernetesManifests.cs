using k8s;
using k8s.Models;

namespace MlModels.Deploy.Kubernetes;

/// <summary>
/// The objects that serve a model image built by this module: it answers HTTP on 8080 (MLflow's /invocations and /ping,
/// Open Inference V2 REST under /v2, readiness /v2/health/ready, liveness /v2/health/live) and V2 gRPC (h2c) on 8081,
/// and takes its V2 model name from MLMODELS_MODEL_NAME.
/// </summary>
public static class KubernetesManifests
{
    public const int HttpPort = 8080;
    public const int GrpcPort = 8081;
    public const string ModelNameVariable = "MLMODELS_MODEL_NAME";
    public const string NameLabel = "app.kubernetes.io/name";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedBy = "MlModels";

    /// <summary>The label selector of every object the module manages.</summary>
    public const string ManagedSelector = ManagedByLabel + "=" + ManagedBy;

    /// <summary>Refuses what the API server or KServe would refuse, before any call: names, replica bounds, quantities.</summary>
    public static void Validate(KubernetesDeploymentOptions o, string ns)
    {
        KubernetesNames.ValidateName(o.Name);
        KubernetesNames.ValidateNamespace(ns);
        if (string.IsNullOrWhiteSpace(o.Image)) throw new ArgumentException("The image is empty.");
        // KServe scales an InferenceService to zero; a Deployment behind an autoscaler needs one replica at least.
        var least = o.Kind == KubernetesWorkloadKind.InferenceService ? 0 : 1;
        if (o.MinReplicas < least)
            throw new ArgumentException($"The minimum replica count must be at least {least} for a {o.Kind}, not {o.MinReplicas}.");
        if (o.MaxReplicas < Math.Max(1, o.MinReplicas))
            throw new ArgumentException(
                $"The maximum replica count ({o.MaxReplicas}) must be at least 1 and not below the minimum ({o.MinReplicas}).");
        Quantity(o.Cpu, "CPU");
        Quantity(o.Memory, "memory");
    }

    /// <summary>The objects for the options, in the order they are applied.</summary>
    public static IReadOnlyList<object> For(KubernetesDeploymentOptions o, string ns)
    {
        Validate(o, ns);
        if (o.Kind == KubernetesWorkloadKind.InferenceService) return [InferenceService(o, ns)];
        var list = new List<object> { Deployment(o, ns), Service(o, ns) };
        if (Autoscaler(o, ns) is { } hpa) list.Add(hpa);
        return list;
    }

    /// <summary>The objects as one YAML stream (documents separated by ---), as kubectl apply -f reads it.</summary>
    public static string ToYaml(IEnumerable<object> objects) => KubernetesYaml.SerializeAll(objects);

    /// <summary>
    /// A custom-container predictor. Only port 8080 (named http1, which KServe reads as the HTTP port) is listed: the CRD's
    /// schema would take 8081 too, but in KServe's default Serverless mode Knative refuses a container with more than one port.
    /// </summary>
    public static InferenceService InferenceService(KubernetesDeploymentOptions o, string ns) => new()
    {
        Metadata = Metadata(o.Name, ns),
        Spec = new InferenceServiceSpec
        {
            Predictor = new PredictorSpec
            {
                MinReplicas = o.MinReplicas,
                MaxReplicas = o.MaxReplicas,
                Containers = [Container("kserve-container", o, [new V1ContainerPort { ContainerPort = HttpPort, Name = "http1", Protocol = "TCP" }])],
            },
        },
    };

    public static V1Deployment Deployment(KubernetesDeploymentOptions o, string ns) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = Metadata(o.Name, ns),
        Spec = new V1DeploymentSpec
        {
            Replicas = o.MinReplicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [NameLabel] = o.Name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = Labels(o.Name) },
                Spec = new V1PodSpec
                {
                    Containers =
                    [
                        Container("model", o,
                        [
                            new V1ContainerPort { ContainerPort = HttpPort, Name = "http", Protocol = "TCP" },
                            new V1ContainerPort { ContainerPort = GrpcPort, Name = "grpc", Protocol = "TCP" },
                        ]),
                    ],
                },
            },
        },
    };

    public static V1Service Service(KubernetesDeploymentOptions o, string ns) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Metadata(o.Name, ns),
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            Selector = new Dictionary<string, string> { [NameLabel] = o.Name },
            Ports =
            [
                new V1ServicePort { Port = HttpPort, Name = "http", Protocol = "TCP", TargetPort = HttpPort, AppProtocol = "http" },
                // h2c: gRPC without TLS, which the model server speaks on this port.
                new V1ServicePort
                {
                    Port = GrpcPort, Name = "grpc", Protocol = "TCP", TargetPort = GrpcPort, AppProtocol = "kubernetes.io/h2c",
                },
            ],
        },
    };

    /// <summary>An autoscaler on CPU (80% of the request), or null where the replica count is fixed (minimum = maximum).</summary>
    public static V2HorizontalPodAutoscaler? Autoscaler(KubernetesDeploymentOptions o, string ns) => o.MaxReplicas == o.MinReplicas ? null : new()
    {
        ApiVersion = "autoscaling/v2",
        Kind = "HorizontalPodAutoscaler",
        Metadata = Metadata(o.Name, ns),
        Spec = new V2HorizontalPodAutoscalerSpec
        {
            ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = o.Name },
            MinReplicas = o.MinReplicas,
            MaxReplicas = o.MaxReplicas,
            Metrics =
            [
                new V2MetricSpec
                {
                    Type = "Resource",
                    Resource = new V2ResourceMetricSource
                    {
                        Name = "cpu",
                        Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = 80 },
                    },
                },
            ],
        },
    };

    /// <summary>The in-cluster address of a Deployment's Service.</summary>
    public static Uri ClusterUrl(string name, string ns) => new($"http://{name}.{ns}.svc.cluster.local:{HttpPort}/");

    private static V1ObjectMeta Metadata(string name, string ns) => new() { Name = name, NamespaceProperty = ns, Labels = Labels(name) };

    private static Dictionary<string, string> Labels(string name) => new() { [NameLabel] = name, [ManagedByLabel] = ManagedBy };

    private static V1Container Container(string containerName, KubernetesDeploymentOptions o, List<V1ContainerPort> ports)
    {
        var env = new List<V1EnvVar> { new() { Name = ModelNameVariable, Value = o.EffectiveModelName } };
        foreach (var (k, v) in o.Environment ?? new Dictionary<string, string>())
            if (k != ModelNameVariable) env.Add(new V1EnvVar { Name = k, Value = v });
        var resources = new Dictionary<string, ResourceQuantity> { ["cpu"] = Quantity(o.Cpu, "CPU"), ["memory"] = Quantity(o.Memory, "memory") };
        return new V1Container
        {
            Name = containerName,
            Image = o.Image,
            Ports = ports,
            Env = env,
            Resources = new V1ResourceRequirements { Requests = resources, Limits = new Dictionary<string, ResourceQuantity>(resources) },
            ReadinessProbe = Probe("/v2/health/ready", 5),
            LivenessProbe = Probe("/v2/health/live", 30),
        };
    }

    private static V1Probe Probe(string path, int initialDelay) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = HttpPort },
        InitialDelaySeconds = initialDelay,
        PeriodSeconds = 10,
    };

    private static ResourceQuantity Quantity(string value, string what)
    {
        try
        {
            var q = new ResourceQuantity(value);
            _ = q.ToDecimal(); // parses the text; an invalid quantity throws here
            return q;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            throw new ArgumentException($"'{value}' is not a Kubernetes {what} quantity (such as \"500m\", \"2\", \"512Mi\", \"2Gi\").", ex);
        }
    }
}
