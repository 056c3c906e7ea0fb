using Amazon.S3.Model;
using MlModels.Core.Artifacts;
using MlModels.Core.Format;
using MlModels.Core.Tests;
using MlModels.Core.Tracking;
using MlModels.Deploy.Artifacts;
using MlModels.Deploy.Tests.Aws;
using MlModels.TrackingFake;

namespace MlModels.Deploy.Tests.Artifacts;

/// <summary>
/// s3:// artifact stores on moto (loopback), laid out as MLflow's S3ArtifactRepository writes a run's artifacts
/// (&lt;root&gt;/&lt;experiment&gt;/&lt;run&gt;/artifacts/model/...), and a tracking server whose artifact root is S3 and which
/// does not proxy it: the recorded tracking corpus replayed with its artifact URIs under the S3 root.
/// </summary>
[Collection("moto")]
[Trait("Category", "Cloud")]
public class S3ArtifactRepositoryTests(MotoServer moto)
{
    private static readonly string[] FixtureFiles =
    [
        "MLmodel", "conda.yaml", "input_example.json", "metadata/MLmodel", "metadata/conda.yaml", "metadata/python_env.yaml",
        "metadata/requirements.txt", "model.pkl", "python_env.yaml", "requirements.txt",
    ];

    private static async Task<string> NewBucketAsync(MotoSession s)
    {
        var bucket = "mlflow-" + Guid.NewGuid().ToString("N")[..12];
        using var s3 = s.Connection.CreateS3Client();
        await s3.PutBucketAsync(bucket);
        return bucket;
    }

