using Azure.Storage;
using Azure.Storage.Blobs;
using MlModels.Core.Format;
using MlModels.Core.Tests;
using MlModels.Deploy.AzureML;

namespace MlModels.Deploy.Tests.AzureML;

/// <summary>The datastore upload against Azurite's blob service (.ci/services/azurite.sh sets AZURITE_BLOB_ENDPOINT).</summary>
[Trait("Category", "Cloud")]
public class AzuriteUploadTests
{
    private const string AzuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    [SkippableFact]
    public async Task Publish_UploadsTheModelFolderToAzurite_WithTheDatastoresAccountKey()
    {
        var endpoint = Environment.GetEnvironmentVariable("AZURITE_BLOB_ENDPOINT");
        Prerequisites.Require(!string.IsNullOrEmpty(endpoint), "Azurite (AZURITE_BLOB_ENDPOINT from .ci/services/azurite.sh)");
        var service = new BlobServiceClient(new Uri(endpoint!), new StorageSharedKeyCredential("devstoreaccount1", AzuriteKey));
        var container = service.GetBlobContainerClient("azureml-blobstore-test");
        await container.CreateIfNotExistsAsync();

        var fake = new ArmFake { CheckUploads = false };
        using var arm = new ArmClient(ArmFake.ArmBase, new StaticTokenCredential(ArmFake.Token), "https://management.fake.test/.default", fake, new FastTime());
        var client = new AzureMLClient(arm, new AzureMLWorkspace(ArmFake.Sub, ArmFake.Rg, ArmFake.WsName));
        var model = Path.Combine(TestPaths.NewTempDir(), "azurite-model");
        Directory.CreateDirectory(model);
        foreach (var f in Directory.GetFiles(Path.Combine(TestPaths.Examples, "pyfunc-custom"), "*", SearchOption.AllDirectories))
        {
            var dest = Path.Combine(model, Path.GetRelativePath(Path.Combine(TestPaths.Examples, "pyfunc-custom"), f));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(f, dest);
        }
        var binary = new byte[300_000];
        new Random(7).NextBytes(binary);
        File.WriteAllBytes(Path.Combine(model, "data", "weights.bin"), binary);

        var deployer = new AzureMLDeployer(client, new DatastoreUploader(client, new StaticTokenCredential("unused")) { BlobServiceUri = new Uri(endpoint!) },
            new StaticTokenCredential(ArmFake.Token), "https://management.fake.test/.default", fake);
        var result = await deployer.PublishAsync(new AzureMLPublishRequest(model, "azurite-endpoint"), ModelStore.Load(model), null, default);
        Assert.Empty(fake.Violations);

        var modelUri = fake.Resources.Single(r => r.Key.StartsWith("/models/", StringComparison.Ordinal)).Value["properties"]!["modelUri"]!.GetValue<string>();
        var prefix = modelUri[(modelUri.IndexOf("/paths/", StringComparison.Ordinal) + 7)..];
        var names = new List<string>();
        await foreach (var b in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix + "/", default)) names.Add(b.Name[(prefix.Length + 1)..]);
        var expected = Directory.GetFiles(model, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(model, f).Replace('\\', '/')).Order(StringComparer.Ordinal);
        Assert.Equal(expected, names.Order(StringComparer.Ordinal));
        var downloaded = (await container.GetBlobClient(prefix + "/data/weights.bin").DownloadContentAsync()).Value.Content.ToArray();
        Assert.Equal(binary, downloaded);
        Assert.Equal("Succeeded", result.ProvisioningState);
    }
}
