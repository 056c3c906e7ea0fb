using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace MlModels.Core.Tracking;

/// <summary>
/// The wire under the tracking client: auth header on every request (artifact proxy included), retries of 408/429/5xx
/// and connection failures with urllib3's back-off (Retry-After honoured), a per-attempt timeout, and MLflow's error
/// bodies turned into <see cref="MlflowException"/>s.
/// </summary>
public sealed class TrackingHttp : IDisposable
{
    private static readonly string UserAgent = $"MlModels/{ModuleVersion.Full}";
    private readonly HttpClient _client;

    public TrackingHttp(TrackingSettings settings, HttpMessageHandler? handler = null)
    {
        Settings = settings;
        _client = new HttpClient(handler ?? CreateHandler(settings), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public TrackingSettings Settings { get; }

    /// <summary>The handler MLflow's TLS settings describe: insecure, a CA bundle to trust, a client certificate.</summary>
    public static HttpMessageHandler CreateHandler(TrackingSettings s)
    {
        var h = new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (s.InsecureTls)
        {
            // MLFLOW_TRACKING_INSECURE_TLS: the user asked, as MLflow's client allows, to skip verification.
#pragma warning disable CA5359
            h.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (s.ServerCertPath != null)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(s.ServerCertPath);
            h.SslOptions.RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
            {
                if (errors == SslPolicyErrors.None) return true;
                if (cert == null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0) return false;
                using var c = new X509Chain();
                c.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                c.ChainPolicy.CustomTrustStore.AddRange(roots);
                c.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return c.Build(new X509Certificate2(cert));
            };
        }
        if (s.ClientCertPath != null)
            h.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(s.ClientCertPath)];
        return h;
    }

    /// <summary><c>&lt;server&gt;/&lt;path&gt;?&lt;query&gt;</c>; the query encoded as Python's urlencode does (quote_plus).</summary>
    public static Uri Url(Uri server, string path, IEnumerable<KeyValuePair<string, string?>>? query = null)
    {
        var sb = new StringBuilder(server.GetLeftPart(UriPartial.Path).TrimEnd('/')).Append(path);
        if (query != null)
        {
            char sep = '?';
            foreach (var (k, v) in query)
            {
                if (v == null) continue;
                sb.Append(sep).Append(FormEncode(k)).Append('=').Append(FormEncode(v));
                sep = '&';
            }
        }
        return new Uri(sb.ToString());
    }

    public static string FormEncode(string s) => Uri.EscapeDataString(s).Replace("%20", "+");

    /// <summary>A JSON call: GET sends <paramref name="query"/>, other methods the JSON <paramref name="body"/>.</summary>
    public async Task<TResp> CallAsync<TReq, TResp>(Uri server, HttpMethod method, string path, IEnumerable<KeyValuePair<string, string?>>? query,
        TReq? body, JsonTypeInfo<TReq>? bodyType, JsonTypeInfo<TResp> responseType, string? resource, CancellationToken ct)
    {
        var url = Url(server, path, query);
        byte[]? payload = body != null && bodyType != null ? JsonSerializer.SerializeToUtf8Bytes(body, bodyType) : null;
        using var response = await SendAsync(() =>
        {
            var req = new HttpRequestMessage(method, url);
            if (payload != null)
            {
                req.Content = new ByteArrayContent(payload);
                req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }
            return req;
        }, resource, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(bytes, responseType)
                ?? throw new JsonException("The answer is null.");
        }
        catch (JsonException ex)
        {
            throw new MlflowException(
                "INTERNAL_ERROR",
                $"The tracking server's answer to {method} {url.AbsolutePath} is not the JSON MLflow sends: {ex.Message}",
                response.StatusCode,
                method.Method,
                url.ToString(),
                resource);
        }
    }

    /// <summary>
    /// Sends with retries; any answer but 2xx becomes an exception. <paramref name="makeRequest"/> is called per
    /// attempt (a request cannot be sent twice). The caller disposes the response.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(
        Func<HttpRequestMessage> makeRequest,
        string? resource,
        HttpCompletionOption completion,
        CancellationToken ct)
    {
        var retry = Settings.Retry;
        for (int attempt = 0; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            using var request = makeRequest();
            request.Headers.UserAgent.ParseAdd(UserAgent);
            if (Settings.Auth != null) request.Headers.Authorization = await Settings.Auth.GetHeaderAsync(ct).ConfigureAwait(false);
            using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attemptCts.CancelAfter(retry.Timeout);
            HttpResponseMessage response;
            try
            {
                response = await _client.SendAsync(request, completion, attemptCts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
            {
                if (attempt < retry.MaxRetries)
                {
                    await retry.Delay(retry.BackoffBefore(attempt + 1, Random.Shared.NextDouble()), ct).ConfigureAwait(false);
                    continue;
                }
                var why = ex is OperationCanceledException
                    ? $"no answer within {retry.Timeout.TotalSeconds:0} s (MLFLOW_HTTP_REQUEST_TIMEOUT)"
                    : Innermost(ex).Message;
                throw new TrackingConnectionException(
                    $"The tracking server at {ServerOf(request.RequestUri!)} (from {SourceOf(request.RequestUri!)}) did not answer " +
                        $"{request.Method} {request.RequestUri!.AbsolutePath}: {why}. "
                    + $"Tried {attempt + 1} time(s) (MLFLOW_HTTP_REQUEST_MAX_RETRIES={retry.MaxRetries}).", request.RequestUri!.ToString(), ex);
            }

            if (response.IsSuccessStatusCode) return response;
            var status = (int)response.StatusCode;
            if (RetryOptions.RetryStatuses.Contains(status) && attempt < retry.MaxRetries)
            {
                var wait = RetryAfter(response, retry) ?? retry.BackoffBefore(attempt + 1, Random.Shared.NextDouble());
                response.Dispose();
                await retry.Delay(wait, ct).ConfigureAwait(false);
                continue;
            }
            using (response) throw await ErrorFromAsync(response, request, resource, ct).ConfigureAwait(false);
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response, RetryOptions retry)
    {
        // urllib3 honours Retry-After on 413, 429 and 503 only.
        if (!retry.RespectRetryAfter || (int)response.StatusCode is not (413 or 429 or 503)) return null;
        var h = response.Headers.RetryAfter;
        if (h?.Delta is { } d) return d < TimeSpan.Zero ? TimeSpan.Zero : d;
        if (h?.Date is { } at) { var d2 = at - DateTimeOffset.UtcNow; return d2 < TimeSpan.Zero ? TimeSpan.Zero : d2; }
        return null;
    }

    private async Task<Exception> ErrorFromAsync(HttpResponseMessage response, HttpRequestMessage request, string? resource, CancellationToken ct)
    {
        string text;
        try { text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false); }
        catch (HttpRequestException) { text = ""; }
        string? code = null, message = null;
        if (text.TrimStart().StartsWith('{'))
        {
            try
            {
                var e = JsonSerializer.Deserialize(text, TrackingJson.Default.ErrorResponse);
                code = e?.ErrorCode;
                message = e?.Message;
            }
            catch (JsonException) { }
        }
        var url = request.RequestUri!;
        var method = request.Method.Method;
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            var said = message ?? Truncate(text);
            return new TrackingAuthException(code ?? (response.StatusCode == HttpStatusCode.Unauthorized ? "UNAUTHENTICATED" : "PERMISSION_DENIED"),
                $"The tracking server at {ServerOf(url)} refused {method} {url.AbsolutePath} with {(int)response.StatusCode} {response.ReasonPhrase}"
                + (string.IsNullOrWhiteSpace(said) ? "." : $": {said}") + " " + Settings.CredentialHint,
                response.StatusCode, method, url.ToString());
        }
        var prefix = resource != null ? $"{resource}: " : "";
        if (code == null)
            return new MlflowException(response.StatusCode == HttpStatusCode.NotFound ? "ENDPOINT_NOT_FOUND" : "INTERNAL_ERROR",
                $"{prefix}API request to endpoint {url.AbsolutePath} failed with error code {(int)response.StatusCode} != 200. " +
                    $"Response body: '{Truncate(text)}'",
                response.StatusCode, method, url.ToString(), resource);
        return new MlflowException(code, $"{prefix}{message} ({code})", response.StatusCode, method, url.ToString(), resource);
    }

    private string ServerOf(Uri url) =>
        url.GetLeftPart(UriPartial.Authority).Equals(Settings.RegistryUri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase)
        && !url.GetLeftPart(UriPartial.Authority).Equals(Settings.TrackingUri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase)
            ? Settings.RegistryUri.ToString() : (Settings.OriginalTrackingUri ?? Settings.TrackingUri.ToString());

    private string SourceOf(Uri url) =>
        url.GetLeftPart(UriPartial.Authority).Equals(Settings.TrackingUri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase)
            ? Settings.TrackingUriSource : Settings.RegistryUriSource;

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException != null) ex = ex.InnerException;
        return ex;
    }

    private static string Truncate(string s) => s.Length > 500 ? s[..500] + "..." : s;

    public void Dispose() => _client.Dispose();
}

internal static class Millis
{
    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    public static string Text(long v) => v.ToString(CultureInfo.InvariantCulture);
}
