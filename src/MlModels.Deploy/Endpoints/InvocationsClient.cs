using System.Net.Http.Headers;

namespace MlModels.Deploy.Endpoints;

/// <summary>
/// Scoring requests to a server that speaks MLflow's protocol at an address (a model container on this machine, a
/// server started elsewhere): POST {base}/invocations with the body as it is. One HttpClient per instance, with a
/// timeout; the handler can be given for tests.
/// </summary>
public sealed class InvocationsClient : IDisposable
{
    private readonly HttpClient _http;

    public InvocationsClient(TimeSpan timeout, HttpMessageHandler? handler = null)
    {
        _http = handler == null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = timeout;
    }

    /// <summary>The default wait for one answer: two minutes, past any server's own request timeout.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Sends the request to <paramref name="server"/>'s /invocations (a base address such as http://127.0.0.1:8080/, or the
    /// /invocations address itself) and returns the answer as it came, whatever its status.
    /// </summary>
    public async Task<PredictionResponse> PostAsync(Uri server, PredictionRequest request, CancellationToken ct)
    {
        var target = server.AbsolutePath.EndsWith("/invocations", StringComparison.Ordinal) ? server : new Uri(server, "invocations");
        using var content = new ReadOnlyMemoryContent(request.Body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(request.ContentType);
        try
        {
            using var response = await _http.PostAsync(target, content, ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            return new PredictionResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{target} did not answer within {_http.Timeout.TotalSeconds:0} s.", ex);
        }
    }

    public void Dispose() => _http.Dispose();
}
