using System.Text;
using MlModels.Core.Artifacts;
using MlModels.Core.Tests;
using MlModels.Core.Tracking;
using MlModels.Deploy.Artifacts;

namespace MlModels.Deploy.Tests.Artifacts;

public class GcsArtifactRepositoryTests
{
    private const string Run = "mlruns/1/0a1b2c3d4e5f";

    /// <summary>A model folder as MLflow's log_model leaves it under a run's artifacts, with a data file of a few hundred KB.</summary>
    private static Dictionary<string, byte[]> ModelFiles()
    {
        var data = new byte[300 * 1024 + 17];
        new Random(22).NextBytes(data);
        return new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["model/MLmodel"] = Encoding.UTF8.GetBytes("artifact_path: model\nflavors:\n  onnx:\n    data: data/x.bin\n"),
            ["model/conda.yaml"] = Encoding.UTF8.GetBytes("name: mlflow-env\n"),
            ["model/requirements.txt"] = Encoding.UTF8.GetBytes("mlflow==2.12.1\n"),
            ["model/data/x.bin"] = data,
            ["model/data/nested/deeper/weights.json"] = Encoding.UTF8.GetBytes("{\"w\": [1, 2, 3]}"),
        };
    }

    private static GcsFake FakeWithModel(string bucket = "models-bucket")
    {
        var fake = new GcsFake().AddBucket(bucket);
        foreach (var (path, bytes) in ModelFiles()) fake.Put(bucket, $"{Run}/artifacts/{path}", bytes);
        // A folder marker, as the console's "create folder" leaves one: the folder itself, never an entry of it.
        fake.Put(bucket, $"{Run}/artifacts/model/data/", []);
        return fake;
    }

    [Trait("Category", "Fast")]
    [Theory]
    [InlineData("gs://bucket/mlruns/1/abc/artifacts", "bucket", "mlruns/1/abc/artifacts")]
    [InlineData("gs://bucket/path/", "bucket", "path")]
    [InlineData("gs://bucket", "bucket", "")]
    [InlineData("gs://bucket/", "bucket", "")]
    [InlineData("GS://bucket/a/b", "bucket", "a/b")]
    public void Parse_GivesTheBucketAndTheObjectPrefix(string uri, string bucket, string prefix) =>
        Assert.Equal((bucket, prefix), GcsArtifactRepository.Parse(uri));

    [Trait("Category", "Fast")]
    [Theory]
    [InlineData("s3://bucket/path")]
    [InlineData("gs:///path")]
    [InlineData("gcs://bucket/path")]
    public void Parse_RefusesWhatIsNotACloudStorageUri(string uri) =>
        Assert.Throws<ArgumentException>(() => GcsArtifactRepository.Parse(uri));

    [Trait("Category", "Fast")]
    [Fact]
    public void Timeout_IsMlflowsVariableThenTheGcsOneThenSixtySeconds()
    {
        Dictionary<string, string?> env = [];
        Assert.Equal(TimeSpan.FromSeconds(60), GcsArtifactRepository.Timeout(n => env.GetValueOrDefault(n)));
        env[GcsArtifactRepository.GcsTimeoutVariable] = "30";
        Assert.Equal(TimeSpan.FromSeconds(30), GcsArtifactRepository.Timeout(n => env.GetValueOrDefault(n)));
        env[GcsArtifactRepository.TimeoutVariable] = "-1";
        Assert.Null(GcsArtifactRepository.Timeout(n => env.GetValueOrDefault(n)));
        env[GcsArtifactRepository.TimeoutVariable] = "soon";
        Assert.Throws<ArgumentException>(() => GcsArtifactRepository.Timeout(n => env.GetValueOrDefault(n)));
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void CloudArtifactStores_RegistersGs() =>
        Assert.Contains("gs", CloudArtifactStores.Register(new ArtifactRepositories()).Schemes);

    [Trait("Category", "Fast")]
    [Fact]
    public async Task List_GivesFoldersAndFilesWithSizes_RelativeToTheRoot_InNameOrder()
    {
        var fake = FakeWithModel();
        using var repo = new GcsArtifactRepository($"gs://models-bucket/{Run}/artifacts", fake.CreateClient());

        var model = await repo.ListAsync("model", default);
        Assert.Equal(
            [
                new ArtifactEntry("model/MLmodel", false, ModelFiles()["model/MLmodel"].Length),
                new ArtifactEntry("model/conda.yaml", false, ModelFiles()["model/conda.yaml"].Length),
                new ArtifactEntry("model/data", true, null),
                new ArtifactEntry("model/requirements.txt", false, ModelFiles()["model/requirements.txt"].Length),
            ],
            model);
        Assert.Equal(
            [new ArtifactEntry("model/data/nested", true, null), new ArtifactEntry("model/data/x.bin", false, 300 * 1024 + 17)],
            await repo.ListAsync("model/data", default));
        Assert.Equal([new ArtifactEntry("model", true, null)], await repo.ListAsync("", default));
        // MLflow's rule: a file and a missing path list as nothing.
        Assert.Empty(await repo.ListAsync("model/MLmodel", default));
        Assert.Empty(await repo.ListAsync("no-such-folder", default));
    }

    [Trait("Category", "Fast")]
    [Fact]
    public async Task ModelDownloader_DownloadsAModelFolder_ByteForByte()
    {
        var fake = FakeWithModel();
        var cache = TestPaths.NewTempDir();
        var downloader = new ModelDownloader(null, cache)
        {
            Repositories = new ArtifactRepositories().Register("gs", root => new GcsArtifactRepository(root, fake.CreateClient())),
        };

        var model = await downloader.DownloadAsync($"gs://models-bucket/{Run}/artifacts/model");

        var files = Directory.GetFiles(model.Path, "*", SearchOption.AllDirectories)
            .Select(f => "model/" + Path.GetRelativePath(model.Path, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(ModelFiles().Keys.Order(StringComparer.Ordinal), files);
        foreach (var (path, bytes) in ModelFiles())
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(model.Path, path["model/".Length..])));
    }

    [Trait("Category", "Fast")]
    [Fact]
    public async Task List_AtTheBucketRoot_KeepsTheWholeName()
    {
        var fake = new GcsFake().AddBucket("root-bucket")
            .Put("root-bucket", "MLmodel", [1, 2, 3])
            .Put("root-bucket", "data/x.bin", [4, 5])
            .Put("root-bucket", "a.txt", [6]);
        using var repo = new GcsArtifactRepository("gs://root-bucket", fake.CreateClient());

        Assert.Equal(
            [new ArtifactEntry("MLmodel", false, 3), new ArtifactEntry("a.txt", false, 1), new ArtifactEntry("data", true, null)],
            await repo.ListAsync("", default));
        Assert.Equal([new ArtifactEntry("data/x.bin", false, 2)], await repo.ListAsync("data", default));
        using var output = new MemoryStream();
        await repo.DownloadAsync("data/x.bin", output, default);
        Assert.Equal([4, 5], output.ToArray());
    }

    [Trait("Category", "Fast")]
    [Fact]
    public async Task Download_OfAMissingObject_IsNotFound_NamingIt()
    {
        var fake = FakeWithModel();
        using var repo = new GcsArtifactRepository($"gs://models-bucket/{Run}/artifacts", fake.CreateClient());

        var ex = await Assert.ThrowsAsync<ArtifactNotFoundException>(() => repo.DownloadAsync("model/absent.pkl", Stream.Null, default));
        Assert.Equal($"gs://models-bucket/{Run}/artifacts/model/absent.pkl", ex.Uri);
        Assert.Contains($"gs://models-bucket/{Run}/artifacts/model/absent.pkl", ex.Message);
    }

    [Trait("Category", "Fast")]
    [Fact]
    public async Task AMissingBucket_IsNotFound_NamingTheBucket()
    {
        var fake = new GcsFake();
        using var repo = new GcsArtifactRepository("gs://no-such-bucket/mlruns/1/r/artifacts", fake.CreateClient());

        var listing = await Assert.ThrowsAsync<ArtifactNotFoundException>(() => repo.ListAsync("model", default));
        Assert.Equal("gs://no-such-bucket", listing.Uri);
        Assert.Contains("bucket does not exist", listing.Message);
        var download = await Assert.ThrowsAsync<ArtifactNotFoundException>(() => repo.DownloadAsync("model/MLmodel", Stream.Null, default));
        Assert.Equal("gs://no-such-bucket", download.Uri);
    }

    [Trait("Category", "Fast")]
    [Fact]
    public async Task List_FollowsThePages_WhenThereAreMoreObjectsThanOnePage()
    {
        var fake = new GcsFake().AddBucket("paged");
        // 1000 is the service's largest page: 1203 files and 3 folders take two.
        for (var i = 0; i < 1203; i++) fake.Put("paged", $"root/many/f{i:D5}.bin", [(byte)i]);
        foreach (var d in new[] { "a", "m", "z" }) fake.Put("paged", $"root/many/{d}/inner.txt", [1]);
        using var repo = new GcsArtifactRepository("gs://paged/root", fake.CreateClient());

        var entries = await repo.ListAsync("many", default);

        Assert.Equal(1206, entries.Count);
        Assert.Equal(entries.Select(e => e.Path).Order(StringComparer.Ordinal), entries.Select(e => e.Path));
        Assert.Equal(3, entries.Count(e => e.IsDir));
        Assert.Equal(1203, entries.Select(e => e.Path).Distinct().Count(p => p.StartsWith("many/f", StringComparison.Ordinal)));
        Assert.Equal(2, fake.Requests.Count(r => r.StartsWith("GET /storage/v1/b/paged/o?", StringComparison.Ordinal)));
    }

    [Trait("Category", "Fast")]
    [Fact]
    public async Task Upload_ThenDownload_GivesTheSameBytes_WithTheGuessedContentType()
    {
        var fake = new GcsFake().AddBucket("up");
        using var repo = new GcsArtifactRepository("gs://up/mlruns/2/r/artifacts", fake.CreateClient());
        var dir = TestPaths.NewTempDir();
        var data = new byte[200 * 1024];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(Path.Combine(dir, "x.bin"), data);
        File.WriteAllText(Path.Combine(dir, "input_example.json"), "{\"inputs\": [1]}");
        File.WriteAllBytes(Path.Combine(dir, "table.csv.gz"), [0x1f, 0x8b, 0, 1, 2]);

        await repo.UploadAsync(Path.Combine(dir, "x.bin"), "model/data/x.bin", default);
        await repo.UploadAsync(Path.Combine(dir, "input_example.json"), "model/input_example.json", default);
        await repo.UploadAsync(Path.Combine(dir, "table.csv.gz"), "model/table.csv.gz", default);

        using var output = new MemoryStream();
        await repo.DownloadAsync("model/data/x.bin", output, default);
        Assert.Equal(data, output.ToArray());
        Assert.Equal("application/octet-stream", fake.Get("up", "mlruns/2/r/artifacts/model/data/x.bin")!.ContentType);
        Assert.Equal("application/json", fake.Get("up", "mlruns/2/r/artifacts/model/input_example.json")!.ContentType);
        Assert.Equal("text/csv", fake.Get("up", "mlruns/2/r/artifacts/model/table.csv.gz")!.ContentType);
        Assert.Equal(
            [
                new ArtifactEntry("model/data", true, null),
                new ArtifactEntry("model/input_example.json", false, 15),
                new ArtifactEntry("model/table.csv.gz", false, 5),
            ],
            await repo.ListAsync("model", default));
    }

    [Trait("Category", "Fast")]
    [Fact]
    public async Task ARefusal_ToAnAnonymousClient_SaysNoCredentialsWereFound()
    {
        var fake = FakeWithModel();
        fake.PrivateBuckets.Add("models-bucket");
        using var repo = new GcsArtifactRepository(
            $"gs://models-bucket/{Run}/artifacts", fake.CreateClient(), "The Application Default Credentials are not available.");

        var ex = await Assert.ThrowsAsync<ArtifactAccessException>(() => repo.ListAsync("model", default));
        Assert.Contains("No Google credentials were found", ex.Message);
        Assert.Contains("GOOGLE_APPLICATION_CREDENTIALS", ex.Message);
        Assert.Contains("gcloud auth application-default login", ex.Message);
        await Assert.ThrowsAsync<ArtifactAccessException>(() => repo.DownloadAsync("model/MLmodel", Stream.Null, default));
    }
}
