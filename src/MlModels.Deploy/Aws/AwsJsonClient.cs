using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Amazon.Runtime.Internal.Util;
using Polly;
using Polly.Retry;

namespace MlModels.Deploy.Aws;

/// <summary>
/// Calls one AWS service over the JSON 1.1 protocol (POST /, X-Amz-Target: Prefix.Operation) or, for
/// sagemaker-runtime, its REST-JSON routes. Each attempt is signed with AWSSDK.Core's SigV4 signer; throttling and
/// 5xx answers are retried with exponential backoff and jitter (Polly); error bodies (__type, message) become
/// <see cref="AwsServiceException"/>s naming the operation and the resource.
/// </summary>
public sealed class AwsJsonClient
{
    private const string JsonContentType = "application/x-amz-json-1.1";

    // Error codes AWS SDKs treat as throttling, whatever the HTTP status.
    private static readonly HashSet<string> ThrottlingCodes = new(StringComparer.Ordinal)
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException", "ServiceUnavailable", "InternalFailure", "InternalServerError",
    };

    private readonly AwsConnection _connection;
    private readonly AwsService _service;
    private readonly Uri _endpoint;
    private readonly AwsServiceConfig _signingConfig;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;

    public AwsJsonClient(AwsConnection connection, AwsService service)
    {
        _connection = connection;
        _service = service;
        _endpoint = connection.EndpointFor(service);
        _signingConfig = connection.NewConfig(service);
        _retry = BuildRetry(connection.Retry);
    }

    public Uri Endpoint => _endpoint;

    /// <summary>Called before each retry with the operation, the attempt number (1-based) and the reason.</summary>
    public Action<string, int, string>? OnRetry { get; set; }

    /// <summary>One JSON 1.1 call: the request serialised with its source-generated contract, the answer read with the response's.</summary>
    public async Task<TResponse> CallAsync<TRequest, TResponse>(
        string operation, TRequest request, JsonTypeInfo<TRequest> requestInfo, JsonTypeInfo<TResponse> responseInfo,
        string? resource, CancellationToken cancellationToken)
    {
        if (_service.TargetPrefix == null) throw new InvalidOperationException($"{_service.ServiceId} does not speak the JSON 1.1 protocol.");
        var body = JsonSerializer.SerializeToUtf8Bytes(request, requestInfo);
        var headers = new Dictionary<string, string> { ["X-Amz-Target"] = $"{_service.TargetPrefix}.{operation}" };
        using var response = await SendAsync(operation, HttpMethod.Post, "/", body, JsonContentType, headers, resource, cancellationToken)
            .ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (bytes.Length == 0) bytes = "{}"u8.ToArray();
        try { return JsonSerializer.Deserialize(bytes, responseInfo)!; }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{_service.ServiceId} {operation} answered with JSON this module cannot read: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// A signed request with a raw body (sagemaker-runtime's REST-JSON routes). The caller owns the response, whose
    /// status is a success: errors are thrown as <see cref="AwsServiceException"/>.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(
        string operation, HttpMethod method, string path, byte[] body, string contentType, IReadOnlyDictionary<string, string> headers,
        string? resource, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(OperationKey, operation);
        try
        {
            var response = await _retry.ExecuteAsync(
                async ctx => await SendOnceAsync(method, path, body, contentType, headers, ctx.CancellationToken).ConfigureAwait(false),
                context).ConfigureAwait(false);
            if (response.IsSuccessStatusCode) return response;
            using (response) throw await ErrorFromAsync(response, operation, resource, cancellationToken).ConfigureAwait(false);
        }
        finally { ResilienceContextPool.Shared.Return(context); }
    }

    private static readonly ResiliencePropertyKey<string> OperationKey = new("aws.operation");

    private async Task<HttpResponseMessage> SendOnceAsync(
        HttpMethod method, string path, byte[] body, string contentType, IReadOnlyDictionary<string, string> headers,
        CancellationToken cancellationToken)
    {
        var uri = new Uri(_endpoint, path);
        var immutable = await _connection.Credentials.GetCredentialsAsync().ConfigureAwait(false);
        // Signed afresh for every attempt: a retry after backoff needs a current X-Amz-Date.
        var signable = new DefaultRequest(new SignableRequest(), _service.ServiceId)
        {
            HttpMethod = method.Method,
            Endpoint = new Uri(uri.GetLeftPart(UriPartial.Authority)),
            ResourcePath = uri.AbsolutePath,
            Content = body,
            AuthenticationRegion = _connection.RegionName,
            OverrideSigningServiceName = _service.SigningName,
        };
        signable.Headers["Content-Type"] = contentType;
        foreach (var (k, v) in headers) signable.Headers[k] = v;
        if (immutable.UseToken) signable.Headers["X-Amz-Security-Token"] = immutable.Token;
        var identity = immutable.UseToken
            ? new SessionAWSCredentials(immutable.AccessKey, immutable.SecretKey, immutable.Token)
            : (AWSCredentials)new BasicAWSCredentials(immutable.AccessKey, immutable.SecretKey);
        new AWS4Signer().Sign(signable, _signingConfig, new RequestMetrics(), identity);

        using var message = new HttpRequestMessage(method, uri) { Content = new ByteArrayContent(body) };
        foreach (var (k, v) in signable.Headers)
        {
            if (k.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(v);
            else if (k.Equals("host", StringComparison.OrdinalIgnoreCase)) continue;
            else if (!message.Headers.TryAddWithoutValidation(k, v)) message.Content.Headers.TryAddWithoutValidation(k, v);
        }
        var response = await _connection.Http.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return response;
    }

    private ResiliencePipeline<HttpResponseMessage> BuildRetry(AwsRetryOptions options) =>
        new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(1, options.MaxRetries),
                ShouldHandle = args => args.Outcome switch
                {
                    { Exception: HttpRequestException } => ValueTask.FromResult(true),
                    { Exception: TaskCanceledException } when !args.Context.CancellationToken.IsCancellationRequested => ValueTask.FromResult(true),
                    { Result: { } r } => IsRetryableAsync(r),
                    _ => ValueTask.FromResult(false),
                },
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                OnRetry = args =>
                {
                    var reason = args.Outcome.Exception?.Message ?? $"HTTP {(int)args.Outcome.Result!.StatusCode}";
                    args.Outcome.Result?.Dispose();
                    args.Context.Properties.TryGetValue(OperationKey, out var op);
                    OnRetry?.Invoke(op ?? "?", args.AttemptNumber + 1, reason);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    private static async ValueTask<bool> IsRetryableAsync(HttpResponseMessage response)
    {
        if (options(response) is { } known) return known;
        await response.Content.LoadIntoBufferAsync().ConfigureAwait(false);
        var (code, _) = ParseError(await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false), response);
        return ThrottlingCodes.Contains(code);

        static bool? options(HttpResponseMessage r) =>
            r.IsSuccessStatusCode ? false
            : (int)r.StatusCode >= 500 || r.StatusCode == HttpStatusCode.TooManyRequests ? true
            : r.StatusCode == HttpStatusCode.BadRequest ? null
            : false;
    }

    private async Task<AwsServiceException> ErrorFromAsync(
        HttpResponseMessage response,
        string operation,
        string? resource,
        CancellationToken cancellationToken)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var (code, message) = ParseError(bytes, response);
        var requestId = response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.FirstOrDefault() : null;
        return new AwsServiceException(_service.ServiceId, operation, resource, code, message, response.StatusCode, requestId);
    }

    /// <summary>The error code (from __type, code or x-amzn-ErrorType, without namespace or URI) and message of an error answer.</summary>
    internal static (string Code, string Message) ParseError(byte[] body, HttpResponseMessage response)
    {
        string? code = null, message = null;
        if (response.Headers.TryGetValues("x-amzn-ErrorType", out var types)) code = types.FirstOrDefault();
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.String) continue;
                    if (p.NameEquals("__type") || (code == null && p.Name.Equals("code", StringComparison.OrdinalIgnoreCase))) code = p.Value
                        .GetString();
                    else if (p.Name.Equals("message", StringComparison.OrdinalIgnoreCase) || p.NameEquals("errorMessage")) message = p.Value
                        .GetString();
                }
            }
        }
        catch (JsonException)
        {
            message ??= body.Length == 0 ? null : System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 500));
        }
        code ??= response.StatusCode.ToString();
        var hash = code.LastIndexOf('#');
        if (hash >= 0) code = code[(hash + 1)..];
        var colon = code.IndexOf(':');
        if (colon >= 0) code = code[..colon];
        return (code, message ?? response.ReasonPhrase ?? "no message");
    }

    /// <summary>The SDK signer wants its request type; the body and headers travel on the DefaultRequest.</summary>
    private sealed class SignableRequest : AmazonWebServiceRequest;
}
