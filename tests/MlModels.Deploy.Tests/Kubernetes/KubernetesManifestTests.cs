using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Json.Schema;
using k8s;
using k8s.Models;
using MlModels.Core.Tests;
using MlModels.Deploy.Kubernetes;
using YamlDotNet.RepresentationModel;

namespace MlModels.Deploy.Tests.Kubernetes;

/// <summary>
/// The manifests as a cluster would read them: the plain objects strictly through the client library's typed models
/// (unknown fields refused), the InferenceService against KServe's CRD schema (tests/specs/kserve) with unknown fields refused.
/// </summary>
[Trait("Category", "Fast")]
public class KubernetesManifestTests
{
    private static KubernetesDeploymentOptions Options(KubernetesWorkloadKind kind, int min = 1, int max = 3) => new()
    {
        Name = "churn",
        Image = "registry.example.com/churn:1.0",
        Kind = kind,
        MinReplicas = min,
        MaxReplicas = max,
        Cpu = "500m",
        Memory = "1Gi",
        ModelName = "churn-model",
        Environment = new Dictionary<string, string> { ["MLMODELS_WORKERS"] = "2" },
    };

    // ---- plain objects: strict YAML and JSON through the client's models ----------------------------------------------

    [Fact]
    public void PlainManifests_RoundTripThroughTheClientsTypedModels_WithUnknownFieldsRefused()
    {
        var objects = KubernetesManifests.For(Options(KubernetesWorkloadKind.Deployment), "models");
        var yaml = KubernetesManifests.ToYaml(objects);
        // strict: YamlDotNet throws on a member the model lacks.
        var loaded = KubernetesYaml.LoadAllFromString(yaml, null, true);
        Assert.Collection(loaded,
            d => Assert.IsType<V1Deployment>(d),
            s => Assert.IsType<V1Service>(s),
            h => Assert.IsType<V2HorizontalPodAutoscaler>(h));
        Assert.Equal(yaml, KubernetesYaml.SerializeAll(loaded));

        // The JSON the API receives, read back with unmapped members disallowed.
        Assert.NotNull(KubernetesJson.Deserialize<V1Deployment>(KubernetesJson.Serialize(objects[0]), StrictOf<V1Deployment>()));
        Assert.NotNull(KubernetesJson.Deserialize<V1Service>(KubernetesJson.Serialize(objects[1]), StrictOf<V1Service>()));
        Assert.NotNull(KubernetesJson.Deserialize<V2HorizontalPodAutoscaler>(KubernetesJson.Serialize(objects[2]),
            StrictOf<V2HorizontalPodAutoscaler>()));
    }

    [Fact]
    public void StrictLoading_RefusesAnUnknownField()
    {
        var yaml = KubernetesManifests.ToYaml([KubernetesManifests.Deployment(Options(KubernetesWorkloadKind.Deployment), "models")])
            .Replace("  replicas: 1", "  replicas: 1\n  replicaz: 2", StringComparison.Ordinal);
        Assert.Contains("replicaz", yaml, StringComparison.Ordinal);
        Assert.ThrowsAny<YamlDotNet.Core.YamlException>(() => KubernetesYaml.LoadAllFromString(yaml, null, true));
        var json = KubernetesJson.Serialize(KubernetesManifests.Deployment(Options(KubernetesWorkloadKind.Deployment), "models"))
            .Replace("\"replicas\":1", "\"replicas\":1,\"replicaz\":2", StringComparison.Ordinal);
        Assert.Throws<JsonException>(() => KubernetesJson.Deserialize<V1Deployment>(json, StrictOf<V1Deployment>()));
    }

