using System.Globalization;
using System.Net;
using Google;
using Google.Cloud.Storage.V1;
using MlModels.Core.Artifacts;

namespace MlModels.Deploy.Artifacts;

/// <summary>
/// gs://bucket/path, as MLflow's GCSArtifactRepository reads and writes it: object names are the root's path and the
/// artifact path joined with '/'; a listing is objects.list with that prefix and the delimiter '/'. Credentials are
/// Google's application default credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, the metadata server),
/// and an anonymous client where there are none, as MLflow falls back to one. Each request's timeout is
/// MLFLOW_ARTIFACT_UPLOAD_DOWNLOAD_TIMEOUT, else MLFLOW_GCS_DEFAULT_TIMEOUT, else 60 seconds; -1 is none.
/// </summary>
public sealed class GcsArtifactRepository : IArtifactRepository
{
    public const string TimeoutVariable = "MLFLOW_ARTIFACT_UPLOAD_DOWNLOAD_TIMEOUT";
    public const string GcsTimeoutVariable = "MLFLOW_GCS_DEFAULT_TIMEOUT";

    // The Python library's default content type, where mimetypes finds none.
    private const string DefaultContentType = "application/octet-stream";

    private readonly Lazy<Task<Connection>> _connection;
    private readonly bool _owned;

    /// <summary>Why a client is anonymous (no application default credentials); null for one that has them.</summary>
    private sealed record Connection(StorageClient Client, string? NoCredentials);

    /// <summary>Opens the repository with the application default credentials, found on first use.</summary>
    public GcsArtifactRepository(string rootUri)
        : this(rootUri, new Lazy<Task<Connection>>(ConnectAsync, LazyThreadSafetyMode.ExecutionAndPublication), owned: true) { }

    /// <summary>Over a client the caller keeps (tests, or one built with other credentials).</summary>
    public GcsArtifactRepository(string rootUri, StorageClient client) : this(rootUri, client, noCredentials: null) { }

    /// <summary>Over a client that is anonymous for the reason given, so that a refusal says so (tests).</summary>
    internal GcsArtifactRepository(string rootUri, StorageClient client, string? noCredentials)
        : this(rootUri, Given(client, noCredentials), owned: false) { }

    private GcsArtifactRepository(string rootUri, Lazy<Task<Connection>> connection, bool owned)
    {
        RootUri = rootUri;
        (Bucket, Prefix) = Parse(rootUri);
        _connection = connection;
        _owned = owned;
    }

