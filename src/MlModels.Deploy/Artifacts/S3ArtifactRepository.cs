using System.Globalization;
using System.Net;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using MlModels.Core.Artifacts;
using MlModels.Deploy.Aws;

namespace MlModels.Deploy.Artifacts;

/// <summary>
/// s3://bucket/path, as MLflow's S3ArtifactRepository reads and writes it: keys are the root's path and the artifact
/// path joined with '/'; a listing is ListObjectsV2 with that prefix and the delimiter '/'. MLflow's environment:
/// MLFLOW_S3_ENDPOINT_URL (an S3-compatible store such as MinIO, path-style addressing), MLFLOW_S3_IGNORE_TLS,
/// MLFLOW_S3_UPLOAD_EXTRA_ARGS (a JSON object of upload arguments); credentials and region from the AWS chain the
/// SageMaker cmdlets use (environment, profiles, SSO, instance roles), us-east-1 where nothing names a region.
/// </summary>
public sealed class S3ArtifactRepository : IArtifactRepository
{
    public const string EndpointVariable = "MLFLOW_S3_ENDPOINT_URL";
    public const string IgnoreTlsVariable = "MLFLOW_S3_IGNORE_TLS";
    public const string UploadExtraArgsVariable = "MLFLOW_S3_UPLOAD_EXTRA_ARGS";

    private readonly AwsConnection? _owned;
    private readonly IAmazonS3 _s3;

    /// <summary>Opens the repository with the AWS chain and MLflow's S3 variables.</summary>
    public S3ArtifactRepository(string rootUri) : this(rootUri, OpenConnection(rootUri), owned: true) { }

    /// <summary>Over a connection the caller keeps (tests, or a cmdlet's -Region/-ProfileName).</summary>
    public S3ArtifactRepository(string rootUri, AwsConnection connection, bool owned = false)
    {
        RootUri = rootUri;
        (Bucket, Prefix) = Parse(rootUri);
        _owned = owned ? connection : null;
        _s3 = connection.CreateS3Client();
    }

    public string RootUri { get; }
    public string Bucket { get; }
    /// <summary>The root's key prefix, without leading or trailing '/'.</summary>
    public string Prefix { get; }