    [Fact]
    public void Deployment_ServesTheModelImagesPortsProbesAndModelName()
    {
        var d = KubernetesManifests.Deployment(Options(KubernetesWorkloadKind.Deployment, 2, 5), "models");
        Assert.Equal("models", d.Metadata.NamespaceProperty);
        Assert.Equal("churn", d.Metadata.Labels["app.kubernetes.io/name"]);
        Assert.Equal("MlModels", d.Metadata.Labels["app.kubernetes.io/managed-by"]);
        Assert.Equal(2, d.Spec.Replicas);
        Assert.Equal("churn", d.Spec.Selector.MatchLabels["app.kubernetes.io/name"]);
        Assert.Equal(d.Spec.Selector.MatchLabels["app.kubernetes.io/name"], d.Spec.Template.Metadata.Labels["app.kubernetes.io/name"]);
        var c = Assert.Single(d.Spec.Template.Spec.Containers);
        Assert.Equal("registry.example.com/churn:1.0", c.Image);
        Assert.Equal([8080, 8081], c.Ports.Select(p => p.ContainerPort));
        Assert.Equal("/v2/health/ready", c.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/v2/health/live", c.LivenessProbe.HttpGet.Path);
        Assert.Equal("8080", c.ReadinessProbe.HttpGet.Port.Value);
        Assert.Equal("churn-model", c.Env.Single(e => e.Name == "MLMODELS_MODEL_NAME").Value);
        Assert.Equal("2", c.Env.Single(e => e.Name == "MLMODELS_WORKERS").Value);
        Assert.Equal("500m", c.Resources.Requests["cpu"].ToString());
        Assert.Equal("1Gi", c.Resources.Limits["memory"].ToString());

        var s = KubernetesManifests.Service(Options(KubernetesWorkloadKind.Deployment), "models");
        Assert.Equal([(8080, "http"), (8081, "grpc")], s.Spec.Ports.Select(p => (p.Port, p.Name)));
        Assert.Equal("kubernetes.io/h2c", s.Spec.Ports[1].AppProtocol);
        Assert.Equal("churn", s.Spec.Selector["app.kubernetes.io/name"]);

        var h = KubernetesManifests.Autoscaler(Options(KubernetesWorkloadKind.Deployment, 2, 5), "models")!;
        Assert.Equal((2, 5), (h.Spec.MinReplicas, h.Spec.MaxReplicas));
        Assert.Equal(("apps/v1", "Deployment", "churn"), (h.Spec.ScaleTargetRef.ApiVersion, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name));
        // A fixed replica count needs no autoscaler.
        Assert.Null(KubernetesManifests.Autoscaler(Options(KubernetesWorkloadKind.Deployment, 2, 2), "models"));
        Assert.Equal(2, KubernetesManifests.For(Options(KubernetesWorkloadKind.Deployment, 2, 2), "models").Count);
    }

    [Theory]
    [InlineData("Churn", "models")]
    [InlineData("churn_model", "models")]
    [InlineData("1churn", "models")]
    [InlineData("churn-", "models")]
    [InlineData("churn", "Models")]
    [InlineData("churn", "-models")]
    public void InvalidNames_AreRefusedBeforeAnything(string name, string ns)
    {
        var ex = Assert.Throws<ArgumentException>(() => KubernetesManifests.For(Options(KubernetesWorkloadKind.Deployment) with { Name = name }, ns));
        Assert.Contains(name == "churn" ? ns : name, ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => KubernetesNames.ValidateName(new string('a', 64)));
    }

    [Fact]
    public void BadReplicaBoundsAndQuantities_AreRefused()
    {
        Assert.Throws<ArgumentException>(() => KubernetesManifests.For(Options(KubernetesWorkloadKind.Deployment, 3, 2), "models"));
        Assert.Throws<ArgumentException>(() => KubernetesManifests.For(Options(KubernetesWorkloadKind.Deployment, 0, 2), "models"));
        // KServe scales to zero.
        Assert.Single(KubernetesManifests.For(Options(KubernetesWorkloadKind.InferenceService, 0, 2), "models"));
        var ex = Assert.Throws<ArgumentException>(() =>
            KubernetesManifests.For(Options(KubernetesWorkloadKind.Deployment) with { Memory = "two gigs" }, "models"));
        Assert.Contains("two gigs", ex.Message, StringComparison.Ordinal);
    }

    // ---- InferenceService against KServe's CRD --------------------------------------------------------------------------

    [Fact]
    public void InferenceService_IsValidAgainstKServesCrdSchema()
    {
        var yaml = KubernetesManifests.ToYaml(KubernetesManifests.For(Options(KubernetesWorkloadKind.InferenceService, 0, 4), "models"));
        var doc = YamlToJson(yaml);
        AssertValid(doc);
        Assert.Equal("serving.kserve.io/v1beta1", (string?)doc["apiVersion"]);
        var predictor = doc["spec"]!["predictor"]!;
        Assert.Equal(0L, (long)predictor["minReplicas"]!);
        Assert.Equal(4L, (long)predictor["maxReplicas"]!);
        var container = predictor["containers"]![0]!;
        Assert.Equal("kserve-container", (string?)container["name"]);
        // KServe reads the first port; Knative (Serverless mode) takes one port per container.
        var port = Assert.Single(container["ports"]!.AsArray());
        Assert.Equal((8080L, "http1"), ((long)port!["containerPort"]!, (string?)port["name"]));
        Assert.Equal("/v2/health/ready", (string?)container["readinessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("churn-model", (string?)container["env"]!.AsArray().Single(e => (string?)e!["name"] == "MLMODELS_MODEL_NAME")!["value"]);
        Assert.Equal("500m", (string?)container["resources"]!["requests"]!["cpu"]);
    }

    [Fact]
    public void CrdValidation_RefusesUnknownAndMistypedFields()
    {
        var doc = YamlToJson(KubernetesManifests.ToYaml(KubernetesManifests.For(Options(KubernetesWorkloadKind.InferenceService), "models")));
        var unknown = doc.DeepClone().AsObject();
        unknown["spec"]!["predictor"]!["protocolVersionz"] = "v2";
        Assert.False(Evaluate(unknown).IsValid);
        var inContainer = doc.DeepClone().AsObject();
        inContainer["spec"]!["predictor"]!["containers"]![0]!["portz"] = new JsonArray();
        Assert.False(Evaluate(inContainer).IsValid);
        var mistyped = doc.DeepClone().AsObject();
        mistyped["spec"]!["predictor"]!["minReplicas"] = "one";
        Assert.False(Evaluate(mistyped).IsValid);
    }

    private static JsonSerializerOptions StrictOf<T>()
    {
        // The client's own options (its converters for quantities, int-or-string, dates), with unmapped members refused.
        JsonSerializerOptions? captured = null;
        KubernetesJson.AddJsonOptions(o => captured = new JsonSerializerOptions(o) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow });
        return captured!;
    }

    private static readonly Lazy<JsonSchema> Crd = new(LoadCrd);

    private static JsonSchema LoadCrd()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(TestPaths.RepoRoot, "tests/specs/kserve/serving.kserve.io_inferenceservices.yaml")))
            yaml.Load(reader);
        var crd = ToJson(yaml.Documents[0].RootNode)!;
        var version = crd["spec"]!["versions"]!.AsArray().Single(v => (string?)v!["name"] == "v1beta1")!;
        var schema = version["schema"]!["openAPIV3Schema"]!.DeepClone();
        Close(schema);
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        return JsonSchema.FromText(schema.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
    }

