using System.Text.Json.Serialization;
using k8s.Models;

namespace MlModels.Deploy.Kubernetes;

/// <summary>
/// The part of KServe's <c>serving.kserve.io/v1beta1</c> InferenceService the module writes and reads: a predictor of
/// custom containers with its replica bounds, and the status' url and conditions. Shaped as the client's own models are
/// (settable properties, camelCase JSON names), so <c>KubernetesJson</c> and <c>KubernetesYaml</c> write it as they write
/// a Deployment.
/// </summary>
public sealed class InferenceService
{
    public const string Group = "serving.kserve.io";
    public const string Version = "v1beta1";
    public const string Plural = "inferenceservices";
    public const string ResourceKind = "InferenceService";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = Group + "/" + Version;

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = ResourceKind;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public InferenceServiceSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public InferenceServiceStatus? Status { get; set; }
}

public sealed class InferenceServiceSpec
{
    [JsonPropertyName("predictor")]
    public PredictorSpec Predictor { get; set; } = new();
}

public sealed class PredictorSpec
{
    [JsonPropertyName("minReplicas")]
    public int? MinReplicas { get; set; }

    [JsonPropertyName("maxReplicas")]
    public int? MaxReplicas { get; set; }

    [JsonPropertyName("containers")]
    public IList<V1Container> Containers { get; set; } = [];
}

/// <summary>What KServe reports: the external URL and Knative-style conditions (Ready, PredictorReady, IngressReady).</summary>
public sealed class InferenceServiceStatus
{
    [JsonPropertyName("url")]
    public string? Url { get; set; }

    [JsonPropertyName("conditions")]
    public IList<InferenceServiceCondition>? Conditions { get; set; }
}

public sealed class InferenceServiceCondition
{
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("status")]
    public string? Status { get; set; }

    [JsonPropertyName("reason")]
    public string? Reason { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }
}
