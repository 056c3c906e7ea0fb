using MlModels.Core.Artifacts;
using MlModels.Core.Tracking;

namespace MlModels.Core.Tests.Artifacts;

[Trait("Category", "Fast")]
public class ArtifactRepositoriesTests
{
    [Theory]
    [InlineData("s3://b/k", "s3")]
    [InlineData("S3://b/k", "s3")]
    [InlineData("wasbs://c@a.blob.core.windows.net/p", "wasbs")]
    [InlineData("mlflow-artifacts:/1/r/artifacts", "mlflow-artifacts")]
    [InlineData("file:///tmp/x", "file")]
    [InlineData("./mlruns/0/r/artifacts", "")]
    [InlineData("/abs/path", "")]
    [InlineData("1bad://x", "")]
    public void SchemeOf_IsUrlparsesScheme(string uri, string scheme) => Assert.Equal(scheme, ArtifactRepositories.SchemeOf(uri));

    [Fact]
    public void Open_AnUnknownScheme_ListsTheSchemesRead()
    {
        var ex = Assert.Throws<ArtifactLocationNotSupportedException>(() => ArtifactRepositories.WithBuiltIns().Open("hdfs://nn/x"));
        Assert.Contains("'hdfs'", ex.Message);
        Assert.Contains("file://", ex.Message);
        Assert.Equal("hdfs://nn/x", ex.ArtifactUri);
    }

    [Theory]
    [InlineData("file:///tmp/a%20b/x", "/tmp/a b/x")]
    [InlineData("file://host/srv/x", "/srv/x")]
    [InlineData("file:rel/x", "rel/x")]
    [InlineData("./mlruns/0", "./mlruns/0")]
    public void LocalPaths_AreReadAsMlflowReadsThem(string uri, string path)
    {
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal(path, LocalArtifactRepository.PathOf(uri));
    }

    [Fact]
    public async Task Local_ListsEntriesRelativeToTheRoot_RefusesPathsThatLeaveIt_AndUploads()
    {
        var root = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(root, "model", "data"));
        File.WriteAllText(Path.Combine(root, "model", "MLmodel"), "flavors: {}\n");
        using var repo = new LocalArtifactRepository(new Uri(root).AbsoluteUri);
        Assert.Equal([new ArtifactEntry("model/MLmodel", false, 12), new ArtifactEntry("model/data", true, null)], await repo.ListAsync("model", default));
        Assert.Empty(await repo.ListAsync("model/MLmodel", default));
        Assert.Empty(await repo.ListAsync("nothing", default));
        await Assert.ThrowsAsync<ArgumentException>(() => repo.ListAsync("../etc", default));
        await Assert.ThrowsAsync<ArtifactNotFoundException>(() => repo.DownloadAsync("model/none", Stream.Null, default));

        var src = Path.Combine(TestPaths.NewTempDir(), "w.bin");
        File.WriteAllBytes(src, [1, 2, 3]);
        await repo.UploadAsync(src, "model/data/w.bin", default);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(Path.Combine(root, "model", "data", "w.bin")));
    }

    [Theory]
    [InlineData("s3://bucket/a/model", "a/model")]
    [InlineData("gs://bucket/m/", "m")]
    [InlineData("wasbs://c@acct.blob.core.windows.net/runs/model", "runs/model")]
    [InlineData("file:///srv/models/m1", "srv/models/m1")]
    public void AStoresOwnUri_IsAModelUri(string text, string path)
    {
        var uri = ModelUri.Parse(text);
        Assert.Equal((ModelUriKind.Store, path, text.TrimEnd('/')), (uri.Kind, uri.Path, uri.ArtifactUri));
    }

    [Theory]
    [InlineData("s3://bucket")]
    [InlineData("s3://bucket/a/../b")]
    public void AStoreUri_WithoutAFolderOrLeavingIt_IsRefused(string text) => Assert.Throws<ModelUriException>(() => ModelUri.Parse(text));
}