    /// <summary>OpenAPI v3 (Kubernetes' structural schema) as JSON Schema, closed where the CRD does not keep unknown fields.</summary>
    private static void Close(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["x-kubernetes-int-or-string"] is JsonValue ios && ios.GetValue<bool>())
                {
                    o.Remove("type");
                    o["anyOf"] = new JsonArray(new JsonObject { ["type"] = "integer" }, new JsonObject { ["type"] = "string" });
                }
                var preserve = o["x-kubernetes-preserve-unknown-fields"] is JsonValue p && p.GetValue<bool>();
                if (o["properties"] is JsonObject && !preserve && !o.ContainsKey("additionalProperties")) o["additionalProperties"] = false;
                foreach (var key in o.Select(kv => kv.Key).Where(k => k.StartsWith("x-kubernetes-", StringComparison.Ordinal)).ToList()) o.Remove(key);
                foreach (var (key, child) in o.ToList())
                {
                    // Under properties the keys are field names, not keywords; recurse into each field's schema.
                    if (key == "properties" && child is JsonObject props) foreach (var (_, field) in props.ToList()) Close(field);
                    else Close(child);
                }
                break;
            case JsonArray a:
                foreach (var child in a) Close(child);
                break;
        }
    }

    private static EvaluationResults Evaluate(JsonNode doc)
    {
        using var instance = JsonDocument.Parse(doc.ToJsonString());
        return Crd.Value.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    private static void AssertValid(JsonNode doc)
    {
        var result = Evaluate(doc);
        Assert.True(result.IsValid, "The CRD refuses the InferenceService:\n" + string.Join("\n", (result.Details ?? [])
            .Where(d => d.Errors != null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))) + "\n" + doc.ToJsonString());
    }

    /// <summary>One YAML document as JSON, plain scalars typed as YAML 1.2's core schema types them (numbers, booleans, null).</summary>
    private static JsonObject YamlToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return (JsonObject)ToJson(Assert.Single(stream.Documents).RootNode)!;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode s when s.Style != YamlDotNet.Core.ScalarStyle.Plain => JsonValue.Create(s.Value),
        YamlScalarNode { Value: "true" or "false" } s => JsonValue.Create(s.Value == "true"),
        YamlScalarNode { Value: null or "null" or "~" or "" } => null,
        YamlScalarNode s when long.TryParse(s.Value, out var l) => JsonValue.Create(l),
        YamlScalarNode s when double.TryParse(s.Value, System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => null,
    };
}
