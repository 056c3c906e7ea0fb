using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MlModels.KubernetesFake;

/// <summary>
/// An in-process stand-in for the Kubernetes API server endpoints the module calls, written from the Kubernetes API
/// documentation (the API conventions: resource paths, create/get/replace/delete/list semantics, resourceVersion and
/// optimistic concurrency; and the Status object that errors carry), not from a server's code. It implements, for
/// Deployments (apps/v1), Services (v1), HorizontalPodAutoscalers (autoscaling/v2) and, when <see cref="KServeInstalled"/>,
/// KServe InferenceServices (serving.kserve.io/v1beta1), in namespaces it knows:
/// POST on a collection (201 with uid, resourceVersion, generation 1; 409 AlreadyExists for a taken name; 404 NotFound
/// `namespaces "x" not found` for a namespace that does not exist; 400 for a body whose apiVersion/kind or namespace
/// disagree with the path; 422 Invalid for a name that is not a DNS label or a resourceVersion set on create);
/// GET of one object (404 NotFound naming it); PUT (404 when missing; 422 when a custom resource's update lacks
/// metadata.resourceVersion; 409 Conflict for a stale resourceVersion; 422 for a Service whose spec.clusterIP changes;
/// generation bumped when the spec changes, status kept); DELETE (200 with a Status Success, or the Service itself for a Service, as the API reference documents; 404 when missing); list with an
/// equality labelSelector. A bearer token is required (401 otherwise). Any other path answers 404 "the server could not
/// find the requested resource" with no details, as the server does for a resource type it does not serve (a missing CRD).
/// Controllers are simulated only as far as readiness: after <see cref="PollsUntilReady"/> reads, a Deployment's status
/// reports its replicas available and an InferenceService's condition Ready True with a status.url; <see cref="NeverReady"/>
/// keeps them pending. It does not check a body's schema (the manifests are checked against the client's models and the
/// CRD elsewhere), admission, RBAC, watch, patch or field selectors. Every request is recorded in <see cref="Calls"/>.
/// </summary>
public sealed partial class KubeApiFake
{
    private sealed record Resource(string Group, string Version, string Plural, string Kind, bool Custom);

    private static readonly Resource[] Resources =
    [
        new("apps", "v1", "deployments", "Deployment", false),
        new("", "v1", "services", "Service", false),
        new("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", false),
        new("serving.kserve.io", "v1beta1", "inferenceservices", "InferenceService", true),
    ];

    private readonly object _gate = new();
    private readonly Dictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _reads = new(StringComparer.Ordinal);
    private long _version = 1000;
    private int _ip = 10;

    /// <summary>The bearer token requests must carry.</summary>
    public string Token { get; set; } = "fake-kube-token";

    public HashSet<string> Namespaces { get; } = new(StringComparer.Ordinal) { "default", "models" };
    public bool KServeInstalled { get; set; } = true;
    public int PollsUntilReady { get; set; } = 1;
    public bool NeverReady { get; set; }
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>A handler for the official client (a new one per client: the client chains it to its own inner handler).</summary>
    public DelegatingHandler CreateHandler() => new FakeHandler(this);

    /// <summary>The stored object (as the server holds it), or null.</summary>
    public JsonObject? Find(string plural, string ns, string name)
    {
        lock (_gate) return _objects.TryGetValue(Key(plural, ns, name), out var o) ? (JsonObject)o.DeepClone() : null;
    }

