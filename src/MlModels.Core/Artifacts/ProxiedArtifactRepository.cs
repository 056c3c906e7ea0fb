using MlModels.Core.Tracking;

namespace MlModels.Core.Artifacts;

/// <summary>
/// Artifacts behind a tracking server's proxy (MLflow's MlflowArtifactsRepository and HttpArtifactRepository):
/// mlflow-artifacts:/path resolved against the tracking URI, or an http(s) URL of the proxy's artifacts API.
/// </summary>
public sealed class ProxiedArtifactRepository : IArtifactRepository
{
    private const string ApiSegment = "/api/2.0/mlflow-artifacts/artifacts";
    private readonly TrackingClient _client;
    private readonly Uri _server;
    private readonly string _rootPath;

    public ProxiedArtifactRepository(TrackingClient client, string rootUri)
    {
        _client = client;
        RootUri = rootUri;
        if (ArtifactRepositories.SchemeOf(rootUri) is "http" or "https")
        {
            var at = rootUri.IndexOf(ApiSegment, StringComparison.Ordinal);
            if (at < 0)
                throw new ArtifactLocationNotSupportedException(
                    $"'{rootUri}' is no artifact proxy URL: an http(s) artifact location must contain '{ApiSegment}'.", rootUri);
            _server = new Uri(rootUri[..at]);
            _rootPath = Uri.UnescapeDataString(rootUri[(at + ApiSegment.Length)..].Trim('/'));
        }
        else (_server, _rootPath) = client.ResolveArtifactUri(rootUri);
    }

    public string RootUri { get; }

    public async Task<IReadOnlyList<ArtifactEntry>> ListAsync(string path, CancellationToken ct)
    {
        var listed = await _client.ListArtifactsAsync(_server, ArtifactPaths.Join(_rootPath, path), ct).ConfigureAwait(false);
        // The proxy lists names (or paths whose last segment is the name): relative to the root, they sit under path.
        return listed.Select(f => new ArtifactEntry(ArtifactPaths.Join(path, f.Path[(f.Path.LastIndexOf('/') + 1)..]), f.IsDir, f.FileSize))
            .OrderBy(e => e.Path, StringComparer.Ordinal).ToList();
    }

    public async Task DownloadAsync(string path, Stream destination, CancellationToken ct)
    {
        using var response = await _client.DownloadArtifactAsync(_server, ArtifactPaths.Join(_rootPath, path), ct).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await body.CopyToAsync(destination, ct).ConfigureAwait(false);
    }

    public Task UploadAsync(string localFile, string path, CancellationToken ct) =>
        _client.UploadArtifactAsync(_server, ArtifactPaths.Join(_rootPath, path), localFile, ct);

    public void Dispose() { }
}
