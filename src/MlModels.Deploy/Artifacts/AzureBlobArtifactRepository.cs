using System.Text.RegularExpressions;
using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using MlModels.Core.Artifacts;
using MlModels.Deploy.AzureML;

namespace MlModels.Deploy.Artifacts;

/// <summary>Where a wasbs:// or abfss:// URI points: the container, the account, its Blob endpoint and the root's blob prefix.</summary>
public sealed record AzureBlobLocation(string Scheme, string Container, string Account, string Host, Uri AccountUrl, string Prefix);

/// <summary>
/// wasbs://container@account.blob.core.windows.net/path (or .blob.core.chinacloudapi.cn), as MLflow's
/// AzureBlobArtifactRepository reads and writes it: blob names are the root's path and the artifact path joined with
/// '/'; a listing is List Blobs with that prefix and the delimiter '/'. abfss://filesystem@account.dfs.core.windows.net/path
/// (ADLS Gen2) is read here through the Blob API of the same account (https://account.blob.core.windows.net, the file
/// system as the container): MLflow uses the Data Lake API, which has no .NET package this module ships, and a Gen2
/// account serves both APIs over the same data (multi-protocol access). Credentials in MLflow's order:
/// AZURE_STORAGE_CONNECTION_STRING, else AZURE_STORAGE_ACCESS_KEY (the account's shared key), else the module's Azure
/// sign-in chain (Connect-AzAccount, az login, environment, managed identity).
/// </summary>
public sealed partial class AzureBlobArtifactRepository : IArtifactRepository
{
    public const string ConnectionStringVariable = "AZURE_STORAGE_CONNECTION_STRING";
    public const string AccessKeyVariable = "AZURE_STORAGE_ACCESS_KEY";

    private readonly BlobContainerClient _container;
    // Named in access errors, so that the user knows which credential the store refused.
    private readonly string _credentialSource;

    /// <summary>Opens the repository with MLflow's credential order over the process environment.</summary>
    public AzureBlobArtifactRepository(string rootUri) : this(rootUri, Environment.GetEnvironmentVariable, null) { }

    /// <summary>Over a client the caller keeps (tests, or one client shared by several roots); the URI's account is not checked.</summary>
    public AzureBlobArtifactRepository(string rootUri, BlobServiceClient service)
    {
        ArgumentNullException.ThrowIfNull(service);
        RootUri = rootUri;
        Location = Parse(rootUri);
        _container = service.GetBlobContainerClient(Location.Container);
        _credentialSource = "the client given";
    }

    /// <summary>The environment and the sign-in chain given, so that a test can choose what each credential step sees.</summary>
    internal AzureBlobArtifactRepository(string rootUri, Func<string, string?> env, Func<AzureCloud, TokenCredential>? signIn)
    {
        RootUri = rootUri;
        Location = Parse(rootUri);
        signIn ??= cloud => AzureCredentialFactory.Create(new AzureCredentialOptions { Cloud = cloud });
        (var service, _credentialSource) = OpenService(Location, env, signIn);
        _container = service.GetBlobContainerClient(Location.Container);
    }

    public string RootUri { get; }
    public AzureBlobLocation Location { get; }

    [GeneratedRegex(@"^([^@]+)@([^.]+)\.(blob\.core\.(windows\.net|chinacloudapi\.cn))", RegexOptions.CultureInvariant)]
    private static partial Regex WasbsAuthority();

    [GeneratedRegex(@"^([^@]+)@([^.]+)\.(.+)", RegexOptions.CultureInvariant)]
    private static partial Regex AbfssAuthority();

    /// <summary>
    /// MLflow's parse_wasbs_uri (and _parse_abfss_uri): the authority matched from its start, the path without its
    /// leading '/'. An abfss host's "dfs." becomes "blob.", the same account's Blob endpoint.
    /// </summary>
    public static AzureBlobLocation Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var scheme = ArtifactRepositories.SchemeOf(uri);
        if (scheme is not ("wasbs" or "abfss") || !uri.AsSpan(scheme.Length).StartsWith("://", StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"'{uri}' is not a WASBS or ABFSS URI (wasbs://<container>@<account>.blob.core.windows.net/<path>).", nameof(uri));
        }
        // urlparse's split: the authority ends at '/', '?' or '#'; the path at '?' or '#', which MLflow drops.
        var rest = uri[(scheme.Length + 3)..];
        var end = rest.IndexOfAny(['?', '#']);
        if (end >= 0) rest = rest[..end];
        var slash = rest.IndexOf('/');
        var authority = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');

