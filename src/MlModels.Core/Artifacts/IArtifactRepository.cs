namespace MlModels.Core.Artifacts;

/// <summary>
/// One entry of a listing, as MLflow's FileInfo: the path relative to the repository's root (with '/'), whether it is a
/// folder, and a file's size where the store gives it.
/// </summary>
public sealed record ArtifactEntry(string Path, bool IsDir, long? Size)
{
    /// <summary>The last segment of the path: the entry's own name.</summary>
    public string Name => Path[(Path.LastIndexOf('/') + 1)..];
}

/// <summary>
/// A store of artifacts under one root URI, as MLflow's ArtifactRepository for its scheme: s3://, wasbs://, gs://,
/// file:// or a plain path, mlflow-artifacts:/ and http(s):// through a tracking server's proxy. Paths are relative to
/// the root and use '/'.
/// </summary>
public interface IArtifactRepository : IDisposable
{
    /// <summary>The root this repository was opened on, as given.</summary>
    string RootUri { get; }

    /// <summary>
    /// The entries directly under <paramref name="path"/> ("" for the root), paths relative to the root, in name order;
    /// empty for a file, an empty folder or a path that does not exist (MLflow's rule: only a folder lists).
    /// </summary>
    Task<IReadOnlyList<ArtifactEntry>> ListAsync(string path, CancellationToken ct);

    /// <summary>
    /// Writes the file at <paramref name="path"/> to <paramref name="destination"/>; a missing file is <see cref="ArtifactNotFoundException"/>.
    /// </summary>
    Task DownloadAsync(string path, Stream destination, CancellationToken ct);

    /// <summary>Uploads a local file to <paramref name="path"/>, replacing what is there.</summary>
    Task UploadAsync(string localFile, string path, CancellationToken ct);
}

/// <summary>A file the listing or the caller named that the store does not have.</summary>
public sealed class ArtifactNotFoundException(string message, string uri, Exception? inner = null) : IOException(message, inner)
{
    public string Uri { get; } = uri;
}

/// <summary>The store refused the credentials, or had none it could use; the message names what was tried.</summary>
public sealed class ArtifactAccessException(string message, string uri, Exception? inner = null) : IOException(message, inner)
{
    public string Uri { get; } = uri;
}
