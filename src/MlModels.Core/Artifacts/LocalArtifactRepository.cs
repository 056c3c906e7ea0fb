namespace MlModels.Core.Artifacts;

/// <summary>
/// Artifacts in a folder: file:// URIs and plain paths, read as MLflow's LocalArtifactRepository reads them
/// (local_file_uri_to_path: the URI's path, percent-decoded; file:///abs, file:rel, and a plain path as it is).
/// </summary>
public sealed class LocalArtifactRepository : IArtifactRepository
{
    private readonly string _root;

    public LocalArtifactRepository(string rootUri)
    {
        RootUri = rootUri;
        _root = System.IO.Path.GetFullPath(PathOf(rootUri));
    }

    public string RootUri { get; }

    /// <summary>The folder a file: URI or plain path names.</summary>
    public static string PathOf(string uri)
    {
        var p = uri;
        if (p.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            p = p["file:".Length..];
            if (p.StartsWith("//", StringComparison.Ordinal))
            {
                // file://host/path: the host is dropped (POSIX), as urlparse(uri).path leaves it.
                var slash = p.IndexOf('/', 2);
                p = slash < 0 ? "/" : p[slash..];
            }
            // file:///C:/x on Windows: the drive follows the slash.
            if (OperatingSystem.IsWindows() && p.Length >= 3 && p[0] == '/' && p[2] == ':') p = p[1..];
        }
        return Uri.UnescapeDataString(p);
    }

    public Task<IReadOnlyList<ArtifactEntry>> ListAsync(string path, CancellationToken ct)
    {
        var dir = Resolve(path);
        if (!Directory.Exists(dir)) return Task.FromResult<IReadOnlyList<ArtifactEntry>>([]);
        var entries = new DirectoryInfo(dir).EnumerateFileSystemInfos()
            .Select(i => new ArtifactEntry(ArtifactPaths.Join(path, i.Name), i is DirectoryInfo, i is FileInfo f ? f.Length : null))
            .OrderBy(e => e.Path, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult<IReadOnlyList<ArtifactEntry>>(entries);
    }

    public async Task DownloadAsync(string path, Stream destination, CancellationToken ct)
    {
        var file = Resolve(path);
        if (!File.Exists(file)) throw new ArtifactNotFoundException($"There is no file '{path}' under {RootUri}.", ArtifactPaths.Join(RootUri, path));
        await using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
        await source.CopyToAsync(destination, ct).ConfigureAwait(false);
    }

    public async Task UploadAsync(string localFile, string path, CancellationToken ct)
    {
        var target = Resolve(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
        await using var source = File.OpenRead(localFile);
        await using var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
        await source.CopyToAsync(output, ct).ConfigureAwait(false);
    }

    public void Dispose() { }

    /// <summary>The local path of an artifact path, refused when it would leave the root (MLflow's validate_path_is_safe).</summary>
    private string Resolve(string path)
    {
        if (path.Length == 0) return _root;
        if (System.IO.Path.IsPathRooted(path) || path.Split('/').Any(s => s is ".." || s.Contains('\\')) || path.Contains(':'))
            throw new ArgumentException($"The artifact path '{path}' would leave {RootUri}.", nameof(path));
        var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(_root, path.Replace('/', System.IO.Path.DirectorySeparatorChar)));
        if (!full.StartsWith(_root, StringComparison.Ordinal)) throw new ArgumentException(
            $"The artifact path '{path}' would leave {RootUri}.",
            nameof(path));
        return full;
    }

}
