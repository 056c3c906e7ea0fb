namespace MlModels.Core.Serving.OpenInference;

/// <summary>A request the Open Inference endpoints refuse, with the HTTP status it gets (400, 404, 413...).</summary>
public sealed class OpenInferenceException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;

    public static OpenInferenceException BadRequest(string message) => new(400, message);
}
