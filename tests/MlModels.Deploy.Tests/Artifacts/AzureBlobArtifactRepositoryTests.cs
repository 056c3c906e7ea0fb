using Azure.Core;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using MlModels.Core.Artifacts;
using MlModels.Core.Tests;
using MlModels.Core.Tracking;
using MlModels.Deploy.Artifacts;
using MlModels.Deploy.AzureML;

namespace MlModels.Deploy.Tests.Artifacts;

[Trait("Category", "Fast")]
public class AzureBlobArtifactRepositoryParseTests
{
    [Fact]
    public void Parse_Wasbs_GivesTheContainerTheAccountItsBlobEndpointAndThePath()
    {
        var l = AzureBlobArtifactRepository.Parse("wasbs://mlruns@acct1.blob.core.windows.net/1/abc/artifacts/");
        Assert.Equal(("wasbs", "mlruns", "acct1", "acct1.blob.core.windows.net"), (l.Scheme, l.Container, l.Account, l.Host));
        Assert.Equal(new Uri("https://acct1.blob.core.windows.net"), l.AccountUrl);
        Assert.Equal("1/abc/artifacts", l.Prefix);
    }

    [Fact]
    public void Parse_ChinaCloud_UsesItsOwnBlobEndpoint()
    {
        var l = AzureBlobArtifactRepository.Parse("wasbs://c@acct.blob.core.chinacloudapi.cn/m");
        Assert.Equal(new Uri("https://acct.blob.core.chinacloudapi.cn"), l.AccountUrl);
        Assert.Equal("m", l.Prefix);
    }

    [Fact]
    public void Parse_ContainerRoot_HasAnEmptyPrefix() =>
        Assert.Equal("", AzureBlobArtifactRepository.Parse("wasbs://c@acct.blob.core.windows.net").Prefix);

    [Fact]
    public void Parse_Abfss_ReadsTheFileSystemThroughTheSameAccountsBlobEndpoint()
    {
        var l = AzureBlobArtifactRepository.Parse("abfss://fs1@lake.dfs.core.windows.net/exp/run/artifacts");
        Assert.Equal(("abfss", "fs1", "lake", "lake.dfs.core.windows.net"), (l.Scheme, l.Container, l.Account, l.Host));
        Assert.Equal(new Uri("https://lake.blob.core.windows.net"), l.AccountUrl);
        Assert.Equal("exp/run/artifacts", l.Prefix);
    }

    [Fact]
    public void Parse_MatchesTheAuthorityFromItsStartOnly_AsMlflow()
    {
        // re.match anchors at the start: what follows the suffix (a port, more labels) is not part of the account URL.
        var l = AzureBlobArtifactRepository.Parse("wasbs://c@acct.blob.core.windows.net:443/p");
        Assert.Equal(new Uri("https://acct.blob.core.windows.net"), l.AccountUrl);
    }

