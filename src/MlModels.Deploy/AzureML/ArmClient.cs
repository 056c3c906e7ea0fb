using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Xml;
using Azure.Core;

namespace MlModels.Deploy.AzureML;

/// <summary>
/// Azure Resource Manager over HTTP for the Azure ML operations this module uses: bearer token from the credential
/// chain, <c>api-version</c> on every call, throttling (429 and 503 with Retry-After) retried, ARM errors turned into
/// <see cref="ArmException"/> with their code and message, and long-running operations followed the way the
/// 2025-12-01 swagger declares them (201 + Azure-AsyncOperation then the resource re-read; 202 + Location).
/// </summary>
public sealed class ArmClient : IDisposable
{
    public const string ApiVersion = "2025-12-01";

    private readonly HttpClient _http;
    private readonly TokenCredential _credential;
    private readonly string _scope;
    private readonly TimeProvider _time;

    public ArmClient(Uri resourceManagerUrl, TokenCredential credential, string scope, HttpMessageHandler? handler = null, TimeProvider? time = null)
    {
        _http = handler == null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = resourceManagerUrl;
        _http.Timeout = TimeSpan.FromMinutes(5);
        _credential = credential;
        _scope = scope;
        _time = time ?? TimeProvider.System;
    }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>Poll interval where the service gives no Retry-After.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest a long-running operation is waited for when the service states no x-ms-async-operation-timeout.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromMinutes(90);

    /// <summary>How often a throttled (429) or unavailable (503) call is retried.</summary>
    public int ThrottleRetries { get; init; } = 6;

    /// <summary>Called with the method and URL of every request, before it is sent (for -Verbose).</summary>
    public Action<string>? Log { get; init; }

    public void Dispose() => _http.Dispose();

    /// <summary>The absolute URL of a resource path, with the api-version.</summary>
    public Uri UrlOf(string path, string? query = null) => UrlOf(BaseAddress, path, query);

