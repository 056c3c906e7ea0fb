using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MlModels.Core.Artifacts;
using MlModels.Core.Format;

namespace MlModels.Core.Tracking;

/// <summary>Progress of a download: the file at hand and the bytes so far, of all files listed.</summary>
public sealed record DownloadProgress(string Uri, string? File, int FilesDone, int FilesTotal, long BytesDone, long BytesTotal);

/// <summary>A downloaded model: its folder (or file) in the cache and where it came from.</summary>
public sealed record DownloadedModel(string Path, ModelOrigin Origin);

/// <summary>
/// Resolves a model URI with the calls MLflow's client makes and downloads its artifacts into a local cache, keyed by
/// what the server said (registered version, run, artifact path). A finished entry is reused; a download is staged
/// beside the cache and renamed into place when complete, so an interrupted one leaves no entry.
/// </summary>
public sealed class ModelDownloader(TrackingClient? client, string? cacheRoot = null)
{
    public const string CacheVariable = "MLMODELS_MODEL_CACHE";
    private const string OriginFile = "origin.json";

    public string CacheRoot { get; } = cacheRoot ?? DefaultCacheRoot;

    /// <summary>
    /// The stores artifacts are read from, by scheme: Core's own (local paths, the tracking server's proxy) unless the
    /// caller gives more (the cloud stores of MlModels.Deploy).
    /// </summary>
    public ArtifactRepositories Repositories { get; init; } = ArtifactRepositories.WithBuiltIns(client);

    /// <summary>How many files download at once: MLflow's pool, two per CPU up to 20.</summary>
    public int Parallelism { get; init; } = Math.Min(Environment.ProcessorCount * 2, 20);

    private TrackingClient Client => client
        ?? throw new InvalidOperationException("A runs:/ or models:/ URI needs a tracking server: set MLFLOW_TRACKING_URI.");