        if (scheme == "wasbs")
        {
            var m = WasbsAuthority().Match(authority);
            if (!m.Success)
            {
                throw new ArgumentException($"'{uri}': a WASBS URI must be of the form " +
                    "wasbs://<container>@<account>.blob.core.windows.net/<path> or " +
                    "wasbs://<container>@<account>.blob.core.chinacloudapi.cn/<path>.", nameof(uri));
            }
            var host = $"{m.Groups[2].Value}.{m.Groups[3].Value}";
            return new AzureBlobLocation(scheme, m.Groups[1].Value, m.Groups[2].Value, host, new Uri($"https://{host}"), prefix);
        }
        var a = AbfssAuthority().Match(authority);
        if (!a.Success)
        {
            throw new ArgumentException(
                $"'{uri}': an ABFSS URI must be of the form abfss://<filesystem>@<account>.dfs.core.windows.net/<path>.", nameof(uri));
        }
        var suffix = a.Groups[3].Value;
        var blobSuffix = suffix.StartsWith("dfs.", StringComparison.OrdinalIgnoreCase) ? "blob." + suffix[4..] : suffix;
        var abfssHost = $"{a.Groups[2].Value}.{suffix}";
        if (!Uri.TryCreate($"https://{a.Groups[2].Value}.{blobSuffix}", UriKind.Absolute, out var accountUrl))
            throw new ArgumentException($"'{uri}': '{abfssHost}' is not a host name.", nameof(uri));
        return new AzureBlobLocation(scheme, a.Groups[1].Value, a.Groups[2].Value, abfssHost, accountUrl, prefix);
    }

    /// <summary>MLflow's order; an empty variable counts as unset, since no client can be built from it.</summary>
    internal static (BlobServiceClient Service, string Source) OpenService(AzureBlobLocation location, Func<string, string?> env,
        Func<AzureCloud, TokenCredential> signIn)
    {
        if (env(ConnectionStringVariable) is { Length: > 0 } connection)
        {
            BlobServiceClient service;
            try { service = new BlobServiceClient(connection); }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                throw new ArgumentException($"{ConnectionStringVariable} is not a storage connection string: {ex.Message}", ex);
            }
            // MLflow reads the connection string's account whatever the URI names; a mismatch would read another account's container.
            if (!string.IsNullOrEmpty(service.AccountName)
                && !string.Equals(service.AccountName, location.Account, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"{location.Scheme}://{location.Container}@{location.Host}: the account " +
                    $"'{location.Account}' is not the account '{service.AccountName}' of {ConnectionStringVariable}.");
            }
            return (service, ConnectionStringVariable);
        }
        if (env(AccessKeyVariable) is { Length: > 0 } key)
            return (new BlobServiceClient(location.AccountUrl, new StorageSharedKeyCredential(location.Account, key)), AccessKeyVariable);
        return (new BlobServiceClient(location.AccountUrl, signIn(CloudOf(location.AccountUrl.Host))), "the Azure sign-in");
    }

    private static AzureCloud CloudOf(string host) =>
        host.EndsWith(".chinacloudapi.cn", StringComparison.OrdinalIgnoreCase) ? AzureCloud.China
        : host.EndsWith(".usgovcloudapi.net", StringComparison.OrdinalIgnoreCase) ? AzureCloud.USGovernment
        : AzureCloud.Public;

    private string BlobOf(string path) => ArtifactPaths.Join(Location.Prefix, path);

    private string UriOf(string path) => $"{Location.Scheme}://{Location.Container}@{Location.Host}/{BlobOf(path)}";

    public async Task<IReadOnlyList<ArtifactEntry>> ListAsync(string path, CancellationToken ct)
    {
        var dest = BlobOf(path);
        var prefix = dest.Length == 0 ? "" : dest + "/";
        var entries = new List<ArtifactEntry>();
        var folders = new HashSet<string>(StringComparer.Ordinal);
        var files = new List<BlobItem>();
        try
        {
            // Metadata, to tell a Gen2 account's directory (a blob marked hdi_isfolder) from a file.
            var options = new GetBlobsByHierarchyOptions { Traits = BlobTraits.Metadata, Delimiter = "/", Prefix = prefix };
            var pages = _container.GetBlobsByHierarchyAsync(options, ct);
            await foreach (var item in pages.ConfigureAwait(false))
            {
                if (item.IsPrefix) folders.Add(item.Prefix.TrimEnd('/'));
                // A Gen2 directory is a folder even when empty, as the Data Lake API lists it.
                else if (IsDirectoryMarker(item.Blob)) folders.Add(item.Blob.Name);
                else files.Add(item.Blob);
            }
        }
        catch (RequestFailedException ex) { throw Wrap(ex, "List Blobs", UriOf(path)); }
        catch (Exception ex) when (IsSignInFailure(ex)) { throw SignInFailed(ex, UriOf(path)); }

        foreach (var f in folders) entries.Add(new ArtifactEntry(Relative(f), true, null));
        foreach (var b in files)
        {
            // The listed path itself or its folder marker ("dir/") is not an entry of it.
            if (b.Name == dest || b.Name == prefix) continue;
            // A blob that is also a folder's name is a marker written without the Gen2 metadata.
            if (folders.Contains(b.Name)) continue;
            entries.Add(new ArtifactEntry(Relative(b.Name), false, b.Properties.ContentLength));
        }
        return entries.OrderBy(e => e.Path, StringComparer.Ordinal).ToList();
    }

    private static bool IsDirectoryMarker(BlobItem b) =>
        b.Metadata != null && b.Metadata.TryGetValue("hdi_isfolder", out var v) && string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>A listed name relative to the root; a name outside it is the store's fault and refused, as MLflow refuses it.</summary>
    private string Relative(string name)
    {
        if (Location.Prefix.Length == 0) return name;
        if (!name.StartsWith(Location.Prefix + "/", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{Location.Scheme}://{Location.Container}@{Location.Host}: the listed blob '{name}' " +
                $"does not begin with the artifact path '{Location.Prefix}'.");
        }
        return name[(Location.Prefix.Length + 1)..];
    }

    public async Task DownloadAsync(string path, Stream destination, CancellationToken ct)
    {
        try { await _container.GetBlobClient(BlobOf(path)).DownloadToAsync(destination, ct).ConfigureAwait(false); }
        catch (RequestFailedException ex) { throw Wrap(ex, "Get Blob", UriOf(path)); }
        catch (Exception ex) when (IsSignInFailure(ex)) { throw SignInFailed(ex, UriOf(path)); }
    }

    public async Task UploadAsync(string localFile, string path, CancellationToken ct)
    {
        try { await _container.GetBlobClient(BlobOf(path)).UploadAsync(localFile, overwrite: true, ct).ConfigureAwait(false); }
        catch (RequestFailedException ex) { throw Wrap(ex, "Put Blob", UriOf(path)); }
        catch (Exception ex) when (IsSignInFailure(ex)) { throw SignInFailed(ex, UriOf(path)); }
    }

    private static bool IsSignInFailure(Exception ex) =>
        ex is AzureSignInException or AuthenticationFailedException or CredentialUnavailableException;

    private static ArtifactAccessException SignInFailed(Exception ex, string uri) => new(
        $"{uri}: no Azure credential to read it with: {ConnectionStringVariable} and {AccessKeyVariable} are not set, and the Azure " +
        $"sign-in failed. {ex.Message}", uri, ex);

    private Exception Wrap(RequestFailedException ex, string operation, string uri)
    {
        var detail = $"{ex.ErrorCode ?? "HTTP " + ex.Status}: {FirstLine(ex.Message)}";
        var refused = $"{uri}: Azure Storage refused {operation} with the credentials from {_credentialSource} ({detail})";
        return ex.ErrorCode switch
        {
            "ContainerNotFound" => new ArtifactNotFoundException(
                $"{uri}: the container '{Location.Container}' does not exist in the storage account '{Location.Account}' ({operation}: {detail})",
                $"{Location.Scheme}://{Location.Container}@{Location.Host}", ex),
            _ when ex.Status == 404 => new ArtifactNotFoundException($"{uri}: {operation} found nothing ({detail})", uri, ex),
            "AuthorizationFailure" or "AuthenticationFailed" or "AuthorizationPermissionMismatch" or "InsufficientAccountPermissions" =>
                new ArtifactAccessException(refused, uri, ex),
            _ when ex.Status == 403 => new ArtifactAccessException(refused, uri, ex),
            _ => new IOException($"{uri}: Azure Storage {operation} failed ({detail}, HTTP {ex.Status})", ex),
        };
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();


    // The SDK's clients hold no resources of their own to release.
    public void Dispose() { }
}
