using System.Text;
using MlModels.Core.Scoring;

namespace MlModels.Core.Serving;

/// <summary>A scoring server's answer: status, content type and body, independent of the web server.</summary>
public sealed record ServingResponse(int Status, string ContentType, byte[] Body)
{
    public static ServingResponse Json(int status, object? value) => new(status, "application/json",
        Encoding.UTF8.GetBytes(PyJsonWriter.Serialize(value)));

    public static ServingResponse Text(int status, string text) => new(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text));

    /// <summary>MLflow's error body: <c>{"error_code": ..., "message": ...}</c>, with <c>stack_trace</c> when the model raised.</summary>
    public static ServingResponse Error(int status, string code, string message, string? stackTrace = null)
    {
        var body = new Dictionary<string, object?> { ["error_code"] = code, ["message"] = message };
        if (stackTrace != null) body["stack_trace"] = stackTrace;
        return Json(status, body);
    }
}