    public static string DefaultCacheRoot =>
        Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } v ? v
        : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "mlmodels", "models");

    /// <summary>Resolves and downloads (or takes from the cache) the model or artifact the URI names.</summary>
    public async Task<DownloadedModel> DownloadAsync(
        string uriText,
        bool force = false,
        IProgress<DownloadProgress>? progress = null,
        CancellationToken ct = default)
    {
        var uri = ModelUri.Parse(uriText);
        _bytesDone = 0; _filesDone = 0; _bytesListed = 0;
        var origin = new ModelOrigin(uri.Text, client?.Settings.OriginalTrackingUri, uri.Name, uri.Version, uri.Alias, uri.Stage, uri.RunId);

        // Aliases and stages move, so they are asked every time; what they point at is cached like any version.
        switch (uri.Kind)
        {
            case ModelUriKind.ModelAlias:
                var byAlias = await Client.GetModelVersionByAliasAsync(uri.Name!, uri.Alias!, ct).ConfigureAwait(false);
                origin = origin with { Version = byAlias.Version, RunId = NullIfEmpty(byAlias.RunId) };
                break;
            case ModelUriKind.ModelStage:
            case ModelUriKind.ModelLatest:
                var latest = await Client.GetLatestVersionsAsync(uri.Name!, uri.Kind == ModelUriKind.ModelStage ? [uri.Stage!] : null, ct)
                    .ConfigureAwait(false);
                var top = latest.MaxBy(v => long.TryParse(v.Version, out var n) ? n : -1)
                    ?? throw new MlflowException("RESOURCE_DOES_NOT_EXIST",
                        uri.Kind == ModelUriKind.ModelStage
                            ? $"{uri.Text}: registered model '{uri.Name}' has no version in stage '{uri.Stage}'."
                            : $"{uri.Text}: registered model '{uri.Name}' has no versions.",
                        System.Net.HttpStatusCode.NotFound, "POST", "registered-models/get-latest-versions", uri.Text);
                origin = origin with { Version = top.Version, RunId = NullIfEmpty(top.RunId) };
                break;
        }

        var entry = EntryFor(uri, origin);
        var folderName = FolderName(uri);
        if (!force && TryReadEntry(entry, out var cached)) return cached with { Origin = MergeCached(origin, cached.Origin) };

        // The download root: the artifact URI the server names, and the path below it.
        string artifactUri;
        string path;
        switch (uri.Kind)
        {
            case ModelUriKind.Run:
                artifactUri = await Client.GetRunArtifactUriAsync(uri.RunId!, ct).ConfigureAwait(false);
                path = uri.Path;
                break;
            case ModelUriKind.Artifacts:
            case ModelUriKind.Store:
                var cut = uri.ArtifactUri!.LastIndexOf('/');
                artifactUri = uri.ArtifactUri[..cut];
                path = uri.ArtifactUri[(cut + 1)..];
                break;
            default:
                artifactUri = await Client.GetModelVersionDownloadUriAsync(uri.Name!, origin.Version!, ct).ConfigureAwait(false);
                if (artifactUri.StartsWith("runs:", StringComparison.Ordinal))
                {
                    // A version registered from a runs:/ source: the server hands the URI back; it resolves like one.
                    var source = ModelUri.Parse(artifactUri);
                    origin = origin with { RunId = origin.RunId ?? source.RunId };
                    var runRoot = await Client.GetRunArtifactUriAsync(source.RunId!, ct).ConfigureAwait(false);
                    artifactUri = source.Path.Length > 0 ? $"{runRoot.TrimEnd('/')}/{source.Path}" : runRoot;
                }
                path = uri.Path;
                break;
        }
        origin = origin with
        {
            ArtifactUri = path.Length > 0
            ? $"{artifactUri.TrimEnd('/')}/{path}"
            : artifactUri,
            RunId = origin.RunId ?? RunIdOf(artifactUri)
        };

        using var repository = Repositories.Open(artifactUri);
        var serverDir = System.IO.Path.Combine(CacheRoot, ServerKey(uri.Kind == ModelUriKind.Store ? null : client?.Settings));
        RemoveStaleStaging(System.IO.Path.Combine(serverDir, ".staging"));
        var staging = System.IO.Path.Combine(serverDir, ".staging", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        try
        {
            var target = System.IO.Path.Combine(staging, folderName);
            var listing = await ListAsync(repository, path, ct).ConfigureAwait(false);
            string resultPath;
            var files = new List<(string Remote, string Local, long Size)>();
            if (listing.Count == 0)
            {
                // An empty listing means a file (MLflow's _is_directory); a missing one fails on the download, naming it.
                var last = path.Length > 0 ? path : artifactUri;
                var fileName = SafeName(last[(last.LastIndexOf('/') + 1)..], path);
                target = System.IO.Path.Combine(staging, "file");
                Directory.CreateDirectory(target);
                resultPath = System.IO.Path.Combine("file", fileName);
                files.Add((path, System.IO.Path.Combine(target, fileName), -1));
            }
            else
            {
                await CollectAsync(repository, path, target, files, ct).ConfigureAwait(false);
                resultPath = folderName;
            }
            await FetchAllAsync(repository, files, uri.Text, progress, ct).ConfigureAwait(false);
            if (listing.Count > 0
                && uri.Kind is ModelUriKind.ModelVersion or ModelUriKind.ModelAlias or ModelUriKind.ModelStage or ModelUriKind.ModelLatest
                && File.Exists(System.IO.Path.Combine(target, "MLmodel")))
            {
                // What mlflow.artifacts.download_artifacts leaves beside a registered model's files.
                File.WriteAllText(System.IO.Path.Combine(target, "registered_model_meta"),
                    Format.Yaml.YamlWriter
                        .Write(new Dictionary<string, object?> { ["model_name"] = uri.Name, ["model_version"] = origin.Version }));
            }
            File.WriteAllText(
                System.IO.Path.Combine(staging, OriginFile),
                JsonSerializer.Serialize(new CacheRecord(resultPath, origin), TrackingJson.Default.CacheRecord));
            Commit(staging, entry, force);
            return ReadEntry(entry) with { Origin = origin };
        }
        finally
        {
            if (Directory.Exists(staging)) TryDelete(staging);
        }
    }

    private static async Task<IReadOnlyList<ArtifactEntry>> ListAsync(IArtifactRepository repository, string path, CancellationToken ct)
    {
        try { return await repository.ListAsync(path, ct).ConfigureAwait(false); }
        catch (MlflowException ex) when (ex is not TrackingAuthException)
        {
            throw new ArtifactDownloadException($"{repository.RootUri}: '{path}' could not be listed: {ex.Message}", path, ex);
        }
    }

    /// <summary>MLflow's walk: list a folder, take its entries in name order, note each file, descend into each folder.</summary>
    private static async Task CollectAsync(IArtifactRepository repository, string remoteDir, string localDir,
        List<(string Remote, string Local, long Size)> files, CancellationToken ct)
    {
        Directory.CreateDirectory(localDir);
        // Listed again, as MLflow's walk lists the folder its is-a-folder check already listed.
        var entries = await ListAsync(repository, remoteDir, ct).ConfigureAwait(false);
        foreach (var e in entries.OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            var name = SafeName(e.Name, ArtifactPaths.Join(remoteDir, e.Name));
            var childRemote = ArtifactPaths.Join(remoteDir, name);
            var childLocal = System.IO.Path.Combine(localDir, name);
            if (e.IsDir) await CollectAsync(repository, childRemote, childLocal, files, ct).ConfigureAwait(false);
            else files.Add((childRemote, childLocal, e.Size ?? -1));
        }
    }

    private long _bytesDone;
    private int _filesDone;
    private long _bytesListed;

    /// <summary>The files, several at once (as MLflow's thread pool); the first failure stops the rest and nothing is cached.</summary>
    private async Task FetchAllAsync(IArtifactRepository repository, List<(string Remote, string Local, long Size)> files, string uri,
        IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        _bytesListed = files.Where(f => f.Size > 0).Sum(f => f.Size);
        var total = files.Count;
        progress?.Report(new DownloadProgress(uri, files.FirstOrDefault().Remote, 0, total, 0, _bytesListed));
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Parallelism), CancellationToken = ct };
        await Parallel.ForEachAsync(
            files,
            options,
            (f, token) => new ValueTask(FetchOneAsync(repository, f.Remote, f.Local, f.Size, uri, total, progress, token)))
            .ConfigureAwait(false);
    }

    private async Task FetchOneAsync(IArtifactRepository repository, string remote, string local, long size, string uri, int total,
        IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        var named = ArtifactPaths.Join(repository.RootUri, remote);
        try
        {
            await using var output = new FileStream(local, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true);
            var counting = new CountingStream(output, n =>
            {
                var done = Interlocked.Add(ref _bytesDone, n);
                progress?.Report(new DownloadProgress(uri, remote, Volatile.Read(ref _filesDone), total, done, _bytesListed));
            });
            await repository.DownloadAsync(remote, counting, ct).ConfigureAwait(false);
            if (size >= 0 && counting.Written != size)
                throw new ArtifactDownloadException(
                    $"{uri}: the artifact '{named}' arrived with {counting.Written} bytes; the store listed {size}. " +
                    "Nothing was cached; run the command again.",
                    named);
            Interlocked.Increment(ref _filesDone);
        }
        catch (MlflowException ex) when (ex is not TrackingAuthException)
        {
            throw new ArtifactDownloadException($"{uri}: the artifact '{named}' could not be downloaded: {ex.Message}", named, ex);
        }
        catch (ArtifactNotFoundException ex)
        {
            throw new ArtifactDownloadException($"{uri}: the artifact '{named}' could not be downloaded: {ex.Message}", named, ex);
        }
        catch (Exception ex) when ((ex is IOException and not ArtifactDownloadException and not ArtifactAccessException)
            || ex is HttpRequestException)
        {
            throw new ArtifactDownloadException(
                $"{uri}: the download of '{named}' was cut off ({ex.Message}). Nothing was cached; run the command again.",
                named,
                ex);
        }
    }

    /// <summary>A write-only stream over the file that counts what passes, for progress and the size check.</summary>
    private sealed class CountingStream(Stream inner, Action<int> wrote) : Stream
    {
        private long _lastReport = Environment.TickCount64;
        private int _unreported;

        public long Written { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Count(count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            Count(buffer.Length);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private void Count(int n)
        {
            Written += n;
            _unreported += n;
            // Progress four times a second at most; bytes are added to the total as they come.
            if (Environment.TickCount64 - _lastReport > 250)
            {
                _lastReport = Environment.TickCount64;
                wrote(_unreported);
                _unreported = 0;
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (_unreported > 0) wrote(_unreported);
            _unreported = 0;
            base.Dispose(disposing);
        }
    }

    private static void Commit(string staging, string entry, bool replace)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(entry)!);
        string? old = null;
        if (Directory.Exists(entry))
        {
            if (!replace) return; // another download finished first; its entry is as good as this one
            old = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(staging)!, Guid.NewGuid().ToString("N") + ".old");
            Directory.Move(entry, old);
        }
        try { Directory.Move(staging, entry); }
        catch (IOException) when (Directory.Exists(entry) && old == null) { }
        if (old != null) TryDelete(old);
    }

    private static bool TryReadEntry(string entry, out DownloadedModel model)
    {
        model = null!;
        if (!File.Exists(System.IO.Path.Combine(entry, OriginFile))) return false;
        try { model = ReadEntry(entry); return File.Exists(model.Path) || Directory.Exists(model.Path); }
        catch (Exception ex) when (ex is JsonException or IOException) { return false; }
    }

    private static DownloadedModel ReadEntry(string entry)
    {
        var rec = JsonSerializer.Deserialize(File.ReadAllText(System.IO.Path.Combine(entry, OriginFile)), TrackingJson.Default.CacheRecord)
            ?? throw new JsonException("empty cache record");
        return new DownloadedModel(System.IO.Path.Combine(entry, rec.Path), rec.Origin with { FromCache = true });
    }

    private static ModelOrigin MergeCached(ModelOrigin asked, ModelOrigin cached) =>
        asked with { RunId = asked.RunId ?? cached.RunId, ArtifactUri = cached.ArtifactUri, FromCache = true };

    /// <summary>The cache entry: per server, then what the server said the URI is.</summary>
    private string EntryFor(ModelUri uri, ModelOrigin origin)
    {
        var parts = new List<string> { ServerKey(uri.Kind == ModelUriKind.Store ? null : client?.Settings) };
        switch (uri.Kind)
        {
            case ModelUriKind.Run: parts.AddRange(["runs", Escape(uri.RunId!)]); break;
            case ModelUriKind.Artifacts: parts.Add("artifacts"); break;
            case ModelUriKind.Store:
                var store = uri.ArtifactUri!;
                var authority = store[(store.IndexOf("://", StringComparison.Ordinal) + 3)..];
                authority = authority.Contains('/') ? authority[..authority.IndexOf('/')] : authority;
                parts.AddRange([ArtifactRepositories.SchemeOf(store), Escape(authority.Length == 0 ? "_" : authority)]);
                break;
            default: parts.AddRange(["models", Escape(uri.Name!), Escape(origin.Version!)]); break;
        }
        parts.AddRange(uri.Path.Length == 0 ? ["_"] : uri.Path.Split('/').Select(Escape).Prepend("_"));
        return System.IO.Path.Combine([CacheRoot, .. parts]);
    }

    private static string FolderName(ModelUri uri)
    {
        var p = uri.Path.Length > 0 ? uri.Path[(uri.Path.LastIndexOf('/') + 1)..] : uri.Name ?? "artifacts";
        return Escape(p);
    }

    internal static string ServerKey(TrackingSettings? s)
    {
        // A store's own URI needs no server: its entries sit under "stores", by scheme and bucket.
        if (s == null) return "stores";
        var u = s.TrackingUri;
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(u.ToString() + "|" + s.RegistryUri))).ToLowerInvariant()[..10];
        return Escape($"{u.Host}_{u.Port}") + "-" + hash;
    }

    /// <summary>A name safe as one folder name on every platform (percent-encoded otherwise).</summary>
    internal static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' || (c == '.' && sb.Length > 0)) sb.Append(c);
            else sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.Length == 0 ? "%" : sb.ToString();
    }

    /// <summary>A listed entry's name, refused when it would leave its folder.</summary>
    private static string SafeName(string name, string remote)
    {
        if (name.Length == 0 || name is "." or ".." || name.IndexOfAny(['/', '\\', '\0']) >= 0 || System.IO.Path.IsPathRooted(name))
            throw new ArtifactDownloadException($"The server listed the artifact '{remote}', whose name would leave the download folder.", remote);
        return name;
    }


    /// <summary>The run id in a proxied run artifact URI (mlflow-artifacts:/&lt;experiment&gt;/&lt;run&gt;/artifacts/...).</summary>
    private static string? RunIdOf(string artifactUri)
    {
        var parts = artifactUri.Split('/');
        for (int i = 1; i + 1 < parts.Length; i++)
            if (parts[i + 1] == "artifacts" && parts[i].Length == 32 && parts[i].All(char.IsAsciiHexDigit)) return parts[i];
        return null;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    /// <summary>Staging folders a killed process left behind (a day old: no download still running owns them).</summary>
    private static void RemoveStaleStaging(string stagingRoot)
    {
        if (!Directory.Exists(stagingRoot)) return;
        foreach (var d in new DirectoryInfo(stagingRoot).EnumerateDirectories())
            if (d.LastWriteTimeUtc < DateTime.UtcNow.AddDays(-1)) TryDelete(d.FullName);
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

internal sealed record CacheRecord(string Path, ModelOrigin Origin);
