namespace MlModels.Core.Serving;

/// <summary>
/// A request body that could not be read, with the HTTP status the web server gave it: 413 too large, 408 too slow,
/// 400 malformed framing. The web server raises it in place of its own exception, so Core knows no web server's types.
/// </summary>
public sealed class RequestBodyException(int status, string message, Exception? inner = null) : IOException(message, inner)
{
    public int Status { get; } = status;
}