    public IReadOnlyList<string> Keys()
    {
        lock (_gate) return [.. _objects.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>Puts an object in place as if another client had made it (for conflict tests).</summary>
    public void Seed(string plural, string ns, JsonObject obj)
    {
        lock (_gate)
        {
            var meta = (JsonObject)obj["metadata"]!;
            meta["namespace"] = ns;
            meta["resourceVersion"] = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
            meta["generation"] = 1L;
            _objects[Key(plural, ns, (string)meta["name"]!)] = obj;
        }
    }

    public async Task<HttpResponseMessage> HandleAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var path = request.RequestUri!.AbsolutePath;
        Calls.Enqueue($"{request.Method} {path}");
        if (request.Headers.Authorization is not { Scheme: "Bearer" } auth || auth.Parameter != Token)
            return Status(HttpStatusCode.Unauthorized, "Unauthorized", "Unauthorized");
        var body = request.Content == null ? null : await request.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        var m = PathPattern().Match(path);
        var resource = m.Success ? Resources.FirstOrDefault(r => r.Group == m.Groups["group"].Value && r.Version == m.Groups["version"].Value
            && r.Plural == m.Groups["plural"].Value) : null;
        if (resource == null || (resource.Custom && !KServeInstalled) || (m.Groups["core"].Success != (resource.Group == "")))
            return Status(HttpStatusCode.NotFound, "NotFound", "the server could not find the requested resource");
        var ns = m.Groups["ns"].Value;
        var name = m.Groups["name"].Success ? m.Groups["name"].Value : null;
        lock (_gate)
        {
            return (request.Method.Method, name) switch
            {
                ("POST", null) => Create(resource, ns, body),
                ("GET", null) => List(resource, ns, request.RequestUri),
                ("GET", _) => Read(resource, ns, name!),
                ("PUT", _) => Replace(resource, ns, name!, body),
                ("DELETE", _) => Delete(resource, ns, name!),
                _ => Status(HttpStatusCode.MethodNotAllowed, "MethodNotAllowed", $"the server does not allow this method on the requested resource"),
            };
        }
    }

    private HttpResponseMessage Create(Resource r, string ns, string? body)
    {
        if (Parse(body) is not { } obj) return Status(HttpStatusCode.BadRequest, "BadRequest", "the body of the request was not a JSON object");
        if (Mismatch(r, obj, ns) is { } bad) return bad;
        var meta = obj["metadata"] as JsonObject ?? new JsonObject();
        var name = (string?)meta["name"];
        if (name == null || !DnsLabel().IsMatch(name) || name.Length > 63)
            return Invalid(r, name ?? "", $"metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'");
        if (meta["resourceVersion"] != null)
            return Invalid(r, name, "metadata.resourceVersion: Invalid value: resourceVersion should not be set on objects to be created");
        if (!Namespaces.Contains(ns))
            return Status(HttpStatusCode.NotFound, "NotFound", $"namespaces \"{ns}\" not found", new JsonObject { ["name"] = ns, ["kind"] = "namespaces" });
        var key = Key(r.Plural, ns, name);
        if (_objects.ContainsKey(key))
            return Status(HttpStatusCode.Conflict, "AlreadyExists", $"{Qualified(r)} \"{name}\" already exists", Details(r, name));
        meta["namespace"] = ns;
        meta["uid"] = Guid.NewGuid().ToString();
        meta["resourceVersion"] = Next();
        meta["generation"] = 1L;
        meta["creationTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        obj["metadata"] = meta;
        if (r.Kind == "Service" && obj["spec"] is JsonObject spec && spec["clusterIP"] == null)
        {
            var ip = $"10.96.0.{++_ip}";
            spec["clusterIP"] = ip;
            spec["clusterIPs"] = new JsonArray(ip);
        }
        _objects[key] = obj;
        _reads[key] = 0;
        return Json(HttpStatusCode.Created, obj);
    }

    private HttpResponseMessage Read(Resource r, string ns, string name)
    {
        var key = Key(r.Plural, ns, name);
        if (!_objects.TryGetValue(key, out var obj))
            return Status(HttpStatusCode.NotFound, "NotFound", $"{Qualified(r)} \"{name}\" not found", Details(r, name));
        _reads[key] = _reads.GetValueOrDefault(key) + 1;
        if (!NeverReady && _reads[key] >= PollsUntilReady) Reconcile(r, obj);
        return Json(HttpStatusCode.OK, obj);
    }

    private HttpResponseMessage Replace(Resource r, string ns, string name, string? body)
    {
        if (Parse(body) is not { } obj) return Status(HttpStatusCode.BadRequest, "BadRequest", "the body of the request was not a JSON object");
        if (Mismatch(r, obj, ns) is { } bad) return bad;
        var meta = obj["metadata"] as JsonObject ?? new JsonObject();
        if ((string?)meta["name"] != name)
            return Status(HttpStatusCode.BadRequest, "BadRequest", "the name of the object does not match the name on the URL");
        var key = Key(r.Plural, ns, name);
        if (!_objects.TryGetValue(key, out var live))
            return Status(HttpStatusCode.NotFound, "NotFound", $"{Qualified(r)} \"{name}\" not found", Details(r, name));
        var liveMeta = (JsonObject)live["metadata"]!;
        var rv = (string?)meta["resourceVersion"];
        if (rv == null && r.Custom)
            return Invalid(r, name, "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update");
        if (rv != null && rv != (string?)liveMeta["resourceVersion"])
            return Status(HttpStatusCode.Conflict, "Conflict",
                $"Operation cannot be fulfilled on {Qualified(r)} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                Details(r, name));
        if (r.Kind == "Service" && obj["spec"] is JsonObject spec)
        {
            var liveIp = (string?)live["spec"]?["clusterIP"];
            var ip = (string?)spec["clusterIP"];
            if (ip != null && ip != liveIp) return Invalid(r, name, "spec.clusterIP: Invalid value: field is immutable");
            spec["clusterIP"] = liveIp;
            spec["clusterIPs"] = new JsonArray(liveIp);
        }
        var generation = (long?)liveMeta["generation"] ?? 1;
        if (!JsonNode.DeepEquals(obj["spec"], live["spec"])) generation++;
        meta["namespace"] = ns;
        meta["uid"] = liveMeta["uid"]?.DeepClone();
        meta["creationTimestamp"] = liveMeta["creationTimestamp"]?.DeepClone();
        meta["resourceVersion"] = Next();
        meta["generation"] = generation;
        obj["metadata"] = meta;
        obj["status"] = live["status"]?.DeepClone(); // PUT on the main resource leaves status to the controllers
        _objects[key] = obj;
        _reads[key] = 0;
        return Json(HttpStatusCode.OK, obj);
    }

    private HttpResponseMessage Delete(Resource r, string ns, string name)
    {
        var key = Key(r.Plural, ns, name);
        if (!_objects.Remove(key, out var obj))
            return Status(HttpStatusCode.NotFound, "NotFound", $"{Qualified(r)} \"{name}\" not found", Details(r, name));
        // The API reference answers a Service's DELETE with the Service, the others' with a Status.
        if (r.Kind == "Service") return Json(HttpStatusCode.OK, obj);
        var details = Details(r, name);
        details["uid"] = obj["metadata"]?["uid"]?.DeepClone();
        return Json(HttpStatusCode.OK, new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success", ["details"] = details,
        });
    }

    private HttpResponseMessage List(Resource r, string ns, Uri uri)
    {
        var selector = System.Web.HttpUtility.ParseQueryString(uri.Query)["labelSelector"];
        var wanted = (selector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToList();
        var items = new JsonArray();
        foreach (var (key, obj) in _objects.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!key.StartsWith($"{r.Plural}/{ns}/", StringComparison.Ordinal)) continue;
            var labels = obj["metadata"]?["labels"] as JsonObject;
            if (wanted.All(w => w.Length == 2 && (string?)labels?[w[0]] == w[1])) items.Add(obj.DeepClone());
        }
        return Json(HttpStatusCode.OK, new JsonObject
        {
            ["apiVersion"] = r.Group == "" ? r.Version : $"{r.Group}/{r.Version}",
            ["kind"] = r.Kind + "List",
            ["metadata"] = new JsonObject { ["resourceVersion"] = _version.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            ["items"] = items,
        });
    }

    // What the controllers would report once the pods are up.
    private static void Reconcile(Resource r, JsonObject obj)
    {
        var meta = (JsonObject)obj["metadata"]!;
        if (r.Kind == "Deployment")
        {
            var replicas = (int?)obj["spec"]?["replicas"] ?? 1;
            obj["status"] = new JsonObject
            {
                ["observedGeneration"] = meta["generation"]?.DeepClone(), ["replicas"] = replicas, ["updatedReplicas"] = replicas,
                ["readyReplicas"] = replicas, ["availableReplicas"] = replicas,
            };
        }
        else if (r.Kind == "InferenceService")
        {
            var name = (string)meta["name"]!;
            var ns = (string)meta["namespace"]!;
            obj["status"] = new JsonObject
            {
                ["url"] = $"http://{name}.{ns}.example.com",
                ["observedGeneration"] = meta["generation"]?.DeepClone(),
                ["conditions"] = new JsonArray(
                    new JsonObject { ["type"] = "PredictorReady", ["status"] = "True" },
                    new JsonObject { ["type"] = "Ready", ["status"] = "True" }),
            };
        }
    }

    private HttpResponseMessage? Mismatch(Resource r, JsonObject obj, string ns)
    {
        var apiVersion = r.Group == "" ? r.Version : $"{r.Group}/{r.Version}";
        if ((string?)obj["apiVersion"] != apiVersion || (string?)obj["kind"] != r.Kind)
            return Status(HttpStatusCode.BadRequest, "BadRequest",
                $"the API version in the data ({obj["apiVersion"]}) and kind ({obj["kind"]}) do not match the request ({apiVersion}, {r.Kind})");
        if (obj["metadata"]?["namespace"] is { } given && (string?)given != ns)
            return Status(HttpStatusCode.BadRequest, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
        return null;
    }

    private static JsonObject? Parse(string? body)
    {
        try { return body == null ? null : JsonNode.Parse(body) as JsonObject; }
        catch (JsonException) { return null; }
    }

    private string Next() => (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Key(string plural, string ns, string name) => $"{plural}/{ns}/{name}";

    private static string Qualified(Resource r) => r.Group == "" ? r.Plural : $"{r.Plural}.{r.Group}";

    private static JsonObject Details(Resource r, string name) => new() { ["name"] = name, ["group"] = r.Group, ["kind"] = r.Plural };

    private static HttpResponseMessage Invalid(Resource r, string name, string cause) =>
        Status(HttpStatusCode.UnprocessableEntity, "Invalid", $"{r.Kind} \"{name}\" is invalid: {cause}", Details(r, name));

    /// <summary>A failure as the API server answers it: a Status object with the HTTP code, a reason and a message.</summary>
    private static HttpResponseMessage Status(HttpStatusCode code, string reason, string message, JsonObject? details = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Failure",
            ["message"] = message, ["reason"] = reason, ["code"] = (int)code,
        };
        if (details != null) status["details"] = details;
        return Json(code, status);
    }

    private static HttpResponseMessage Json(HttpStatusCode code, JsonNode body) =>
        new(code) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };

    [GeneratedRegex("^/(?:(?<core>api)/(?<version>v1)|apis/(?<group>[^/]+)/(?<version>[^/]+))/namespaces/(?<ns>[^/]+)/(?<plural>[^/]+)(?:/(?<name>[^/]+))?$")]
    private static partial Regex PathPattern();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    private sealed class FakeHandler(KubeApiFake fake) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await fake.HandleAsync(request, cancellationToken).ConfigureAwait(false);
            response.RequestMessage = request; // as HttpClientHandler sets it; the client reads it
            return response;
        }
    }
}
