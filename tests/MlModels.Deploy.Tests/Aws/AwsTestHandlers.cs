using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using MlModels.Deploy.Aws;

namespace MlModels.Deploy.Tests.Aws;

/// <summary>One JSON 1.1 call as a test handler sees it: the operation, its request body, and the way on to moto.</summary>
public sealed record AwsCall(string Operation, JsonNode? Request, Func<Task<HttpResponseMessage>> Next);

/// <summary>
/// Fault injection: every JSON 1.1 call passes through <see cref="Intercept"/>, which may answer it itself
/// (throttling, a 500), change moto's answer (an endpoint that ends Failed), or pass it on.
/// </summary>
public sealed class FaultInjector(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public Func<AwsCall, Task<HttpResponseMessage>>? Intercept { get; set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Intercept == null || !request.Headers.TryGetValues("X-Amz-Target", out var t)) return await base.SendAsync(request, cancellationToken);
        var op = t.First().Split('.').Last();
        var body = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
        return await Intercept(new AwsCall(op, JsonNode.Parse(body), () => base.SendAsync(request, cancellationToken)));
    }

    public static HttpResponseMessage Error(HttpStatusCode status, string type, string message) => new(status)
    {
        Content = new StringContent(new JsonObject { ["__type"] = type, ["message"] = message }.ToJsonString(), Encoding.UTF8, "application/x-amz-json-1.1"),
    };

    public static HttpResponseMessage Json(JsonNode node) => new(HttpStatusCode.OK)
    {
        Content = new StringContent(node.ToJsonString(), Encoding.UTF8, "application/x-amz-json-1.1"),
    };

    /// <summary>Moto's answer to the call, as JSON to change.</summary>
    public static async Task<JsonObject> AnswerOf(AwsCall call) =>
        JsonNode.Parse(await (await call.Next()).Content.ReadAsStringAsync())!.AsObject();
}

