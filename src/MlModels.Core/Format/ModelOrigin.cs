namespace MlModels.Core.Format;

/// <summary>
/// Where a model loaded from a tracking server came from: the URI asked for and what the server resolved it to.
/// Null fields were not part of the URI and not answered by the server.
/// </summary>
public sealed record ModelOrigin(
    string Uri,
    string? TrackingUri = null,
    string? RegisteredModelName = null,
    string? Version = null,
    string? Alias = null,
    string? Stage = null,
    string? RunId = null,
    string? ArtifactUri = null,
    bool FromCache = false);
