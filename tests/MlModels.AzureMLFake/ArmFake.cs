using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MlModels.AzureMLFake;

/// <summary>
/// An in-process stand-in for Azure Resource Manager's Microsoft.MachineLearningServices 2025-12-01 operations that the
/// module calls. It answers with Microsoft's own examples (tests/specs/azureml), with the request's names and
/// properties filled in. What it checks, and no more: the api-version, a bearer token, that the path is one of the
/// operations it knows (a subset of the swagger; any other is a violation), resource names against the swagger's
/// pattern, and per resource the properties the module must send (a model version's modelType mlflow_model and a
/// datastore modelUri under which files were uploaded, a code version's storage codeUri, an environment's image or build
/// context, an endpoint's location and authMode, a deployment's location and model), and that every top-level and
/// <c>properties</c> member of a PUT body appears in Microsoft's examples for that resource (request or responses):
/// the fake knows no more of the schema than those examples, so it refuses the rest (code versions have no PUT example
/// and are not held to one). It does not check property types, nested members, or the swagger's full schemas. Endpoint and deployment PUTs are
/// long-running (201 + Azure-AsyncOperation + timeout), DELETEs answer 202 + Location + Retry-After, and a blob host
/// keeps uploaded files byte for byte. Scoring (POST {endpoint}/score) checks the key or token and the input_data
/// form, and answers each row's first value doubled: a marker that shows rows travelled in order, not the model's
/// answer (the module's scoring is checked against MLflow's answers elsewhere). Any violation is recorded and
/// answered with 400, so a test fails on it. In-process it is an HttpMessageHandler (hosts *.fake.test); <see cref="ArmHttpServer"/>
/// serves the same fake on 127.0.0.1 for tests that reach it by URL (scoring under /inference/{endpoint}/).
/// </summary>
public sealed partial class ArmFake : HttpMessageHandler
{
    public static readonly Uri ArmBase = new("https://management.fake.test/");

    /// <param name="examples">tests/specs/azureml/2025-12-01/examples; default: found above this assembly.</param>
    /// <param name="baseUri">Where this fake is reached: ARM, operation polls, and (over HTTP) scoring.</param>
    public ArmFake(string? examples = null, Uri? baseUri = null)
    {
        _examples = examples ?? FindExamples();
        BaseUri = baseUri ?? ArmBase;
    }

