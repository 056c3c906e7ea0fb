using System.Net.Http.Headers;

namespace MlModels.Deploy.Endpoints;

/// <summary>
/// Open Inference Protocol (KServe V2) REST requests to a server at an address: POST {base}/v2/models/{model}/infer with
/// the body as it is. One HttpClient per instance, with a timeout; the handler can be given for tests.
/// </summary>
public sealed class OpenInferenceClient : IDisposable
{
    private readonly HttpClient _http;

    public OpenInferenceClient(TimeSpan timeout, HttpMessageHandler? handler = null)
    {
        _http = handler == null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = timeout;
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The infer address under <paramref name="server"/> (a base such as https://churn.models.example.com/).</summary>
    public static Uri InferUri(Uri server, string model)
    {
        var root = server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");
        return new Uri(root, $"v2/models/{Uri.EscapeDataString(model)}/infer");
    }

    /// <summary>
    /// The model's input datatypes by name from its metadata (GET {base}/v2/models/{model}), or null where the server gives
    /// none (no metadata, an error, a body without inputs): the request then types its columns from their values.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>?> InputTypesAsync(Uri server, string model, CancellationToken ct)
    {
        var root = server.AbsoluteUri.EndsWith('/') ? server : new Uri(server.AbsoluteUri + "/");
        using var response = await _http.GetAsync(new Uri(root, $"v2/models/{Uri.EscapeDataString(model)}"), ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) return null;
        return ScoringBodies.InferenceInputTypes(await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false));
    }

    /// <summary>Sends the request and returns the answer as it came, whatever its status.</summary>
    public async Task<PredictionResponse> InferAsync(Uri server, string model, PredictionRequest request, CancellationToken ct)
    {
        var target = InferUri(server, model);
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
}