    private static Lazy<Task<Connection>> Given(StorageClient client, string? noCredentials)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new(Task.FromResult(new Connection(client, noCredentials)));
    }

    public string RootUri { get; }
    public string Bucket { get; }
    /// <summary>The root's object name prefix, without leading or trailing '/'.</summary>
    public string Prefix { get; }

    /// <summary>MLflow's parse_gcs_uri: the bucket is the authority, the object prefix the path without its leading '/'.</summary>
    public static (string Bucket, string Prefix) Parse(string uri)
    {
        if (!uri.StartsWith("gs://", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{uri}' is not a Cloud Storage URI (gs://<bucket>/<path>).", nameof(uri));
        var rest = uri[5..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        if (bucket.Length == 0) throw new ArgumentException($"'{uri}' names no bucket.", nameof(uri));
        return (bucket, slash < 0 ? "" : rest[(slash + 1)..].Trim('/'));
    }

    /// <summary>The per-request timeout MLflow passes to the library: null for none (-1).</summary>
    public static TimeSpan? Timeout(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        foreach (var name in new[] { TimeoutVariable, GcsTimeoutVariable })
        {
            var text = environment(name);
            if (string.IsNullOrWhiteSpace(text)) continue;
            if (!int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) || seconds < -1)
                throw new ArgumentException($"{name} must be a number of seconds, or -1 for no timeout, not '{text}'.");
            return seconds == -1 ? null : TimeSpan.FromSeconds(seconds);
        }
        return TimeSpan.FromSeconds(60);
    }

    private static async Task<Connection> ConnectAsync()
    {
        var timeout = Timeout();
        StorageClient client;
        string? noCredentials = null;
        try { client = await StorageClient.CreateAsync().ConfigureAwait(false); }
        catch (InvalidOperationException ex)
        {
            // MLflow's fallback: public buckets read without credentials; a private one is refused, and the refusal says why.
            noCredentials = ex.Message;
            client = await new StorageClientBuilder { UnauthenticatedAccess = true }.BuildAsync().ConfigureAwait(false);
        }
        client.Service.HttpClient.Timeout = timeout ?? System.Threading.Timeout.InfiniteTimeSpan;
        return new Connection(client, noCredentials);
    }

    private string NameOf(string path) => ArtifactPaths.Join(Prefix, path);

    private string UriOf(string path) => $"gs://{Bucket}/{NameOf(path)}";

    public async Task<IReadOnlyList<ArtifactEntry>> ListAsync(string path, CancellationToken ct)
    {
        var connection = await _connection.Value.ConfigureAwait(false);
        var dest = NameOf(path);
        var prefix = dest.Length == 0 ? "" : dest + "/";
        var entries = new List<ArtifactEntry>();
        var options = new ListObjectsOptions { Delimiter = "/" };
        try
        {
            await foreach (var page in connection.Client.ListObjectsAsync(Bucket, prefix, options).AsRawResponses().WithCancellation(ct)
                .ConfigureAwait(false))
            {
                foreach (var p in page.Prefixes ?? [])
                    entries.Add(new ArtifactEntry(Relative(p.TrimEnd('/')), true, null));
                foreach (var o in page.Items ?? [])
                {
                    // A folder marker ("dir/") lists as the folder itself: not an entry of it.
                    if (o.Name == prefix) continue;
                    entries.Add(new ArtifactEntry(Relative(o.Name), false, o.Size is { } size ? (long)size : null));
                }
            }
        }
        catch (GoogleApiException ex) { throw Wrap(ex, "objects.list", UriOf(path), connection); }
        return entries.OrderBy(e => e.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>A listed name relative to the root; one outside it is the store's fault and refused.</summary>
    private string Relative(string name)
    {
        // At the bucket root every name is already relative (where MLflow 2.12 cuts a character too many).
        if (Prefix.Length == 0) return name;
        if (!name.StartsWith(Prefix + "/", StringComparison.Ordinal))
            throw new InvalidDataException($"gs://{Bucket}: the listed object '{name}' does not begin with the artifact path '{Prefix}'.");
        return name[(Prefix.Length + 1)..];
    }

    public async Task DownloadAsync(string path, Stream destination, CancellationToken ct)
    {
        var connection = await _connection.Value.ConfigureAwait(false);
        try { await connection.Client.DownloadObjectAsync(Bucket, NameOf(path), destination, options: null, ct).ConfigureAwait(false); }
        catch (GoogleApiException ex) { throw Wrap(ex, "download", UriOf(path), connection); }
    }

    public async Task UploadAsync(string localFile, string path, CancellationToken ct)
    {
        var connection = await _connection.Value.ConfigureAwait(false);
        // Only the type: the Python library sends no Content-Encoding, which would make the store un-gzip the file on download.
        var (type, _) = MimeTypes.Guess(localFile);
        var source = File.OpenRead(localFile);
        await using (source.ConfigureAwait(false))
        {
            try
            {
                await connection.Client.UploadObjectAsync(Bucket, NameOf(path), type ?? DefaultContentType, source, options: null, ct)
                    .ConfigureAwait(false);
            }
            catch (GoogleApiException ex) { throw Wrap(ex, "upload", UriOf(path), connection); }
        }
    }

    private Exception Wrap(GoogleApiException ex, string operation, string uri, Connection connection)
    {
        var detail = ex.Error?.Message is { Length: > 0 } m ? m : ex.Message;
        switch (ex.HttpStatusCode)
        {
            // Both answers are 404 "notFound"; only the message tells the bucket from the object.
            case HttpStatusCode.NotFound when detail.Contains("bucket does not exist", StringComparison.OrdinalIgnoreCase):
                return new ArtifactNotFoundException($"gs://{Bucket}: the bucket does not exist ({operation}: {detail})", $"gs://{Bucket}", ex);
            case HttpStatusCode.NotFound:
                return new ArtifactNotFoundException($"{uri}: {operation} found nothing ({detail})", uri, ex);
            case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden when connection.NoCredentials != null:
                return new ArtifactAccessException(
                    $"{uri}: Cloud Storage refused {operation} to an anonymous client ({detail}). No Google credentials were found " +
                    $"({connection.NoCredentials}): set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or run " +
                    "'gcloud auth application-default login'.", uri, ex);
            case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                return new ArtifactAccessException($"{uri}: Cloud Storage refused {operation} (HTTP {(int)ex.HttpStatusCode}: {detail})", uri, ex);
            default:
                return new IOException($"{uri}: Cloud Storage {operation} failed (HTTP {(int)ex.HttpStatusCode}: {detail})", ex);
        }
    }


    public void Dispose()
    {
        // A caller's client is the caller's to dispose; an owned one only if it was ever made.
        if (_owned && _connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully) _connection.Value.Result.Client.Dispose();
    }
}
