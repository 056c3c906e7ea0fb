using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace MlModels.Deploy.AzureML;

/// <summary>Where a folder landed in the datastore: the blob prefix and the azureml:// URI Azure ML assets take.</summary>
public sealed record DatastoreUpload(string Datastore, string BlobPrefix, string AzureMLUri, int Files, long Bytes);

/// <summary>
/// Uploads a model folder to a workspace's blob datastore with Azure.Storage.Blobs, under LocalUpload/{content hash}/
/// as Azure ML's own clients do, so the same folder uploaded twice lands on the same path. The datastore's own
/// credentials decide how: identity-based (the caller's token) where it holds none, its account key or SAS token
/// (Datastores_ListSecrets) where it holds one.
/// </summary>
public sealed class DatastoreUploader(AzureMLClient client, TokenCredential credential)
{
    /// <summary>The blob service to use instead of the datastore's own (a private endpoint or a local emulator).</summary>
    public Uri? BlobServiceUri { get; init; }

    /// <summary>Transport for the blob client (tests put a fault injector here).</summary>
    public HttpClient? Transport { get; init; }

    public static Uri ContainerUri(DatastoreProperties p, Uri? serviceOverride)
    {
        if (string.IsNullOrEmpty(p.ContainerName)) throw new InvalidOperationException("The datastore names no blob container.");
        if (serviceOverride != null) return new Uri(serviceOverride.ToString().TrimEnd('/') + "/" + p.ContainerName);
        if (string.IsNullOrEmpty(p.AccountName)) throw new InvalidOperationException("The datastore names no storage account.");
        return new Uri($"{p.Protocol ?? "https"}://{p.AccountName}.blob.{p.Endpoint ?? "core.windows.net"}/{p.ContainerName}");
    }

    public async Task<DatastoreUpload> UploadFolderAsync(
        DatastoreResource datastore,
        string folder,
        IProgress<DeploymentProgress>? progress,
        CancellationToken ct)
    {
        var files = FilesOf(folder);
        var hash = ContentHash(folder, files);
        var prefix = $"LocalUpload/{hash}/{Path.GetFileName(Path.TrimEndingDirectorySeparator(folder))}";
        var container = await ContainerAsync(datastore, ct).ConfigureAwait(false);
        long total = files.Sum(f => new FileInfo(f).Length), done = 0;
        var n = 0;
        foreach (var file in files)
        {
            ct.ThrowIfCancellationRequested();
            var rel = Path.GetRelativePath(folder, file).Replace('\\', '/');
            progress?.Report(new DeploymentProgress(
                "Uploading the model to the datastore",
                $"{rel} ({++n} of {files.Count})",
                total == 0 ? 100 : (int)(100 * done / total)));
            await using (var stream = File.OpenRead(file))
            {
                await container.GetBlobClient(prefix + "/" + rel).UploadAsync(stream, new BlobUploadOptions(), ct).ConfigureAwait(false);
            }
            done += new FileInfo(file).Length;
        }
        progress?.Report(new DeploymentProgress("Uploading the model to the datastore", $"{files.Count} files", 100));
        var ws = client.Workspace;
        var uri = $"azureml://subscriptions/{ws.SubscriptionId}/resourcegroups/{ws.ResourceGroupName}/workspaces/{ws.WorkspaceName}" +
            $"/datastores/{datastore.Name}/paths/{prefix}";
        return new DatastoreUpload(datastore.Name!, prefix, uri, files.Count, total);
    }

    private async Task<BlobContainerClient> ContainerAsync(DatastoreResource datastore, CancellationToken ct)
    {
        var p = datastore.Properties ?? throw new InvalidOperationException($"The datastore '{datastore.Name}' has no properties.");
        var uri = ContainerUri(p, BlobServiceUri);
        var options = new BlobClientOptions();
        if (Transport != null) options.Transport = new Azure.Core.Pipeline.HttpClientTransport(Transport);
        var kind = p.Credentials?.CredentialsType ?? "None";
        if (kind.Equals("None", StringComparison.OrdinalIgnoreCase))
            return new BlobContainerClient(uri, credential, options);
        var secrets = await client.ListDatastoreSecretsAsync(datastore.Name!, ct).ConfigureAwait(false);
        if (secrets.SecretsType?.Equals("AccountKey", StringComparison.OrdinalIgnoreCase) == true && !string.IsNullOrEmpty(secrets.Key))
            return new BlobContainerClient(uri, new StorageSharedKeyCredential(p.AccountName, secrets.Key), options);
        if (secrets.SecretsType?.Equals("Sas", StringComparison.OrdinalIgnoreCase) == true && !string.IsNullOrEmpty(secrets.SasToken))
            return new BlobContainerClient(uri, new AzureSasCredential(secrets.SasToken), options);
        // A datastore whose secrets this sign-in cannot read (or of a kind without a key): the caller's identity.
        return new BlobContainerClient(uri, credential, options);
    }

    /// <summary>The folder's files, sorted, without following links out of it.</summary>
    internal static List<string> FilesOf(string folder)
    {
        var root = Path.GetFullPath(folder);
        var list = new List<string>();
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
            IgnoreInaccessible = false
        };
        foreach (var f in Directory.EnumerateFiles(root, "*", options)) list.Add(f);
        list.Sort(StringComparer.Ordinal);
        return list;
    }

    internal static string ContentHash(string folder, List<string> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var f in files)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(folder, f).Replace('\\', '/') + "\0"));
            using var s = File.OpenRead(f);
            var buffer = new byte[81920];
            int read;
            while ((read = s.Read(buffer)) > 0) sha.AppendData(buffer.AsSpan(0, read));
            sha.AppendData([0]);
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant()[..32];
    }
}
