using System.Net;

namespace MlModels.Deploy.Aws;

/// <summary>An error answer from an AWS service, naming the operation and the resource it was about.</summary>
public sealed class AwsServiceException(
    string service, string operation, string? resource, string errorCode, string serviceMessage, HttpStatusCode statusCode, string? requestId)
    : Exception(Describe(service, operation, resource, errorCode, serviceMessage, statusCode, requestId))
{
    public string Service { get; } = service;
    public string Operation { get; } = operation;
    public string? Resource { get; } = resource;
    /// <summary>The AWS error code (the part of __type after '#'), e.g. ValidationException, ThrottlingException.</summary>
    public string ErrorCode { get; } = errorCode;
    public string ServiceMessage { get; } = serviceMessage;
    public HttpStatusCode StatusCode { get; } = statusCode;
    public string? RequestId { get; } = requestId;

    private static string Describe(
        string service,
        string operation,
        string? resource,
        string code,
        string message,
        HttpStatusCode status,
        string? requestId) =>
        $"{service} {operation}{(resource != null ? $" on '{resource}'" : "")} failed: {code}: {message} (HTTP " +
            $"{(int)status}{(requestId != null ? $", request id {requestId}" : "")}).";
}

/// <summary>No credentials, no region, an unknown region or profile: settings problems found before any call.</summary>
public sealed class AwsConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
