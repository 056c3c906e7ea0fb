using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using MlModels.Core.Tests;

namespace MlModels.Deploy.Tests.Aws;

/// <summary>
/// Checks every request against the AWS service models in tests/specs/aws: the operation exists, required members
/// are present, no member the model does not define is sent, and each value has the model's type. STS (query
/// protocol) is checked for its action; sagemaker-runtime for its route and required payload.
/// </summary>
public sealed class ServiceModelValidator : DelegatingHandler
{
    private static readonly Lazy<Dictionary<string, JsonElement>> Models = new(Load);

    public ServiceModelValidator(HttpMessageHandler inner) : base(inner) { }

    public ConcurrentQueue<string> Violations { get; } = new();

    /// <summary>Each call as "Service.Operation", in order.</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    private static Dictionary<string, JsonElement> Load()
    {
        var dir = Path.Combine(TestPaths.RepoRoot, "tests", "specs", "aws");
        var byKey = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var f in Directory.GetFiles(dir, "*.min.json"))
        {
            var doc = JsonDocument.Parse(File.ReadAllBytes(f)).RootElement;
            var meta = doc.GetProperty("metadata");
            var key = meta.TryGetProperty("targetPrefix", out var tp) ? tp.GetString()! : meta.GetProperty("endpointPrefix").GetString()!;
            byKey[key] = doc;
        }
        return byKey;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content == null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        Check(request, body);
        return await base.SendAsync(request, cancellationToken);
    }

    private void Check(HttpRequestMessage request, byte[] body)
    {
        if (!request.Headers.Contains("Authorization")) Violations.Enqueue($"{request.RequestUri}: unsigned request");
        if (request.Headers.TryGetValues("X-Amz-Target", out var targets))
        {
            var target = targets.First();
            var dot = target.LastIndexOf('.');
            var (prefix, op) = (target[..dot], target[(dot + 1)..]);
            Calls.Enqueue($"{prefix}.{op}");
            if (!Models.Value.TryGetValue(prefix, out var model)) { Violations.Enqueue($"{target}: no service model has target prefix {prefix}"); return; }
            if (request.Content?.Headers.ContentType?.MediaType != "application/x-amz-json-1.1") Violations.Enqueue($"{target}: content type is not application/x-amz-json-1.1");
            if (!model.GetProperty("operations").TryGetProperty(op, out var operation)) { Violations.Enqueue($"{target}: the service model has no operation {op}"); return; }
            using var doc = JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body);
            if (operation.TryGetProperty("input", out var input)) CheckValue(model, input, doc.RootElement, op);
            return;
        }
        var path = request.RequestUri!.AbsolutePath;
        var text = Encoding.UTF8.GetString(body);
        if (path.StartsWith("/endpoints/", StringComparison.Ordinal) && path.EndsWith("/invocations", StringComparison.Ordinal))
        {
            Calls.Enqueue("SageMakerRuntime.InvokeEndpoint");
            if (body.Length == 0) Violations.Enqueue("InvokeEndpoint: the required Body is empty");
            if (request.Content?.Headers.ContentType == null) Violations.Enqueue("InvokeEndpoint: no Content-Type");
            return;
        }
        if (text.Contains("Action=", StringComparison.Ordinal) && text.Contains("Version=2011-06-15", StringComparison.Ordinal))
        {
            var action = text.Split('&').First(p => p.StartsWith("Action=", StringComparison.Ordinal))[7..];
            Calls.Enqueue($"STS.{action}");
            if (!Models.Value["sts"].GetProperty("operations").TryGetProperty(action, out _)) Violations.Enqueue($"STS: no operation {action}");
            return;
        }
        Calls.Enqueue($"S3.{request.Method} {path}");
    }

    private void CheckValue(JsonElement model, JsonElement shape, JsonElement value, string where)
    {
        if (shape.TryGetProperty("shape", out var reference)) shape = model.GetProperty("shapes").GetProperty(reference.GetString()!);
        var type = shape.TryGetProperty("type", out var t) ? t.GetString()! : "string";
        switch (type)
        {
            case "structure":
                if (value.ValueKind != JsonValueKind.Object) { Violations.Enqueue($"{where}: expected a structure, got {value.ValueKind}"); return; }
                var members = shape.GetProperty("members");
                if (shape.TryGetProperty("required", out var required))
                    foreach (var r in required.EnumerateArray())
                        if (!value.TryGetProperty(r.GetString()!, out _)) Violations.Enqueue($"{where}: required member {r.GetString()} is missing");
                foreach (var p in value.EnumerateObject())
                {
                    if (!members.TryGetProperty(p.Name, out var member)) { Violations.Enqueue($"{where}: {p.Name} is not a member"); continue; }
                    CheckValue(model, member, p.Value, $"{where}.{p.Name}");
                }
                break;
            case "list":
                if (value.ValueKind != JsonValueKind.Array) { Violations.Enqueue($"{where}: expected a list, got {value.ValueKind}"); return; }
                var i = 0;
                foreach (var item in value.EnumerateArray()) CheckValue(model, shape.GetProperty("member"), item, $"{where}[{i++}]");
                break;
            case "map":
                if (value.ValueKind != JsonValueKind.Object) { Violations.Enqueue($"{where}: expected a map, got {value.ValueKind}"); return; }
                foreach (var p in value.EnumerateObject()) CheckValue(model, shape.GetProperty("value"), p.Value, $"{where}[{p.Name}]");
                break;
            case "string" or "blob":
                if (value.ValueKind != JsonValueKind.String) Violations.Enqueue($"{where}: expected a {type}, got {value.ValueKind}");
                break;
            case "integer" or "long":
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out _)) Violations.Enqueue($"{where}: expected an {type}, got {value}");
                break;
            case "float" or "double":
                if (value.ValueKind != JsonValueKind.Number) Violations.Enqueue($"{where}: expected a {type}, got {value.ValueKind}");
                break;
            case "boolean":
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) Violations.Enqueue($"{where}: expected a boolean, got {value.ValueKind}");
                break;
            case "timestamp":
                if (value.ValueKind is not (JsonValueKind.Number or JsonValueKind.String)) Violations.Enqueue($"{where}: expected a timestamp, got {value.ValueKind}");
                break;
            default:
                Violations.Enqueue($"{where}: unknown model type {type}");
                break;
        }
    }
}