    [Theory]
    [InlineData("s3://bucket/path")]
    [InlineData("wasb://c@acct.blob.core.windows.net/p")]
    [InlineData("wasbs://acct.blob.core.windows.net/p")]
    [InlineData("wasbs://c@acct.dfs.core.windows.net/p")]
    [InlineData("wasbs://c@acct.blob.core.example.com/p")]
    [InlineData("wasbs:///p")]
    [InlineData("abfss://lake.dfs.core.windows.net/p")]
    [InlineData("abfss://fs@lake/p")]
    public void Parse_RefusesOtherForms(string uri)
    {
        var ex = Assert.Throws<ArgumentException>(() => AzureBlobArtifactRepository.Parse(uri));
        Assert.Contains(uri, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NamesTheExpectedForms()
    {
        var ex = Assert.Throws<ArgumentException>(() => AzureBlobArtifactRepository.Parse("wasbs://c@acct.dfs.core.windows.net/p"));
        Assert.Contains("<container>@<account>.blob.core.windows.net", ex.Message, StringComparison.Ordinal);
        Assert.Contains("<container>@<account>.blob.core.chinacloudapi.cn", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_OpensWasbsAndAbfss()
    {
        var schemes = CloudArtifactStores.Register(ArtifactRepositories.WithBuiltIns()).Schemes;
        Assert.Contains("wasbs", schemes);
        Assert.Contains("abfss", schemes);
    }

    private static readonly AzureBlobLocation Acct = AzureBlobArtifactRepository.Parse("wasbs://c@acct.blob.core.windows.net/p");

    [Fact]
    public void Credentials_ConnectionStringComesFirst()
    {
        var env = Env(new()
        {
            [AzureBlobArtifactRepository.ConnectionStringVariable] = ConnectionString("acct", "http://127.0.0.1:1/acct"),
            [AzureBlobArtifactRepository.AccessKeyVariable] = AzuriteKey.Value,
        });
        var (service, source) = AzureBlobArtifactRepository.OpenService(Acct, env, _ => throw new InvalidOperationException("no sign-in"));
        Assert.Equal(AzureBlobArtifactRepository.ConnectionStringVariable, source);
        Assert.Equal(new Uri("http://127.0.0.1:1/acct"), service.Uri);
    }

    [Fact]
    public void Credentials_ConnectionStringOfAnotherAccount_IsRefused()
    {
        var env = Env(new() { [AzureBlobArtifactRepository.ConnectionStringVariable] = ConnectionString("other", "http://127.0.0.1:1/other") });
        var ex = Assert.Throws<ArgumentException>(
            () => AzureBlobArtifactRepository.OpenService(Acct, env, _ => throw new InvalidOperationException()));
        Assert.Contains("'other'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Credentials_AccessKeyIsTheAccountsSharedKey()
    {
        var env = Env(new() { [AzureBlobArtifactRepository.AccessKeyVariable] = AzuriteKey.Value });
        var (service, source) = AzureBlobArtifactRepository.OpenService(Acct, env, _ => throw new InvalidOperationException("no sign-in"));
        Assert.Equal(AzureBlobArtifactRepository.AccessKeyVariable, source);
        Assert.Equal(new Uri("https://acct.blob.core.windows.net"), service.Uri);
        Assert.True(service.CanGenerateAccountSasUri); // only a shared key signs SAS
    }

    [Fact]
    public void Credentials_OtherwiseTheSignInChain_ForTheUrisCloud()
    {
        AzureCloud? asked = null;
        var china = AzureBlobArtifactRepository.Parse("wasbs://c@acct.blob.core.chinacloudapi.cn/p");
        var (service, _) = AzureBlobArtifactRepository.OpenService(china, Env([]), cloud =>
        {
            asked = cloud;
            return new StaticTokenCredential("t");
        });
        Assert.Equal(AzureCloud.China, asked);
        Assert.False(service.CanGenerateAccountSasUri);
    }

    [Fact]
    public async Task NoCredentialWorks_IsAnAccessErrorNamingTheSourcesTried()
    {
        var chain = new AzureCredentialChain([
            new CredentialSource("AzurePowerShell", "run Connect-AzAccount", new Unavailable("no Az context")),
            new CredentialSource("AzureCli", "run az login", new Unavailable("az not found")),
        ]);
        using var repo = new AzureBlobArtifactRepository("wasbs://c@acct.blob.core.windows.net/p", Env([]), _ => chain);
        var ex = await Assert.ThrowsAsync<ArtifactAccessException>(() => repo.ListAsync("", default));
        Assert.Contains("AzurePowerShell: no Az context", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AzureCli: az not found", ex.Message, StringComparison.Ordinal);
        Assert.Contains(AzureBlobArtifactRepository.ConnectionStringVariable, ex.Message, StringComparison.Ordinal);
    }

    internal static Func<string, string?> Env(Dictionary<string, string> vars) => name => vars.GetValueOrDefault(name);

    internal static string ConnectionString(string account, string endpoint) =>
        $"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={AzuriteKey.Value};BlobEndpoint={endpoint};";

    private sealed class Unavailable(string reason) : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new Azure.Identity.CredentialUnavailableException(reason);

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new Azure.Identity.CredentialUnavailableException(reason);
    }
}

internal static class AzuriteKey
{
    // Azurite's published development key.
    public const string Value = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
}

/// <summary>
/// Against Azurite's blob service (.ci/services/azurite.sh sets AZURITE_BLOB_ENDPOINT). One class, so that the test that sets a
/// process variable runs alone.
/// </summary>
[Trait("Category", "Cloud")]
public class AzureBlobArtifactRepositoryAzuriteTests
{
    private const string Account = "devstoreaccount1";

    private static string Endpoint()
    {
        var endpoint = Environment.GetEnvironmentVariable("AZURITE_BLOB_ENDPOINT");
        Prerequisites.Require(!string.IsNullOrEmpty(endpoint), "Azurite (AZURITE_BLOB_ENDPOINT from .ci/services/azurite.sh)");
        return endpoint!;
    }

    private static BlobServiceClient Service(string key = AzuriteKey.Value) =>
        new(new Uri(Endpoint()), new StorageSharedKeyCredential(Account, key));

    private static async Task<BlobContainerClient> NewContainerAsync()
    {
        var container = Service().GetBlobContainerClient("mlm-" + Guid.NewGuid().ToString("N")[..20]);
        await container.CreateAsync();
        return container;
    }

    private static string Wasbs(BlobContainerClient c, string path) => $"wasbs://{c.Name}@{Account}.blob.core.windows.net/{path}";

    /// <summary>A model folder as mlflow.pyfunc.log_model leaves it, with files beside it that share its name's start.</summary>
    private static async Task<string> LayOutModelAsync(BlobContainerClient container, string root)
    {
        var local = Path.Combine(TestPaths.NewTempDir(), "model");
        var weights = new byte[300_000];
        new Random(22).NextBytes(weights);
        var files = new Dictionary<string, byte[]>
        {
            ["MLmodel"] = "artifact_path: model\nflavors:\n  python_function:\n    loader_module: m\n"u8.ToArray(),
            ["conda.yaml"] = "name: env\n"u8.ToArray(),
            ["data/x.bin"] = weights,
            ["data/nested/deeper/y.txt"] = "deep\n"u8.ToArray(),
            ["code/m.py"] = "def load(p): pass\n"u8.ToArray(),
        };
        foreach (var (name, bytes) in files)
        {
            var path = Path.Combine(local, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, bytes);
            await container.UploadBlobAsync($"{root}/model/{name}", BinaryData.FromBytes(bytes));
        }
        await container.UploadBlobAsync($"{root}/model.txt", BinaryData.FromString("beside"));
        await container.UploadBlobAsync($"{root}/modelx/other", BinaryData.FromString("beside"));
        return local;
    }

    [SkippableFact]
    public async Task ModelDownloader_ThroughTheConnectionString_GetsTheModelFolderByteForByte()
    {
        var container = await NewContainerAsync();
        var local = await LayOutModelAsync(container, "1/r1/artifacts");
        using var _ = new EnvScope(AzureBlobArtifactRepository.ConnectionStringVariable,
            AzureBlobArtifactRepositoryParseTests.ConnectionString(Account, Endpoint()));

        var downloader = new ModelDownloader(null, TestPaths.NewTempDir())
        {
            Repositories = CloudArtifactStores.Register(ArtifactRepositories.WithBuiltIns()),
        };
        var result = await downloader.DownloadAsync(Wasbs(container, "1/r1/artifacts/model"));

        static List<string> Files(string dir) => Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Files(local), Files(result.Path));
        foreach (var f in Files(local))
            Assert.True(File.ReadAllBytes(Path.Combine(local, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(result.Path, f))), f);
    }

    [SkippableFact]
    public async Task List_GivesFoldersAndFilesWithSizes_RelativeToTheRoot_InNameOrder()
    {
        var container = await NewContainerAsync();
        var local = await LayOutModelAsync(container, "1/r1/artifacts");
        using var repo = new AzureBlobArtifactRepository(Wasbs(container, "1/r1/artifacts"), Service());
        long SizeOf(string f) => new FileInfo(Path.Combine(local, f)).Length;

        Assert.Equal(
            [
                new("model/MLmodel", false, SizeOf("MLmodel")), new("model/code", true, null),
                new("model/conda.yaml", false, SizeOf("conda.yaml")), new("model/data", true, null),
            ],
            await repo.ListAsync("model", default));
        Assert.Equal(
            [new("model", true, null), new("model.txt", false, 6), new("modelx", true, null)],
            await repo.ListAsync("", default));
        Assert.Equal([new ArtifactEntry("model/data/nested/deeper", true, null)], await repo.ListAsync("model/data/nested", default));
        Assert.Empty(await repo.ListAsync("model/data/x.bin", default)); // a file lists nothing
        Assert.Empty(await repo.ListAsync("model/none", default));
    }

    [SkippableFact]
    public async Task List_TakesGen2DirectoryBlobsAsFolders_AndSkipsFolderMarkers()
    {
        var container = await NewContainerAsync();
        await container.UploadBlobAsync("root/model/data/x.bin", BinaryData.FromString("x"));
        // What a Gen2 account shows through the Blob API for a directory, and a "folder/" blob some tools write.
        await container.GetBlobClient("root/model/data").UploadAsync(BinaryData.FromBytes([]),
            new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["hdi_isfolder"] = "true" } });
        await container.GetBlobClient("root/model/empty").UploadAsync(BinaryData.FromBytes([]),
            new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["hdi_isfolder"] = "true" } });
        await container.UploadBlobAsync("root/model/", BinaryData.FromBytes([]));
        // A marker without the metadata (copied by a tool that drops it) still names a folder that has files.
        await container.UploadBlobAsync("root/model/code/m.py", BinaryData.FromString("m"));
        await container.UploadBlobAsync("root/model/code", BinaryData.FromBytes([]));
        using var repo = new AzureBlobArtifactRepository($"abfss://{container.Name}@{Account}.dfs.core.windows.net/root", Service());

        Assert.Equal(
            [new ArtifactEntry("model/code", true, null), new ArtifactEntry("model/data", true, null), new ArtifactEntry("model/empty", true, null)],
            await repo.ListAsync("model", default));
        Assert.Empty(await repo.ListAsync("model/empty", default));
    }

    [SkippableFact]
    public async Task Download_MissingBlob_IsNotFound_NamingTheBlob()
    {
        var container = await NewContainerAsync();
        using var repo = new AzureBlobArtifactRepository(Wasbs(container, "root"), Service());
        var ex = await Assert.ThrowsAsync<ArtifactNotFoundException>(() => repo.DownloadAsync("model/MLmodel", Stream.Null, default));
        Assert.Equal(Wasbs(container, "root/model/MLmodel"), ex.Uri);
        Assert.Contains("BlobNotFound", ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task MissingContainer_IsNotFound_NamingTheContainer()
    {
        var name = "mlm-absent-" + Guid.NewGuid().ToString("N")[..12];
        using var repo = new AzureBlobArtifactRepository($"wasbs://{name}@{Account}.blob.core.windows.net/root", Service());
        var list = await Assert.ThrowsAsync<ArtifactNotFoundException>(() => repo.ListAsync("model", default));
        Assert.Contains($"container '{name}' does not exist", list.Message, StringComparison.Ordinal);
        var get = await Assert.ThrowsAsync<ArtifactNotFoundException>(() => repo.DownloadAsync("model/MLmodel", Stream.Null, default));
        Assert.Contains($"container '{name}' does not exist", get.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task WrongKey_IsAnAccessError()
    {
        var container = await NewContainerAsync();
        var wrongKey = Convert.ToBase64String(new byte[64]);
        using var repo = new AzureBlobArtifactRepository(Wasbs(container, "root"), Service(wrongKey));
        await Assert.ThrowsAsync<ArtifactAccessException>(() => repo.ListAsync("", default));
        await Assert.ThrowsAsync<ArtifactAccessException>(() => repo.DownloadAsync("model/MLmodel", Stream.Null, default));
    }

    [SkippableFact]
    public async Task Upload_ThenDownload_RoundTrips_AndReplaces()
    {
        var container = await NewContainerAsync();
        using var repo = new AzureBlobArtifactRepository(Wasbs(container, "root"), Service());
        var file = Path.Combine(TestPaths.NewTempDir(), "up.bin");
        var first = new byte[70_000];
        new Random(1).NextBytes(first);
        await File.WriteAllBytesAsync(file, first);
        await repo.UploadAsync(file, "model/data/up.bin", default);
        Assert.Equal([new ArtifactEntry("model/data/up.bin", false, first.Length)], await repo.ListAsync("model/data", default));
        Assert.True((await container.GetBlobClient("root/model/data/up.bin").ExistsAsync()).Value);

        using var got = new MemoryStream();
        await repo.DownloadAsync("model/data/up.bin", got, default);
        Assert.Equal(first, got.ToArray());

        await File.WriteAllTextAsync(file, "second");
        await repo.UploadAsync(file, "model/data/up.bin", default);
        using var again = new MemoryStream();
        await repo.DownloadAsync("model/data/up.bin", again, default);
        Assert.Equal("second"u8.ToArray(), again.ToArray());
    }

    /// <summary>Sets a process variable for one test and puts back what was there.</summary>
    private sealed class EnvScope : IDisposable
    {
        private readonly string _name;
        private readonly string? _old;

        public EnvScope(string name, string value)
        {
            _name = name;
            _old = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose() => Environment.SetEnvironmentVariable(_name, _old);
    }
}