    /// <summary>The Resource Manager URL this fake answers on.</summary>
    public Uri BaseUri { get; }
    private readonly string _examples;
    /// <summary>The Retry-After of every poll; null: 15 s for Azure-AsyncOperation and 10 s for Location (Microsoft's range is 10 to 600 s). Lower it to run a real-time test quickly.</summary>
    public int? RetryAfterSeconds { get; set; }
    private bool OverHttp => BaseUri.Scheme == "http";
    public const string BlobHost = "blob.fake.test";
    public const string Token = "fake-arm-token";
    public const string Sub = "00000000-1111-2222-3333-444444444444";
    public const string Rg = "test-rg";
    public const string WsName = "my-aml-workspace";
    private static string FindExamples()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "specs", "azureml", "2025-12-01", "examples");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("tests/specs/azureml/2025-12-01/examples was not found above " + AppContext.BaseDirectory);
    }

    public List<string> Violations { get; } = [];
    public List<string> Calls { get; } = [];
    public ConcurrentDictionary<string, byte[]> Blobs { get; } = new();
    public Dictionary<string, JsonObject> Resources { get; } = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (int PollsLeft, string Final, string? Error, string ResourcePath)> _operations = new();
    private readonly Dictionary<string, int> _throttle = new();

    /// <summary>Deployment names whose provisioning ends Failed.</summary>
    public HashSet<string> FailingDeployments { get; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>Polls an operation answers InProgress before it ends.</summary>
    public int PollsPerOperation { get; set; } = 2;
    /// <summary>The datastore's credentials type (AccountKey or None) and the blob endpoint it names.</summary>
    public string DatastoreCredentials { get; set; } = "AccountKey";
    public string DatastoreKey { get; set; } = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    public bool WorkspaceExists { get; set; } = true;
    /// <summary>Whether a model version must point at files uploaded to this fake's blob host (off when Azurite holds them).</summary>
    public bool CheckUploads { get; set; } = true;

    /// <summary>Answers the next <paramref name="times"/> requests whose path ends with <paramref name="pathSuffix"/> with 429.</summary>
    public void Throttle(string pathSuffix, int times) => _throttle[pathSuffix] = times;

    public string WsPath => $"/subscriptions/{Sub}/resourceGroups/{Rg}/providers/Microsoft.MachineLearningServices/workspaces/{WsName}";

    private const string Name = "[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}";

    [GeneratedRegex("^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.MachineLearningServices/workspaces/(?<ws>[^/]+)(?<rest>/.*)?$")]
    private static partial Regex WorkspacePath();

    [GeneratedRegex("^" + Name + "$")]
    private static partial Regex NamePattern();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Bytes as sent: a blob is kept byte for byte; everything else is JSON text.
        var bytes = request.Content == null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        lock (this)
        {
            var response = request.RequestUri!.Host == BlobHost ? Blob(request, bytes) : Handle(request, bytes == null ? null : Encoding.UTF8.GetString(bytes));
            response.RequestMessage = request;
            return response;
        }
    }

    private HttpResponseMessage Handle(HttpRequestMessage request, string? body)
    {
        var url = request.RequestUri!;
        if (url.Host.EndsWith(".inference.fake.test", StringComparison.Ordinal) || OverHttp && url.AbsolutePath.StartsWith("/inference/", StringComparison.Ordinal))
            return Score(request, body);
        var method = request.Method.Method;
        var path = Uri.UnescapeDataString(url.AbsolutePath);
        Calls.Add($"{method} {path}{(url.Query.Contains("isDefault") ? "?isDefault=true" : "")}");
        if (request.Headers.Authorization is not { Scheme: "Bearer", Parameter: Token })
            return Violation($"{method} {path}: no bearer token");
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        if (query["api-version"] != "2025-12-01") return Violation($"{method} {path}: api-version is '{query["api-version"]}'");
        foreach (var (suffix, left) in _throttle.ToList())
            if (left > 0 && path.EndsWith(suffix, StringComparison.Ordinal))
            {
                _throttle[suffix] = left - 1;
                var r = Json(HttpStatusCode.TooManyRequests, new JsonObject { ["error"] = new JsonObject { ["code"] = "TooManyRequests", ["message"] = "Rate limit exceeded." } });
                r.Headers.Add("Retry-After", "7");
                return r;
            }
        if (path.StartsWith("/fake/operations/", StringComparison.Ordinal)) return Operation(path["/fake/operations/".Length..]);
        if (path.StartsWith("/fake/locations/", StringComparison.Ordinal)) return LocationPoll(path["/fake/locations/".Length..]);

        var m = WorkspacePath().Match(path);
        if (!m.Success) return Violation($"{method} {path}: not a workspace path");
        if (!WorkspaceExists || m.Groups["ws"].Value != WsName)
            return Json(HttpStatusCode.NotFound, new JsonObject { ["error"] = new JsonObject { ["code"] = "ResourceNotFound", ["message"] = $"The Resource 'Microsoft.MachineLearningServices/workspaces/{m.Groups["ws"].Value}' under resource group '{Rg}' was not found." } });
        var rest = m.Groups["rest"].Value;
        var segments = rest.Split('/', StringSplitOptions.RemoveEmptyEntries);
        JsonObject? json = null;
        if (body != null && method is "PUT" or "PATCH" or "POST" && body.Length > 0)
        {
            try { json = JsonNode.Parse(body) as JsonObject; }
            catch (JsonException) { return Violation($"{method} {path}: body is not JSON"); }
        }
        if (method is "PUT" && segments.Length > 0 && !NamePattern().IsMatch(segments[^1]))
            return Violation($"PUT {path}: name '{segments[^1]}' breaks the pattern");
        if (method is "PUT" && json != null && UnknownProperty(segments, json) is string unknown)
            return Violation($"PUT {path}: {unknown}");

        return (method, segments) switch
        {
            ("GET", []) => Example("Workspace/get.json", "200", o => { o["name"] = WsName; o["id"] = WsPath; }),
            ("GET", ["datastores"]) when query["isDefault"] == "true" => DatastoreList(),
            ("POST", ["datastores", var ds, "listSecrets"]) => Example("Datastore/listSecrets.json", "200", o => o["key"] = DatastoreKey),
            ("GET", ["models", var name, "versions"]) => List(rest + "/"),
            ("PUT", ["models", _, "versions", _]) => ModelVersion(rest, json),
            ("PUT", ["codes", _, "versions", _]) => CodeVersion(rest, json),
            ("PUT", ["environments", _, "versions", _]) => EnvironmentVersion(rest, json),
            ("GET", ["onlineEndpoints"]) => List(rest + "/", depth: 1),
            ("GET", ["onlineEndpoints", _]) or ("GET", ["onlineEndpoints", _, "deployments", _]) or ("GET", ["batchEndpoints", _]) or ("GET", ["batchEndpoints", _, "deployments", _]) or ("GET", ["jobs", _]) => Get(rest),
            ("GET", ["onlineEndpoints", var ep, "deployments"]) => List(rest + "/", depth: 1),
            ("PUT", ["onlineEndpoints", var ep]) => PutEndpoint(rest, json, "Workspace/OnlineEndpoint/createOrUpdate.json"),
            ("PUT", ["onlineEndpoints", var ep, "deployments", var dep]) => PutOnlineDeployment(rest, ep, dep, json),
            ("POST", ["onlineEndpoints", var ep, "deployments", var dep, "getLogs"]) => Logs(json, dep),
            ("POST", ["onlineEndpoints", var ep, "listKeys"]) => Exists(rest[..rest.LastIndexOf('/')]) ?? Example("../../2025-06-01/examples/Workspace/OnlineEndpoint/listKeys.json", "200", o => o["primaryKey"] = "key-" + ep),
            ("POST", ["onlineEndpoints", var ep, "token"]) => Exists(rest[..rest.LastIndexOf('/')]) ?? Example("Workspace/OnlineEndpoint/getToken.json", "200", o => o["accessToken"] = "aml-token-" + ep),
            ("DELETE", ["onlineEndpoints", _]) or ("DELETE", ["onlineEndpoints", _, "deployments", _]) or ("DELETE", ["batchEndpoints", _]) => Delete(rest),
            ("PUT", ["batchEndpoints", var ep]) => PutEndpoint(rest, json, "Workspace/BatchEndpoint/createOrUpdate.json"),
            ("PUT", ["batchEndpoints", var ep, "deployments", var dep]) => PutBatchDeployment(rest, json),
            _ => Violation($"{method} {path}: no such operation in the 2025-12-01 swagger subset"),
        };
    }

    /// <summary>An endpoint's data-plane URL: a host of its own in-process, a path under /inference/ over HTTP.</summary>
    private string Inference(string endpoint, string route) =>
        OverHttp ? new Uri(BaseUri, $"/inference/{endpoint}/{route}").ToString() : $"https://{endpoint}.eastus.inference.fake.test/{route}";

    private HttpResponseMessage DatastoreList() => Example("Datastore/list.json", "200", o =>
    {
        var ds = o["value"]![0]!.AsObject();
        ds["name"] = "workspaceblobstore";
        ds["id"] = WsPath + "/datastores/workspaceblobstore";
        var p = ds["properties"]!.AsObject();
        p["isDefault"] = true;
        p["accountName"] = "devstoreaccount1";
        p["containerName"] = "azureml-blobstore-test";
        p["credentials"] = DatastoreCredentials == "None" ? new JsonObject { ["credentialsType"] = "None" } : p["credentials"]!.DeepClone();
        o.Remove("nextLink");
    });

    private HttpResponseMessage ModelVersion(string rest, JsonObject? json)
    {
        var props = json?["properties"] as JsonObject;
        if (props == null) return Violation($"PUT {rest}: 'properties' is required");
        if (props["modelType"]?.GetValue<string>() != "mlflow_model") return Violation($"PUT {rest}: modelType is not mlflow_model");
        var uri = props["modelUri"]?.GetValue<string>() ?? "";
        if (!uri.StartsWith("azureml://subscriptions/" + Sub + "/resourcegroups/" + Rg + "/workspaces/" + WsName + "/datastores/workspaceblobstore/paths/LocalUpload/", StringComparison.Ordinal))
            return Violation($"PUT {rest}: modelUri '{uri}' is not a datastore path");
        var prefix = uri[(uri.IndexOf("/paths/", StringComparison.Ordinal) + 7)..];
        if (CheckUploads && !Blobs.Keys.Any(k => k.StartsWith("azureml-blobstore-test/" + prefix + "/", StringComparison.Ordinal) && k.EndsWith("/MLmodel", StringComparison.Ordinal)))
            return Violation($"PUT {rest}: nothing was uploaded under {prefix}");
        var existed = Resources.ContainsKey(rest);
        return Store(rest, "Workspace/ModelVersion/createOrUpdate.json", existed ? "200" : "201", json!);
    }

    private HttpResponseMessage CodeVersion(string rest, JsonObject? json)
    {
        if (json?["properties"] is not JsonObject props) return Violation($"PUT {rest}: 'properties' is required");
        var uri = props["codeUri"]?.GetValue<string>() ?? "";
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("https" or "azureml"))
            return Violation($"PUT {rest}: codeUri '{uri}' is not a storage URL");
        // No 2025-12-01 example of CodeVersions_CreateOrUpdate is stored: the answer is the request with its id and name, as ARM echoes a resource.
        var doc = new JsonObject { ["id"] = WsPath + rest, ["name"] = rest.Split('/')[^1], ["type"] = "Microsoft.MachineLearningServices/workspaces/codes/versions", ["properties"] = props.DeepClone() };
        var existed = Resources.ContainsKey(rest);
        Resources[rest] = doc;
        return Json(existed ? HttpStatusCode.OK : HttpStatusCode.Created, doc.DeepClone());
    }

    private HttpResponseMessage EnvironmentVersion(string rest, JsonObject? json)
    {
        if (json?["properties"] is not JsonObject props) return Violation($"PUT {rest}: 'properties' is required");
        if (props["image"] == null && props["build"] == null) return Violation($"PUT {rest}: an environment needs an image or a build context");
        if (props["build"] is JsonObject b && b["contextUri"] == null) return Violation($"PUT {rest}: build.contextUri is required");
        var existed = Resources.ContainsKey(rest);
        return Store(rest, "Workspace/EnvironmentVersion/createOrUpdate.json", existed ? "200" : "201", json!);
    }

    private HttpResponseMessage PutEndpoint(string rest, JsonObject? json, string example)
    {
        if (json?["location"] == null) return Violation($"PUT {rest}: 'location' is required");
        var props = json["properties"] as JsonObject;
        if (props == null) return Violation($"PUT {rest}: 'properties' is required");
        if (props["authMode"]?.GetValue<string>() is not ("AMLToken" or "Key" or "AADToken")) return Violation($"PUT {rest}: properties.authMode is required (AMLToken, Key, AADToken)");
        if (props["traffic"] is JsonObject traffic)
            foreach (var (dep, _) in traffic)
                if (!Resources.ContainsKey(rest + "/deployments/" + dep)) return Json(HttpStatusCode.BadRequest, Error("BadArgument", $"Traffic names deployment '{dep}', which does not exist."));
        var name = rest.Split('/')[^1];
        props["scoringUri"] = Inference(name, rest.StartsWith("/batch", StringComparison.Ordinal) ? "jobs" : "score");
        props["swaggerUri"] = Inference(name, "swagger.json");
        return LongRunningPut(rest, example, json, "Succeeded", null);
    }

    private HttpResponseMessage PutOnlineDeployment(string rest, string ep, string dep, JsonObject? json)
    {
        if (Exists(rest[..rest.IndexOf("/deployments", StringComparison.Ordinal)]) is { } missing) return missing;
        if (json?["location"] == null) return Violation($"PUT {rest}: 'location' is required");
        var props = json["properties"] as JsonObject;
        if (props == null) return Violation($"PUT {rest}: 'properties' is required");
        if (props["endpointComputeType"]?.GetValue<string>() is not ("Managed" or "Kubernetes")) return Violation($"PUT {rest}: discriminator endpointComputeType is required");
        if (props["scaleSettings"] is JsonObject s && s["scaleType"] == null) return Violation($"PUT {rest}: scaleSettings.scaleType is required");
        if (props["codeConfiguration"] is JsonObject c)
        {
            if (c["scoringScript"] == null) return Violation($"PUT {rest}: codeConfiguration.scoringScript is required");
            var codeId = c["codeId"]?.GetValue<string>();
            if (codeId == null || !codeId.Contains("/codes/", StringComparison.Ordinal) || !Resources.ContainsKey(codeId[codeId.IndexOf("/codes/", StringComparison.Ordinal)..]))
                return Violation($"PUT {rest}: codeConfiguration.codeId '{codeId}' is not a registered code version");
            var envId = props["environmentId"]?.GetValue<string>();
            if (envId == null || !envId.Contains("/environments/", StringComparison.Ordinal) || !Resources.ContainsKey(envId[envId.IndexOf("/environments/", StringComparison.Ordinal)..]))
                return Violation($"PUT {rest}: a scoring script needs environmentId of a registered environment version, not '{envId}'");
        }
        var model = props["model"]?.GetValue<string>();
        if (model == null || !Resources.ContainsKey(model[model.IndexOf("/models/", StringComparison.Ordinal)..]))
            return Violation($"PUT {rest}: model '{model}' is not a registered model version");
        if (props["instanceType"]?.GetValue<string>() is { } it && it.Contains("NoQuota", StringComparison.Ordinal))
            return Json(HttpStatusCode.BadRequest, Error("QuotaExceeded", $"Not enough quota available for {it} in SubscriptionId {Sub}. Current usage/limit: 4/4. Additional needed: 8."));
        var fails = FailingDeployments.Contains(dep);
        return LongRunningPut(rest, "OnlineDeployment/ManagedOnlineDeployment/createOrUpdate.json", json, fails ? "Failed" : "Succeeded",
            fails ? "ResourceNotReady: User container has crashed or terminated." : null);
    }

    private HttpResponseMessage PutBatchDeployment(string rest, JsonObject? json)
    {
        if (Exists(rest[..rest.IndexOf("/deployments", StringComparison.Ordinal)]) is { } missing) return missing;
        if (json?["location"] == null) return Violation($"PUT {rest}: 'location' is required");
        var props = json["properties"] as JsonObject;
        if (props == null) return Violation($"PUT {rest}: 'properties' is required");
        if (props["model"] is JsonObject mref && mref["referenceType"]?.GetValue<string>() is not ("Id" or "DataPath" or "OutputPath"))
            return Violation($"PUT {rest}: model.referenceType discriminator is required");
        return LongRunningPut(rest, "Workspace/BatchDeployment/createOrUpdate.json", json, "Succeeded", null);
    }

    private HttpResponseMessage LongRunningPut(string rest, string example, JsonObject json, string final, string? error)
    {
        var existed = Resources.ContainsKey(rest);
        var response = Store(rest, example, "201", json, existed ? "Updating" : "Creating");
        response.StatusCode = HttpStatusCode.Created;
        var id = Guid.NewGuid().ToString("N");
        _operations[id] = (PollsPerOperation, final, error, rest);
        response.Headers.Add("Azure-AsyncOperation", new Uri(BaseUri, $"/fake/operations/{id}?api-version=2025-12-01").ToString());
        response.Headers.Add("x-ms-async-operation-timeout", "PT1H");
        return response;
    }

    private HttpResponseMessage Operation(string id)
    {
        if (!_operations.TryGetValue(id, out var op)) return Violation($"poll of unknown operation {id}");
        if (op.PollsLeft > 0)
        {
            _operations[id] = op with { PollsLeft = op.PollsLeft - 1 };
            var pending = Json(HttpStatusCode.OK, new JsonObject { ["status"] = "InProgress" });
            pending.Headers.Add("Retry-After", (RetryAfterSeconds ?? 15).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return pending;
        }
        if (Resources.TryGetValue(op.ResourcePath, out var res)) res["properties"]!["provisioningState"] = op.Final;
        var done = new JsonObject { ["status"] = op.Final };
        if (op.Error != null) done["error"] = new JsonObject { ["code"] = op.Error.Split(':')[0], ["message"] = op.Error[(op.Error.IndexOf(':') + 2)..] };
        return Json(HttpStatusCode.OK, done);
    }

    private HttpResponseMessage Delete(string rest)
    {
        if (!Resources.ContainsKey(rest)) return new HttpResponseMessage(HttpStatusCode.NoContent);
        var id = Guid.NewGuid().ToString("N");
        _operations[id] = (PollsPerOperation, "Succeeded", null, rest);
        var response = new HttpResponseMessage(HttpStatusCode.Accepted);
        response.Headers.Location = new Uri(BaseUri, $"/fake/locations/{id}?api-version=2025-12-01");
        response.Headers.Add("Retry-After", (RetryAfterSeconds ?? 10).ToString(System.Globalization.CultureInfo.InvariantCulture));
        response.Headers.Add("x-ms-async-operation-timeout", "PT30M");
        if (Resources.TryGetValue(rest, out var res)) res["properties"]!["provisioningState"] = "Deleting";
        return response;
    }

    private HttpResponseMessage LocationPoll(string id)
    {
        if (!_operations.TryGetValue(id, out var op)) return Violation($"poll of unknown location {id}");
        if (op.PollsLeft > 0)
        {
            _operations[id] = op with { PollsLeft = op.PollsLeft - 1 };
            var pending = new HttpResponseMessage(HttpStatusCode.Accepted);
            pending.Headers.Add("Retry-After", (RetryAfterSeconds ?? 10).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return pending;
        }
        foreach (var key in Resources.Keys.Where(k => k == op.ResourcePath || k.StartsWith(op.ResourcePath + "/", StringComparison.Ordinal)).ToList())
            Resources.Remove(key);
        return new HttpResponseMessage(HttpStatusCode.OK);
    }

    private HttpResponseMessage Logs(JsonObject? json, string dep)
    {
        if (json == null) return Violation("getLogs: the DeploymentLogsRequest body is required");
        return Example("OnlineDeployment/getLogs.json", "200", o => o["content"] = $"{dep}: ModuleNotFoundError: No module named 'sklearn'\n{dep}: Worker exiting");
    }

    private HttpResponseMessage Get(string rest) =>
        Resources.TryGetValue(rest, out var res) ? Json(HttpStatusCode.OK, res.DeepClone()) : Json(HttpStatusCode.NotFound, Error("ResourceNotFound", $"{rest} was not found."));

    private HttpResponseMessage? Exists(string rest) => Resources.ContainsKey(rest) ? null : Json(HttpStatusCode.NotFound, Error("ResourceNotFound", $"{rest} was not found."));

    private HttpResponseMessage List(string prefix, int depth = 1) =>
        Json(HttpStatusCode.OK, new JsonObject
        {
            ["value"] = new JsonArray(Resources.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Key[prefix.Length..].Split('/').Length == depth)
                .Select(kv => (JsonNode)kv.Value.DeepClone()).ToArray()),
        });

    /// <summary>Stores a resource: the example's response with the request's body laid over it and its own id and name.</summary>
    private HttpResponseMessage Store(string rest, string example, string status, JsonObject request, string? state = null)
    {
        var doc = Load(example)["responses"]![status]!["body"]!.DeepClone().AsObject();
        foreach (var (k, v) in request) if (k != "properties") doc[k] = v?.DeepClone();
        var props = doc["properties"]!.AsObject();
        foreach (var key in props.Select(p => p.Key).ToList())
            if (key is not ("provisioningState" or "scoringUri" or "swaggerUri")) props.Remove(key);
        foreach (var (k, v) in (JsonObject)request["properties"]!) props[k] = v?.DeepClone();
        if (state != null) props["provisioningState"] = state;
        doc["name"] = rest.Split('/')[^1];
        doc["id"] = WsPath + rest;
        Resources[rest] = doc;
        return Json(status == "201" ? HttpStatusCode.Created : HttpStatusCode.OK, doc.DeepClone());
    }

    private HttpResponseMessage Score(HttpRequestMessage request, string? body)
    {
        var url = request.RequestUri!;
        var route = OverHttp ? url.AbsolutePath["/inference/".Length..].Split('/') : [url.Host.Split('.')[0], url.AbsolutePath.TrimStart('/')];
        var ep = route[0];
        Calls.Add(OverHttp ? $"POST {url.AbsolutePath}" : $"POST {url.Host}{url.AbsolutePath}");
        if (route[^1] == "jobs")
        {
            if (request.Headers.Authorization?.Parameter != Token) return Json(HttpStatusCode.Unauthorized, Error("Unauthorized", "no token"));
            var input = JsonNode.Parse(body!)!["properties"]?["InputData"] as JsonObject;
            if (input == null || input.Count == 0) return Json(HttpStatusCode.BadRequest, Error("BadArgument", "properties.InputData is required."));
            var job = "batchjob-" + Guid.NewGuid().ToString("N")[..8];
            var res = new JsonObject { ["id"] = WsPath + "/jobs/" + job, ["name"] = job, ["properties"] = new JsonObject { ["jobType"] = "Pipeline", ["status"] = "Running", ["experimentName"] = ep, ["description"] = input.First().Value!["Uri"]!.GetValue<string>() } };
            Resources["/jobs/" + job] = res;
            return Json(HttpStatusCode.OK, res.DeepClone());
        }
        var endpoint = Resources.GetValueOrDefault("/onlineEndpoints/" + ep);
        if (endpoint == null) return new HttpResponseMessage(HttpStatusCode.NotFound);
        var expected = endpoint["properties"]!["authMode"]!.GetValue<string>() == "Key" ? "key-" + ep : "aml-token-" + ep;
        if (request.Headers.Authorization?.Parameter != expected) return new HttpResponseMessage(HttpStatusCode.Unauthorized);
        var data = JsonNode.Parse(body!)?["input_data"]?["data"] as JsonArray;
        if (data == null) return new HttpResponseMessage(HttpStatusCode.BadRequest) { Content = new StringContent("input_data.data is required") };
        // One prediction per row: the row's first value doubled, so a test can check rows travelled in order.
        var predictions = new JsonArray(data.Select(row => (JsonNode)(row![0]!.GetValue<double>() * 2)).ToArray());
        var response = Json(HttpStatusCode.OK, predictions);
        response.Headers.Add("azureml-model-deployment", request.Headers.TryGetValues("azureml-model-deployment", out var d) ? d.First() : "blue");
        return response;
    }

    private HttpResponseMessage Blob(HttpRequestMessage request, byte[]? body)
    {
        var key = request.RequestUri!.AbsolutePath.TrimStart('/');
        if (request.Method != HttpMethod.Put) return new HttpResponseMessage(HttpStatusCode.MethodNotAllowed);
        if (request.Headers.Authorization == null || !request.Headers.Authorization.ToString().StartsWith("SharedKey devstoreaccount1:", StringComparison.Ordinal)
            && request.Headers.Authorization.Scheme != "Bearer")
            return new HttpResponseMessage(HttpStatusCode.Forbidden);
        Blobs[Uri.UnescapeDataString(key)] = body ?? [];
        var r = new HttpResponseMessage(HttpStatusCode.Created) { Content = new ByteArrayContent([]) };
        r.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"0x8D0000000000000\"");
        r.Content.Headers.LastModified = DateTimeOffset.UtcNow;
        r.Headers.Add("x-ms-request-server-encrypted", "true");
        r.Headers.Add("x-ms-version", "2025-01-05");
        return r;
    }

    private static JsonObject Error(string code, string message) => new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };

    private HttpResponseMessage Example(string file, string status, Action<JsonObject> edit)
    {
        var body = Load(file)["responses"]![status]!["body"]!.DeepClone().AsObject();
        edit(body);
        return Json(HttpStatusCode.OK, body);
    }

    private static readonly ConcurrentDictionary<string, JsonObject> Cache = new();

    /// <summary>The example a PUT's body is held to, by resource; code versions have no PUT example, so none.</summary>
    private static string? ExampleFor(string[] segments) => segments switch
    {
        ["models", _, "versions", _] => "Workspace/ModelVersion/createOrUpdate.json",
        ["environments", _, "versions", _] => "Workspace/EnvironmentVersion/createOrUpdate.json",
        ["onlineEndpoints", _] => "Workspace/OnlineEndpoint/createOrUpdate.json",
        ["onlineEndpoints", _, "deployments", _] => "OnlineDeployment/ManagedOnlineDeployment/createOrUpdate.json",
        ["batchEndpoints", _] => "Workspace/BatchEndpoint/createOrUpdate.json",
        ["batchEndpoints", _, "deployments", _] => "Workspace/BatchDeployment/createOrUpdate.json",
        _ => null,
    };

    /// <summary>
    /// A top-level or <c>properties</c> member that none of Microsoft's examples for the resource has (request or
    /// responses): the fake knows no more of the schema than those examples, so it refuses what it cannot vouch for.
    /// </summary>
    private string? UnknownProperty(string[] segments, JsonObject body)
    {
        if (ExampleFor(segments) is not string file) return null;
        var example = Load(file);
        var bodies = new List<JsonObject>();
        if (example["parameters"]?["body"] is JsonObject request) bodies.Add(request);
        foreach (var (_, response) in example["responses"]?.AsObject() ?? [])
            if (response?["body"] is JsonObject rb) bodies.Add(rb);
        var top = bodies.SelectMany(b => b.Select(kv => kv.Key)).ToHashSet(StringComparer.Ordinal);
        var props = bodies.SelectMany(b => (b["properties"] as JsonObject)?.Select(kv => kv.Key) ?? []).ToHashSet(StringComparer.Ordinal);
        foreach (var (k, _) in body)
            if (!top.Contains(k)) return $"'{k}' is in none of Microsoft's examples for this resource ({file}); the fake knows no more than those";
        foreach (var (k, _) in body["properties"] as JsonObject ?? [])
            if (!props.Contains(k)) return $"properties.{k} is in none of Microsoft's examples for this resource ({file}); the fake knows no more than those";
        return null;
    }

    private JsonObject Load(string file) => Cache.GetOrAdd(Path.Combine(_examples, file), f => JsonNode.Parse(File.ReadAllText(f))!.AsObject());

    private HttpResponseMessage Violation(string what)
    {
        Violations.Add(what);
        return Json(HttpStatusCode.BadRequest, Error("FakeViolation", what));
    }

    private static HttpResponseMessage Json(HttpStatusCode status, JsonNode body) =>
        new(status) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
}