/// <summary>
/// The two SageMaker operations moto 5.2.1 does not implement, carried out on top of moto's state as the SageMaker API
/// reference documents them (the same semantics as tests/MlModels.PowerShell.Tests/SageMakerStandIn.py):
/// <list type="bullet">
/// <item>UpdateEndpoint ("SageMaker sets the endpoint status to Updating. After updating the endpoint, it sets the
/// status to InService"; the endpoint keeps serving its old configuration meanwhile): the endpoint and the new
/// configuration must exist, and an endpoint already Updating is refused (ValidationException). The next
/// <see cref="UpdatePolls"/> DescribeEndpoint answers say Updating with the old configuration; then the endpoint is
/// InService with the new one.</item>
/// <item>StopTransformJob ("the status of the job changes to Stopping. After SageMaker stops the job, the status is set
/// to Stopped"): the job must exist; the next DescribeTransformJob says Stopping, later ones Stopped.</item>
/// </list>
/// What this does not model: the time either takes, and failures during an update.
/// </summary>
public sealed class MotoGaps(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    /// <summary>How many DescribeEndpoint answers an update stays Updating.</summary>
    public const int UpdatePolls = 2;

    private sealed class Update(string config)
    {
        public string Config { get; } = config;
        public int PollsLeft = UpdatePolls;
    }

    private readonly ConcurrentDictionary<string, string> _endpointConfig = new();
    private readonly ConcurrentDictionary<string, Update> _updating = new();
    private readonly ConcurrentDictionary<string, int> _stopped = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Headers.TryGetValues("X-Amz-Target", out var t)) return await base.SendAsync(request, cancellationToken);
        var op = t.First().Split('.').Last();
        var body = JsonNode.Parse(await request.Content!.ReadAsByteArrayAsync(cancellationToken))!;
        switch (op)
        {
            case "UpdateEndpoint":
            {
                var name = (string)body["EndpointName"]!;
                var config = (string)body["EndpointConfigName"]!;
                var endpoint = await Forward(request, "DescribeEndpoint", new JsonObject { ["EndpointName"] = name }, cancellationToken);
                if (!endpoint.IsSuccessStatusCode) return endpoint;
                if (_updating.ContainsKey(name))
                    return FaultInjector.Error(System.Net.HttpStatusCode.BadRequest, "ValidationException", $"Cannot update in-progress endpoint \"{name}\".");
                var cfg = await Forward(request, "DescribeEndpointConfig", new JsonObject { ["EndpointConfigName"] = config }, cancellationToken);
                if (!cfg.IsSuccessStatusCode) return cfg;
                _updating[name] = new Update(config);
                var arn = (string)JsonNode.Parse(await endpoint.Content.ReadAsStringAsync(cancellationToken))!["EndpointArn"]!;
                return FaultInjector.Json(new JsonObject { ["EndpointArn"] = arn });
            }
            case "DescribeEndpoint":
            {
                var response = await base.SendAsync(request, cancellationToken);
                var name = (string)body["EndpointName"]!;
                if (!response.IsSuccessStatusCode) return response;
                var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
                if (_updating.TryGetValue(name, out var update))
                {
                    if (Interlocked.Decrement(ref update.PollsLeft) >= 0)
                    {
                        // Still updating: the old configuration serves.
                        answer["EndpointStatus"] = "Updating";
                        if (_endpointConfig.TryGetValue(name, out var old)) answer["EndpointConfigName"] = old;
                        return FaultInjector.Json(answer);
                    }
                    _endpointConfig[name] = update.Config;
                    _updating.TryRemove(name, out _);
                }
                if (_endpointConfig.TryGetValue(name, out var config)) answer["EndpointConfigName"] = config;
                return FaultInjector.Json(answer);
            }
            case "DeleteEndpoint":
                _endpointConfig.TryRemove((string)body["EndpointName"]!, out _);
                _updating.TryRemove((string)body["EndpointName"]!, out _);
                return await base.SendAsync(request, cancellationToken);
            case "StopTransformJob":
            {
                var name = (string)body["TransformJobName"]!;
                var job = await Forward(request, "DescribeTransformJob", new JsonObject { ["TransformJobName"] = name }, cancellationToken);
                if (!job.IsSuccessStatusCode) return job;
                _stopped.TryAdd(name, 0);
                return FaultInjector.Json(new JsonObject());
            }
            case "DescribeTransformJob":
            {
                var response = await base.SendAsync(request, cancellationToken);
                var name = (string)body["TransformJobName"]!;
                if (!response.IsSuccessStatusCode || !_stopped.ContainsKey(name)) return response;
                var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
                answer["TransformJobStatus"] = _stopped.AddOrUpdate(name, 1, (_, n) => n + 1) == 1 ? "Stopping" : "Stopped";
                return FaultInjector.Json(answer);
            }
            default:
                return await base.SendAsync(request, cancellationToken);
        }
    }

    private Task<HttpResponseMessage> Forward(HttpRequestMessage original, string op, JsonObject body, CancellationToken ct)
    {
        var copy = new HttpRequestMessage(HttpMethod.Post, original.RequestUri) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/x-amz-json-1.1") };
        foreach (var h in original.Headers) if (h.Key != "X-Amz-Target") copy.Headers.TryAddWithoutValidation(h.Key, h.Value);
        copy.Headers.TryAddWithoutValidation("X-Amz-Target", "SageMaker." + op);
        return base.SendAsync(copy, ct);
    }
}

/// <summary>A connection to moto with the request-shape checker, moto's gaps and a fault injector under it.</summary>
public sealed class MotoSession : IDisposable
{
    public MotoSession(string motoUrl, string region = "us-east-1")
    {
        // The fault injector sees every call the module sends; moto's gaps are filled below it.
        Faults = new FaultInjector(new MotoGaps(new SocketsHttpHandler()));
        Validator = new ServiceModelValidator(Faults);
        Connection = AwsConnection.Open(new AwsConnectionOptions
        {
            Credentials = new BasicAWSCredentials("testing", "testing"),
            Region = region,
            EndpointUrl = motoUrl,
            Handler = Validator,
            Retry = new AwsRetryOptions(3, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50)),
        });
    }

    public FaultInjector Faults { get; }
    public ServiceModelValidator Validator { get; }
    public AwsConnection Connection { get; }

    public void AssertShapesValid() => Assert.True(Validator.Violations.IsEmpty, "Requests that do not match the service models:\n" + string.Join("\n", Validator.Violations));

    public void Dispose()
    {
        Connection.Dispose();
        Validator.Dispose();
    }
}
