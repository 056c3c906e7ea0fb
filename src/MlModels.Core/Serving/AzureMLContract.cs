using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlModels.Core.Serving;

/// <summary>
/// Azure ML's scoring contract for MLflow models beside MLflow's own: liveness <c>GET /</c> and <c>POST /score</c> with
/// <c>{"input_data": ..., "params": ...}</c>. The request is translated into MLflow's (a split-orient frame
/// <c>{"columns", "index", "data"}</c> becomes <c>dataframe_split</c>; a list, or a dictionary of named lists, becomes
/// <c>inputs</c>), scored by the same <see cref="ScoringService"/>, and the answer is returned the way Azure ML returns it
/// for MLflow models: the predictions themselves, without MLflow's <c>{"predictions": ...}</c> wrapper.
/// </summary>
public static class AzureMLContract
{
    public const string LivenessPath = "/";
    public const string ScorePath = "/score";

    /// <summary>What Azure ML's inference server answers on its liveness route.</summary>
    public const string LivenessBody = "Healthy";

    /// <summary>The MLflow request for an Azure ML one, or an error response (400) saying what is wrong with it.</summary>
    public static (byte[]? MlflowBody, ServingResponse? Error) TranslateRequest(ReadOnlySpan<byte> body)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 256 }); }
        catch (JsonException ex) { return (null, BadRequest($"The request body is not valid JSON: {ex.Message}")); }
        if (root is not JsonObject request || !request.TryGetPropertyValue("input_data", out var input) || input == null)
            return (null, BadRequest("The request must be a JSON object with the key \"input_data\": {\"columns\": [...], \"index\": " +
                "[...], \"data\": [[...]]} for a table, or a list (or a dictionary of named lists) for tensors."));
        foreach (var (key, _) in request)
            if (key is not ("input_data" or "params"))
                return (null, BadRequest(
                    $"Unknown key \"{key}\" in the request; Azure ML's MLflow requests carry \"input_data\" and optionally \"params\"."));

        var mlflow = new JsonObject();
        switch (input)
        {
            case JsonObject frame when frame.ContainsKey("data"):
                foreach (var (key, _) in frame)
                    if (key is not ("columns" or "index" or "data"))
                        return (null, BadRequest($"Unknown key \"{key}\" in input_data; a table has \"columns\", \"index\" and \"data\"."));
                mlflow["dataframe_split"] = frame.DeepClone();
                break;
            case JsonObject or JsonArray:
                mlflow["inputs"] = input.DeepClone();
                break;
            default:
                return (null, BadRequest("\"input_data\" must be an object or a list."));
        }
        if (request["params"] is { } parameters)
        {
            if (parameters is not JsonObject) return (null, BadRequest("\"params\" must be an object."));
            mlflow["params"] = parameters.DeepClone();
        }
        return (Encoding.UTF8.GetBytes(mlflow.ToJsonString()), null);
    }

    /// <summary>MLflow's answer as Azure ML gives it: a success unwrapped to its predictions; errors passed on.</summary>
    public static ServingResponse TranslateResponse(ServingResponse mlflow)
    {
        if (mlflow.Status != 200 || !mlflow.ContentType.StartsWith("application/json", StringComparison.Ordinal)) return mlflow;
        // The predictions' own text is kept byte for byte (MLflow's number formatting and spacing).
        try
        {
            using var doc = JsonDocument.Parse(mlflow.Body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("predictions", out var predictions)
                || root.EnumerateObject().Count() != 1) return mlflow;
            return new ServingResponse(200, "application/json", Encoding.UTF8.GetBytes(predictions.GetRawText()));
        }
        catch (JsonException) { return mlflow; }
    }

    private static ServingResponse BadRequest(string message) => ServingResponse.Error(400, "BAD_REQUEST", message);
}
