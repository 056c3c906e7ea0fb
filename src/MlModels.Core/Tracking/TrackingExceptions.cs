using System.Net;

namespace MlModels.Core.Tracking;

/// <summary>An error answer from the tracking server, with MLflow's <c>error_code</c> (RESOURCE_DOES_NOT_EXIST, ...).</summary>
public class MlflowException(string errorCode, string message, HttpStatusCode status, string method, string uri, string? resource = null)
    : Exception(message)
{
    public string ErrorCode { get; } = errorCode;
    public HttpStatusCode StatusCode { get; } = status;
    public string Method { get; } = method;
    public string RequestUri { get; } = uri;
    /// <summary>What the request was about (a run id, "name/version", "name@alias"), when the caller knew.</summary>
    public string? Resource { get; } = resource;

    public bool IsNotFound => ErrorCode == "RESOURCE_DOES_NOT_EXIST";
}

/// <summary>The server answered 401 or 403: says which credential was sent and how to send another.</summary>
public sealed class TrackingAuthException(string errorCode, string message, HttpStatusCode status, string method, string uri)
    : MlflowException(errorCode, message, status, method, uri);

/// <summary>The server did not answer (connection refused, DNS, TLS, timeout) after the retries.</summary>
public sealed class TrackingConnectionException(string message, string uri, Exception? inner)
    : Exception(message, inner)
{
    public string RequestUri { get; } = uri;
}

/// <summary>A model URI that is none of the kinds the client resolves, or a malformed one.</summary>
public sealed class ModelUriException(string message, string uri) : ArgumentException(message)
{
    public string Uri { get; } = uri;
}

/// <summary>An artifact the server lists or names but cannot hand over (missing file, cut-off download).</summary>
public sealed class ArtifactDownloadException(string message, string artifactPath, Exception? inner = null)
    : IOException(message, inner)
{
    public string ArtifactPath { get; } = artifactPath;
}

/// <summary>Artifacts stored where this client cannot read them (not behind the server's artifact proxy).</summary>
public sealed class ArtifactLocationNotSupportedException(string message, string artifactUri) : NotSupportedException(message)
{
    public string ArtifactUri { get; } = artifactUri;
}
