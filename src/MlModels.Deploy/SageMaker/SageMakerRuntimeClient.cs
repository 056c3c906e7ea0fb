using MlModels.Deploy.Aws;

namespace MlModels.Deploy.SageMaker;

/// <summary>sagemaker-runtime InvokeEndpoint (REST-JSON: POST /endpoints/{name}/invocations, the body as the payload).</summary>
public sealed class SageMakerRuntimeClient(AwsConnection connection)
{
    private readonly AwsJsonClient _rest = new(connection, AwsService.SageMakerRuntime);

    public async Task<PredictionResponse> InvokeAsync(
        string endpointName,
        PredictionRequest request,
        string? accept,
        string? targetVariant,
        CancellationToken ct)
    {
        SageMakerNames.ValidateName(endpointName, "endpoint name");
        var headers = new Dictionary<string, string>();
        if (accept != null) headers["Accept"] = accept;
        if (targetVariant != null) headers["X-Amzn-SageMaker-Target-Variant"] = targetVariant;
        using var response = await _rest.SendAsync("InvokeEndpoint", HttpMethod.Post, $"/endpoints/{Uri.EscapeDataString(endpointName)}/invocations",
            request.Body.ToArray(), request.ContentType, headers, endpointName, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        return new PredictionResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body);
    }
}