    private static async Task PutAsync(MotoSession s, string bucket, string key, byte[] bytes)
    {
        using var s3 = s.Connection.CreateS3Client();
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = new MemoryStream(bytes) });
    }

    /// <summary>A tracking client over the replaying fake.</summary>
    private static TrackingClient ReplayClient(TrackingReplay replay) => new(new TrackingSettings
    {
        TrackingUri = new Uri("http://127.0.0.1:5000"), TrackingUriSource = "test", RegistryUri = new Uri("http://127.0.0.1:5000"),
        RegistryUriSource = "test", OriginalTrackingUri = "http://127.0.0.1:5000",
    }, new ReplayHandler(replay));

    private static ModelDownloader Downloader(MotoSession s, string cache, TrackingClient? client = null) => new(client, cache)
    {
        Repositories = ArtifactRepositories.WithBuiltIns(client).Register("s3", root => new S3ArtifactRepository(root, s.Connection)),
    };

    [SkippableFact]
    public async Task AModelFolderInS3_DownloadsByItsOwnUri_FileForFile_InParallel()
    {
        using var s = new MotoSession(moto.Require());
        var bucket = await NewBucketAsync(s);
        var root = $"mlartifacts/1/{Guid.NewGuid():N}/artifacts/model";
        var files = new Dictionary<string, byte[]>
        {
            ["MLmodel"] = "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"u8.ToArray(),
            ["data/big.bin"] = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray(),
            ["data/nested/deeper/x.txt"] = "x"u8.ToArray(),
            ["requirements.txt"] = "scikit-learn\n"u8.ToArray(),
        };
        foreach (var (rel, bytes) in files) await PutAsync(s, bucket, $"{root}/{rel}", bytes);
        // A folder marker as some tools write them: not an entry of its folder.
        await PutAsync(s, bucket, $"{root}/data/", []);

        var cache = TestPaths.NewTempDir();
        var downloaded = await Downloader(s, cache).DownloadAsync($"s3://{bucket}/{root}");
        Assert.Equal("model", Path.GetFileName(downloaded.Path));
        foreach (var (rel, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(downloaded.Path, rel)));
        Assert.Equal(files.Count, Directory.GetFiles(downloaded.Path, "*", SearchOption.AllDirectories).Length);
        Assert.Equal($"s3://{bucket}/{root}", downloaded.Origin.ArtifactUri);
        Assert.Equal("mlflow.sklearn", ModelStore.Load(downloaded.Path).Flavors["python_function"].LoaderModule);

        // A second read is the cached entry.
        Assert.True((await Downloader(s, cache).DownloadAsync($"s3://{bucket}/{root}")).Origin.FromCache);
    }

    [SkippableFact]
    public async Task Listing_GivesEntriesRelativeToTheRoot_AndUploadWritesMlflowsKeys()
    {
        using var s = new MotoSession(moto.Require());
        var bucket = await NewBucketAsync(s);
        using var repo = new S3ArtifactRepository($"s3://{bucket}/runs/r1/artifacts", s.Connection);
        var local = Path.Combine(TestPaths.NewTempDir(), "conda.yaml");
        File.WriteAllText(local, "name: x\n");
        await repo.UploadAsync(local, "model/conda.yaml", default);
        await repo.UploadAsync(local, "model/metadata/conda.yaml", default);

        var top = await repo.ListAsync("", default);
        Assert.Equal([new ArtifactEntry("model", true, null)], top);
        var model = await repo.ListAsync("model", default);
        Assert.Equal([new ArtifactEntry("model/conda.yaml", false, 8), new ArtifactEntry("model/metadata", true, null)], model);
        Assert.Empty(await repo.ListAsync("model/conda.yaml", default)); // a file lists as nothing (MLflow's rule)
        using var s3 = s.Connection.CreateS3Client();
        var keys = (await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket })).S3Objects.Select(o => o.Key).Order().ToList();
        Assert.Equal(["runs/r1/artifacts/model/conda.yaml", "runs/r1/artifacts/model/metadata/conda.yaml"], keys);
    }

    [SkippableFact]
    public async Task AMissingObjectOrBucket_IsNamed_AndNothingIsCached()
    {
        using var s = new MotoSession(moto.Require());
        var bucket = await NewBucketAsync(s);
        var cache = TestPaths.NewTempDir();
        var missing = await Assert.ThrowsAsync<ArtifactDownloadException>(() => Downloader(s, cache).DownloadAsync($"s3://{bucket}/nothing/here.pkl"));
        Assert.Contains("nothing/here.pkl", missing.Message);
        Assert.IsType<ArtifactNotFoundException>(missing.InnerException);

        var noBucket = await Assert.ThrowsAsync<ArtifactNotFoundException>(() => Downloader(s, cache).DownloadAsync("s3://no-such-bucket-mlmodels/m"));
        Assert.Contains("s3://no-such-bucket-mlmodels", noBucket.Message);
        Assert.Empty(Directory.GetFiles(cache, "origin.json", SearchOption.AllDirectories));
    }

    [SkippableFact]
    public async Task ModelsAlias_OnAnS3RootedServer_LoadsFromS3_AsTheRecordedModel()
    {
        using var s = new MotoSession(moto.Require());
        var bucket = await NewBucketAsync(s);
        var replay = new TrackingReplay(TestPaths.TrackingConformance, new ReplayOptions
        {
            Flows = ["download-models-alias-uri"],
            ArtifactRoot = $"s3://{bucket}/mlartifacts",
        });
        // The model where MLflow's S3 repository put it when the run logged it.
        var runRoot = $"mlartifacts/{TrackingReplay.ExperimentId(1)}/{TrackingReplay.RunId(1)}/artifacts/model";
        foreach (var rel in FixtureFiles) await PutAsync(s, bucket, $"{runRoot}/{rel}", replay.FixtureBytes(rel));

        using var client = ReplayClient(replay);
        var downloaded = await Downloader(s, TestPaths.NewTempDir(), client).DownloadAsync("models:/sk-ridge@champion");

        Assert.Empty(replay.Mismatches);
        Assert.Equal($"s3://{bucket}/{runRoot}", downloaded.Origin.ArtifactUri);
        Assert.Equal("1", downloaded.Origin.Version);
        foreach (var rel in FixtureFiles) Assert.Equal(replay.FixtureBytes(rel), File.ReadAllBytes(Path.Combine(downloaded.Path, rel)));
        Assert.True(File.Exists(Path.Combine(downloaded.Path, "registered_model_meta")));
        Assert.Equal("model", ModelStore.Load(downloaded.Path).ArtifactPath);
        // Only the registry was asked; the files came from S3, not through the server.
        Assert.DoesNotContain(replay.Calls, c => c.NormalisedPath.StartsWith("/api/2.0/mlflow-artifacts", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task PublishToAnS3RootedRun_WritesTheKeysMlflowsClientWrites()
    {
        using var s = new MotoSession(moto.Require());
        var bucket = await NewBucketAsync(s);
        var replay = new TrackingReplay(TestPaths.TrackingConformance, new ReplayOptions { Flows = ["log-model"], ArtifactRoot = $"s3://{bucket}/mlartifacts" });
        var folder = TestPaths.NewTempDir();
        foreach (var rel in FixtureFiles)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, rel))!);
            File.WriteAllBytes(Path.Combine(folder, rel), replay.FixtureBytes(rel));
        }
        using var client = ReplayClient(replay);
        var publisher = new ModelPublisher(client)
        {
            Repositories = ArtifactRepositories.WithBuiltIns(client).Register("s3", root => new S3ArtifactRepository(root, s.Connection)),
        };
        await publisher.PublishAsync(new PublishRequest { Model = ModelStore.Load(folder), RunId = TrackingReplay.RunId(1) });

        Assert.Empty(replay.Mismatches);
        // The run and the log-model call went to the server; every file went to S3, none through the server's proxy.
        Assert.Equal(["get-run", "log-model"], replay.Calls.Select(c => c.Matched!.Step).ToList());
        var prefix = $"mlartifacts/{TrackingReplay.ExperimentId(1)}/{TrackingReplay.RunId(1)}/artifacts/model/";
        using var s3 = s.Connection.CreateS3Client();
        var keys = (await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket })).S3Objects.Select(o => o.Key).Order().ToList();
        Assert.Equal(FixtureFiles.Select(f => prefix + f).Order(), keys);
        foreach (var rel in FixtureFiles)
        {
            using var got = await s3.GetObjectAsync(bucket, prefix + rel);
            using var bytes = new MemoryStream();
            await got.ResponseStream.CopyToAsync(bytes);
            Assert.Equal(replay.FixtureBytes(rel), bytes.ToArray());
        }
    }

    [Theory]
    [InlineData("s3://bucket/a/b/", "bucket", "a/b")]
    [InlineData("s3://bucket", "bucket", "")]
    [InlineData("S3://Bucket/x", "Bucket", "x")]
    [Trait("Category", "Fast")]
    public void Parse_TakesTheBucketAndTheKeyRoot(string uri, string bucket, string prefix) =>
        Assert.Equal((bucket, prefix), S3ArtifactRepository.Parse(uri));

    [Fact]
    [Trait("Category", "Fast")]
    public void UploadExtraArgs_AreMlflowsNames_AndAnUnknownOneIsNamed()
    {
        var request = new PutObjectRequest();
        S3ArtifactRepository.ApplyExtraArgs(request, """{"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "1234", "ACL": "bucket-owner-full-control"}""");
        Assert.Equal(("aws:kms", "1234", "bucket-owner-full-control"),
            (request.ServerSideEncryptionMethod.Value, request.ServerSideEncryptionKeyManagementServiceKeyId, request.CannedACL.Value));
        var ex = Assert.Throws<ArgumentException>(() => S3ArtifactRepository.ApplyExtraArgs(new PutObjectRequest(), """{"Tagging": "a=b"}"""));
        Assert.Contains("'Tagging'", ex.Message);
        Assert.Throws<ArgumentException>(() => S3ArtifactRepository.ApplyExtraArgs(new PutObjectRequest(), "not json"));
    }
}