/// <summary>ModelDownloader over a store: the walk, parallel downloads, and a failure that leaves nothing in the cache.</summary>
[Trait("Category", "Fast")]
public class StoreDownloadTests
{
    private static string NewModelFolder(int files)
    {
        var root = TestPaths.NewTempDir();
        var model = Path.Combine(root, "store", "model");
        Directory.CreateDirectory(Path.Combine(model, "data"));
        File.WriteAllText(Path.Combine(model, "MLmodel"), "flavors:\n  python_function:\n    loader_module: x\n");
        for (int i = 0; i < files; i++) File.WriteAllBytes(Path.Combine(model, "data", $"part-{i:D3}.bin"), Enumerable.Repeat((byte)i, 1000 + i).ToArray());
        return model;
    }

    [Fact]
    public async Task AFileUri_DownloadsEveryFile_WithAtMostTheParallelismAsked()
    {
        var model = NewModelFolder(24);
        var gate = new ConcurrencyProbe(new LocalArtifactRepository(new Uri(Path.GetDirectoryName(model)!).AbsoluteUri));
        var downloader = new ModelDownloader(null, TestPaths.NewTempDir())
        {
            Repositories = new ArtifactRepositories().Register("file", _ => gate),
            Parallelism = 4,
        };
        var got = await downloader.DownloadAsync(new Uri(model).AbsoluteUri);
        foreach (var f in Directory.GetFiles(model, "*", SearchOption.AllDirectories))
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(got.Path, Path.GetRelativePath(model, f))));
        Assert.InRange(gate.MaxConcurrent, 2, 4);
    }

    [Fact]
    public async Task AFileThatFailsMidDownload_LeavesNothingInTheCache()
    {
        var model = NewModelFolder(6);
        var cache = TestPaths.NewTempDir();
        var downloader = new ModelDownloader(null, cache)
        {
            Repositories = new ArtifactRepositories().Register("file", root => new Vanishing(new LocalArtifactRepository(root), "part-003.bin")),
        };
        var ex = await Assert.ThrowsAsync<ArtifactDownloadException>(() => downloader.DownloadAsync(new Uri(model).AbsoluteUri));
        Assert.Contains("part-003.bin", ex.Message);
        Assert.Empty(Directory.GetFiles(cache, "*", SearchOption.AllDirectories));
    }

    /// <summary>Counts how many downloads run at once (each holds a moment so that overlap shows).</summary>
    private sealed class ConcurrencyProbe(IArtifactRepository inner) : IArtifactRepository
    {
        private int _now;
        public int MaxConcurrent;
        public string RootUri => inner.RootUri;
        public Task<IReadOnlyList<ArtifactEntry>> ListAsync(string path, CancellationToken ct) => inner.ListAsync(path, ct);
        public Task UploadAsync(string localFile, string path, CancellationToken ct) => inner.UploadAsync(localFile, path, ct);
        public void Dispose() => inner.Dispose();

        public async Task DownloadAsync(string path, Stream destination, CancellationToken ct)
        {
            var n = Interlocked.Increment(ref _now);
            InterlockedMax(ref MaxConcurrent, n);
            try
            {
                await Task.Delay(30, ct);
                await inner.DownloadAsync(path, destination, ct);
            }
            finally { Interlocked.Decrement(ref _now); }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
        }
    }

    /// <summary>A store whose named file is cut off half-way, as a connection that drops would leave it.</summary>
    private sealed class Vanishing(IArtifactRepository inner, string fails) : IArtifactRepository
    {
        public string RootUri => inner.RootUri;
        public Task<IReadOnlyList<ArtifactEntry>> ListAsync(string path, CancellationToken ct) => inner.ListAsync(path, ct);
        public Task UploadAsync(string localFile, string path, CancellationToken ct) => inner.UploadAsync(localFile, path, ct);
        public void Dispose() => inner.Dispose();

        public async Task DownloadAsync(string path, Stream destination, CancellationToken ct)
        {
            if (!path.EndsWith(fails, StringComparison.Ordinal))
            {
                await inner.DownloadAsync(path, destination, ct);
                return;
            }
            await destination.WriteAsync(new byte[100], ct);
            throw new IOException("The connection was reset.");
        }
    }
}