    public static Uri UrlOf(Uri resourceManager, string path, string? query = null) =>
        new(resourceManager, path.TrimStart('/') + "?api-version=" + ApiVersion + (string.IsNullOrEmpty(query) ? "" : "&" + query));

    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct, string? query = null)
    {
        using var response = await SendAsync(HttpMethod.Get, UrlOf(path, query), null, ct).ConfigureAwait(false);
        await EnsureSuccess(response, ct).ConfigureAwait(false);
        return await Read(response, type, ct).ConfigureAwait(false);
    }

    /// <summary>The resource, or default where ARM answers 404.</summary>
    public async Task<T?> FindAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, UrlOf(path), null, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return default;
        await EnsureSuccess(response, ct).ConfigureAwait(false);
        return await Read(response, type, ct).ConfigureAwait(false);
    }

    public async Task<TResult> PostAsync<TBody, TResult>(
        string path,
        TBody? body,
        JsonTypeInfo<TBody> bodyType,
        JsonTypeInfo<TResult> resultType,
        CancellationToken ct)
    {
        var content = body == null ? null : JsonContent(body, bodyType);
        using var response = await SendAsync(HttpMethod.Post, UrlOf(path), content, ct).ConfigureAwait(false);
        await EnsureSuccess(response, ct).ConfigureAwait(false);
        return await Read(response, resultType, ct).ConfigureAwait(false);
    }

    /// <summary>A synchronous PUT (models, datastores: plain 200/201 at workspace level).</summary>
    public async Task<T> PutAsync<T>(string path, T body, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Put, UrlOf(path), JsonContent(body, type), ct).ConfigureAwait(false);
        await EnsureSuccess(response, ct).ConfigureAwait(false);
        return await Read(response, type, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// A PUT that may be long-running: 200 is final; 201 with Azure-AsyncOperation is polled to a terminal status and
    /// the resource then re-read from the PUT URL (final-state-via original-uri); 202 with Location is polled until it
    /// stops answering 202, then re-read.
    /// </summary>
    public async Task<T> PutLongRunningAsync<T>(
        string path,
        T body,
        JsonTypeInfo<T> type,
        string what,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct)
    {
        using (var response = await SendAsync(HttpMethod.Put, UrlOf(path), JsonContent(body, type), ct).ConfigureAwait(false))
        {
            await EnsureSuccess(response, ct).ConfigureAwait(false);
            if (!await FollowAsync(response, what, progress, ct).ConfigureAwait(false))
                return await Read(response, type, ct).ConfigureAwait(false);
        }
        return await GetAsync(path, type, ct).ConfigureAwait(false);
    }

    /// <summary>A DELETE: 200/204 are final, 404 means already gone (false), 202 + Location is polled (final-state-via location).</summary>
    public async Task<bool> DeleteAsync(string path, string what, IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Delete, UrlOf(path), null, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await EnsureSuccess(response, ct).ConfigureAwait(false);
        await FollowAsync(response, what, progress, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Follows a long-running operation's headers; false where the response was already final.</summary>
    private async Task<bool> FollowAsync(HttpResponseMessage response, string what, IProgress<DeploymentProgress>? progress, CancellationToken ct)
    {
        var timeout = OperationTimeoutOf(response) ?? OperationTimeout;
        var asyncOperation = Header(response, "Azure-AsyncOperation");
        var location = response.Headers.Location;
        if (asyncOperation != null && response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Accepted)
        {
            var url = new Uri(BaseAddress, asyncOperation);
            var firstWait = RetryAfter(response);
            var first = true;
            var status = await LongWait.UntilAsync(what, async token =>
            {
                if (first && firstWait is { } w) await Task.Delay(w, _time, token).ConfigureAwait(false);
                first = false;
                using var poll = await SendAsync(HttpMethod.Get, url, null, token).ConfigureAwait(false);
                await EnsureSuccess(poll, token).ConfigureAwait(false);
                var op = await Read(poll, AzureMLJson.Default.AsyncOperationStatus, token).ConfigureAwait(false);
                var s = op.Status ?? "InProgress";
                return IsTerminal(s)
                    ? PollResult<AsyncOperationStatus>.Finished(s, op)
                    : PollResult<AsyncOperationStatus>.Pending(s, RetryAfter(poll));
            }, PollInterval, timeout, progress, ct, _time).ConfigureAwait(false);
            if (!string.Equals(status.Status, "Succeeded", StringComparison.OrdinalIgnoreCase))
                throw new ArmOperationFailedException(what, status.Status!, status.Error);
            return true;
        }
        if (response.StatusCode == HttpStatusCode.Accepted && location != null)
        {
            var url = location.IsAbsoluteUri ? location : new Uri(BaseAddress, location);
            var wait = RetryAfter(response);
            var first = true;
            await LongWait.UntilAsync(what, async token =>
            {
                if (first) await Task.Delay(wait ?? PollInterval, _time, token).ConfigureAwait(false);
                first = false;
                using var poll = await SendAsync(HttpMethod.Get, url, null, token).ConfigureAwait(false);
                if (poll.StatusCode == HttpStatusCode.Accepted) return PollResult<bool>.Pending("InProgress", RetryAfter(poll));
                if (!poll.IsSuccessStatusCode)
                {
                    var error = await ReadError(poll, token).ConfigureAwait(false);
                    throw new ArmOperationFailedException(what, "Failed", error);
                }
                return PollResult<bool>.Finished("Succeeded", true);
            }, PollInterval, timeout, progress, ct, _time).ConfigureAwait(false);
            return true;
        }
        return false;
    }

    private static bool IsTerminal(string status) =>
        status.Equals("Succeeded", StringComparison.OrdinalIgnoreCase) || status.Equals("Failed", StringComparison.OrdinalIgnoreCase)
        || status.Equals("Canceled", StringComparison.OrdinalIgnoreCase) || status.Equals("Cancelled", StringComparison.OrdinalIgnoreCase);

    /// <summary>Sends one request with a bearer token; 429 and 503 are retried after the service's Retry-After.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, HttpContent? content, CancellationToken ct)
    {
        var body = content == null ? null : await content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        var mediaType = content?.Headers.ContentType;
        for (var attempt = 0; ; attempt++)
        {
            var token = await _credential.GetTokenAsync(new TokenRequestContext([_scope]), ct).ConfigureAwait(false);
            using var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (body != null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = mediaType;
            }
            Log?.Invoke($"{method} {url}");
            var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable && attempt < ThrottleRetries)
            {
                var wait = RetryAfter(response) ?? TimeSpan.FromSeconds(Math.Min(60, 2 << attempt));
                response.Dispose();
                Log?.Invoke($"throttled; retrying after {wait.TotalSeconds:0.#} s");
                await Task.Delay(wait, _time, ct).ConfigureAwait(false);
                continue;
            }
            return response;
        }
    }

    private static async Task EnsureSuccess(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var error = await ReadError(response, ct).ConfigureAwait(false);
        throw new ArmException((int)response.StatusCode, error?.Code ?? response.StatusCode.ToString(),
            error?.Message ?? response.ReasonPhrase ?? "no message", response.RequestMessage?.Method.Method + " "
                + response.RequestMessage?.RequestUri?.AbsolutePath);
    }

    private static async Task<ArmError?> ReadError(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text)) return null;
        try { return JsonSerializer.Deserialize(text, AzureMLJson.Default.ArmErrorResponse)?.Error; }
        catch (JsonException) { return new ArmError(null, text.Length > 500 ? text[..500] : text, null, null); }
    }

    private static async Task<T> Read<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken ct)
    {
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        try
        {
            return await JsonSerializer.DeserializeAsync(stream, type, ct).ConfigureAwait(false)
                ?? throw new ArmException(
                    (int)response.StatusCode,
                    "EmptyResponse",
                    "Resource Manager answered with an empty body.",
                    response.RequestMessage?.RequestUri?.AbsolutePath);
        }
        catch (JsonException ex)
        {
            throw new ArmException(
                (int)response.StatusCode,
                "InvalidResponse",
                $"Resource Manager's answer is not the expected JSON ({ex.Message}).",
                response.RequestMessage?.RequestUri?.AbsolutePath);
        }
    }

    private static StringContent JsonContent<T>(T body, JsonTypeInfo<T> type) =>
        new(JsonSerializer.Serialize(body, type), Encoding.UTF8, "application/json");

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>Retry-After as seconds or as an HTTP date.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var ra = response.Headers.RetryAfter;
        if (ra?.Delta is { } d) return d;
        if (ra?.Date is { } date) { var left = date - DateTimeOffset.UtcNow; return left > TimeSpan.Zero ? left : TimeSpan.Zero; }
        return null;
    }

    private static TimeSpan? OperationTimeoutOf(HttpResponseMessage response)
    {
        var value = Header(response, "x-ms-async-operation-timeout");
        if (string.IsNullOrEmpty(value)) return null;
        try { return XmlConvert.ToTimeSpan(value); }
        catch (FormatException) { return null; }
    }
}

/// <summary>An error Resource Manager answered with: HTTP status, ARM error code (QuotaExceeded, SkuNotAvailable, ...) and message.</summary>
public class ArmException(int status, string code, string message, string? request)
    : Exception($"{code}: {message}" + (request == null ? "" : $" ({request})"))
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string ArmMessage { get; } = message;
    public string? Request { get; } = request;
}

/// <summary>A long-running operation that ended Failed or Canceled; carries the operation's own error.</summary>
public sealed class ArmOperationFailedException(string what, string status, ArmError? error)
    : ArmException(200, error?.Code ?? status, $"{what} ended {status}: {error?.Message ?? "no error details"}", null)
{
    public string OperationStatus { get; } = status;
    public ArmError? Error { get; } = error;
}