    /// <summary>MLflow's parse_s3_compliant_uri: the bucket is the authority, the key root the path without its leading '/'.</summary>
    public static (string Bucket, string Prefix) Parse(string uri)
    {
        if (!uri.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"'{uri}' is not an S3 URI (s3://<bucket>/<path>).", nameof(uri));
        var rest = uri[5..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        if (bucket.Length == 0) throw new ArgumentException($"'{uri}' names no bucket.", nameof(uri));
        return (bucket, slash < 0 ? "" : rest[(slash + 1)..].Trim('/'));
    }

    private static AwsConnection OpenConnection(string uri)
    {
        var region = Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION");
        if (string.IsNullOrEmpty(region))
        {
            try { region = FallbackRegionFactory.GetRegionEndpoint()?.SystemName; }
            catch (AmazonClientException) { region = null; }
        }
        var options = new AwsConnectionOptions
        {
            ProfileName = Environment.GetEnvironmentVariable("AWS_PROFILE") is { Length: > 0 } p ? p : null,
            // boto3's S3 client works without a region (us-east-1); so does MLflow's.
            Region = string.IsNullOrEmpty(region) ? "us-east-1" : region,
            EndpointUrl = Environment.GetEnvironmentVariable(EndpointVariable) is { Length: > 0 } e ? e : null,
            Handler = IgnoreTls() ? InsecureHandler() : null,
        };
        try { return AwsConnection.Open(options); }
        catch (AwsConfigurationException ex)
        {
            throw new ArtifactAccessException($"{uri}: no AWS credentials to read it with. {ex.Message}", uri, ex);
        }
    }

    private static bool IgnoreTls() => Environment.GetEnvironmentVariable(IgnoreTlsVariable)?.Trim().ToLowerInvariant() switch
    {
        null or "" or "false" or "0" => false,
        "true" or "1" => true,
        var v => throw new ArgumentException($"{IgnoreTlsVariable} must be true, false, 1 or 0, not '{v}'."),
    };

    private static HttpMessageHandler InsecureHandler()
    {
        var h = new SocketsHttpHandler();
        // MLFLOW_S3_IGNORE_TLS: the user asked, as MLflow allows, to skip verification (a store with a self-signed certificate).
#pragma warning disable CA5359
        h.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        return h;
    }

    private string KeyOf(string path) => ArtifactPaths.Join(Prefix, path);

    private string UriOf(string path) => $"s3://{Bucket}/{KeyOf(path)}";

    public async Task<IReadOnlyList<ArtifactEntry>> ListAsync(string path, CancellationToken ct)
    {
        var dest = KeyOf(path);
        var prefix = dest.Length == 0 ? "" : dest + "/";
        var entries = new List<ArtifactEntry>();
        var request = new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix, Delimiter = "/" };
        ListObjectsV2Response page;
        do
        {
            try { page = await _s3.ListObjectsV2Async(request, ct).ConfigureAwait(false); }
            catch (AmazonS3Exception ex) { throw Wrap(ex, "ListObjectsV2", UriOf(path)); }
            foreach (var p in page.CommonPrefixes ?? [])
                entries.Add(new ArtifactEntry(Relative(p.TrimEnd('/')), true, null));
            foreach (var o in page.S3Objects ?? [])
            {
                // A folder marker ("dir/") lists as the folder itself: not an entry of it.
                if (o.Key == prefix) continue;
                entries.Add(new ArtifactEntry(Relative(o.Key), false, o.Size));
            }
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        return entries.OrderBy(e => e.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>A listed key relative to the root; a key outside it is the store's fault and refused, as MLflow refuses it.</summary>
    private string Relative(string key)
    {
        if (Prefix.Length == 0) return key;
        if (!key.StartsWith(Prefix + "/", StringComparison.Ordinal))
            throw new InvalidDataException($"s3://{Bucket}: the listed key '{key}' does not begin with the artifact path '{Prefix}'.");
        return key[(Prefix.Length + 1)..];
    }

    public async Task DownloadAsync(string path, Stream destination, CancellationToken ct)
    {
        GetObjectResponse response;
        try { response = await _s3.GetObjectAsync(Bucket, KeyOf(path), ct).ConfigureAwait(false); }
        catch (AmazonS3Exception ex) { throw Wrap(ex, "GetObject", UriOf(path)); }
        using (response)
        {
            await response.ResponseStream.CopyToAsync(destination, ct).ConfigureAwait(false);
        }
    }

    public async Task UploadAsync(string localFile, string path, CancellationToken ct)
    {
        var request = new PutObjectRequest { BucketName = Bucket, Key = KeyOf(path), FilePath = localFile };
        var (type, encoding) = MimeTypes.Guess(localFile);
        if (type != null) request.ContentType = type;
        if (encoding != null) request.Headers.ContentEncoding = encoding;
        ApplyExtraArgs(request, Environment.GetEnvironmentVariable(UploadExtraArgsVariable));
        try { await _s3.PutObjectAsync(request, ct).ConfigureAwait(false); }
        catch (AmazonS3Exception ex) { throw Wrap(ex, "PutObject", UriOf(path)); }
    }

    /// <summary>MLFLOW_S3_UPLOAD_EXTRA_ARGS: boto3's ExtraArgs names, those S3's PutObject takes; another name is an error naming it.</summary>
    public static void ApplyExtraArgs(PutObjectRequest request, string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return;
        JsonElement root;
        try { root = JsonDocument.Parse(json).RootElement; }
        catch (JsonException ex) { throw new ArgumentException($"{UploadExtraArgsVariable} is not JSON: {ex.Message}", ex); }
        if (root.ValueKind != JsonValueKind.Object) throw new ArgumentException($"{UploadExtraArgsVariable} must be a JSON object.");
        foreach (var p in root.EnumerateObject())
        {
            var v = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            switch (p.Name)
            {
                case "ServerSideEncryption": request.ServerSideEncryptionMethod = new ServerSideEncryptionMethod(v); break;
                case "SSEKMSKeyId": request.ServerSideEncryptionKeyManagementServiceKeyId = v; break;
                case "ACL": request.CannedACL = new S3CannedACL(v); break;
                case "ContentType": request.ContentType = v; break;
                case "ContentEncoding": request.Headers.ContentEncoding = v; break;
                case "CacheControl": request.Headers.CacheControl = v; break;
                case "StorageClass": request.StorageClass = new S3StorageClass(v); break;
                case "Metadata" when p.Value.ValueKind == JsonValueKind.Object:
                    foreach (var m in p.Value.EnumerateObject()) request.Metadata[m.Name] = m.Value.ToString();
                    break;
                default: throw new ArgumentException($"{UploadExtraArgsVariable}: '{p.Name}' is not an upload argument this module passes to S3.");
            }
        }
    }

    private static Exception Wrap(AmazonS3Exception ex, string operation, string uri) => ex.ErrorCode switch
    {
        "NoSuchKey" or "NoSuchBucket" => new ArtifactNotFoundException($"{uri}: {operation} found nothing ({ex.ErrorCode}: {ex.Message})", uri, ex),
        _ when ex.StatusCode == HttpStatusCode.NotFound => new ArtifactNotFoundException($"{uri}: {operation} found nothing ({ex.Message})", uri, ex),
        "AccessDenied" or "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "ExpiredToken" =>
            new ArtifactAccessException($"{uri}: S3 refused {operation} ({ex.ErrorCode}: {ex.Message})", uri, ex),
        _ => new IOException($"{uri}: S3 {operation} failed ({ex.ErrorCode}, HTTP {(int)ex.StatusCode}: {ex.Message})", ex),
    };


    public void Dispose()
    {
        _s3.Dispose();
        _owned?.Dispose();
    }
}

/// <summary>Python's mimetypes.guess_type for the files a model holds: the type, and gzip/bzip2 encodings MLflow sends beside it.</summary>
internal static class MimeTypes
{
    private static readonly Dictionary<string, string> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        // Only the types Python's own table gives on every platform; others (.pkl, .yaml, MLmodel) get none, as from MLflow.
        [".txt"] = "text/plain", [".json"] = "application/json", [".csv"] = "text/csv", [".html"] = "text/html",
        [".xml"] = "application/xml", [".md"] = "text/markdown", [".py"] = "text/x-python", [".tar"] = "application/x-tar", [".zip"]
            = "application/zip",
        [".png"] = "image/png",
    };

    public static (string? Type, string? Encoding) Guess(string file)
    {
        var name = Path.GetFileName(file);
        string? encoding = null;
        if (name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) { encoding = "gzip"; name = name[..^3]; }
        else if (name.EndsWith(".bz2", StringComparison.OrdinalIgnoreCase)) { encoding = "bzip2"; name = name[..^4]; }
        return (Types.GetValueOrDefault(Path.GetExtension(name)), encoding);
    }
}
