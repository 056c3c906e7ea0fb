using Docker.DotNet.Models;
using MlModels.Core.Format;
using MlModels.Core.Tests;
using MlModels.Deploy.Docker;

namespace MlModels.Deploy.Tests.Docker;

/// <summary>The engine connection's errors; no engine is needed.</summary>
[Trait("Category", "Fast")]
public class DockerEngineConnectionTests
{
    [Fact]
    public async Task Connect_ToAMissingSocket_NamesTheSocket()
    {
        var sock = Path.Combine(TestPaths.NewTempDir(), "no-engine.sock");
        var ex = await Assert.ThrowsAsync<DockerUnreachableException>(() => DockerEngine.ConnectAsync("unix://" + sock, CancellationToken.None));
        Assert.Contains(sock, ex.Message);
        Assert.Contains("does not exist", ex.Message);
    }

    [Theory]
    [InlineData("/var/run/docker.sock")]
    [InlineData("ftp://host/x")]
    public async Task Connect_RefusesWhatIsNotAnEndpoint(string host)
    {
        var ex = await Assert.ThrowsAsync<DockerEngineException>(() => DockerEngine.ConnectAsync(host, CancellationToken.None));
        Assert.Contains(host, ex.Message);
        Assert.Contains("unix:///path", ex.Message);
    }
}

/// <summary>
/// Against the real engine CI starts (.ci/services/dockerd.sh: DOCKER_HOST and local base images) and its registry
/// (.ci/services/registry.sh). Outside CI they skip when no engine answers.
/// </summary>
[Trait("Category", "Docker")]
public class DockerEngineTests
{
    internal static async Task<DockerEngine> EngineAsync()
    {
        DockerEngine? engine = null;
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST")) && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MLMODELS_TEST_DOTNET_BASE")))
        {
            try { engine = await DockerEngine.ConnectAsync(null, CancellationToken.None); }
            catch (DockerEngineException) { }
        }
        Prerequisites.Require(engine != null, "a Docker engine at DOCKER_HOST with the local base images (bash .ci/services/dockerd.sh start)");
        return engine!;
    }

    internal static string Env(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : throw new InvalidOperationException($"{name} is not set; .ci/services sets it.");

    private static string Context(string dockerfile)
    {
        var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "Dockerfile"), dockerfile);
        return dir;
    }

    private static ImageReference Tag(string name) => ImageReference.Parse($"mlmodels-test/{name}:{Guid.NewGuid():N}");

    [SkippableFact]
    public async Task Build_FailingStep_IsAnErrorWithTheStepAndItsOutput()
    {
        using var engine = await EngineAsync();
        var lines = new List<string>();
        var ctx = Context($"FROM {Env("MLMODELS_TEST_DEBIAN_BASE")}\nRUN echo first-line && echo to-stderr >&2 && exit 3\n");
        var ex = await Assert.ThrowsAsync<ImageBuildException>(() => new ImageBuilder(engine).BuildAsync(ctx, [Tag("fails")], new SyncLines(lines), CancellationToken.None));
        Assert.Contains("Step 2/2 : RUN echo first-line", ex.Step);
        Assert.Contains("first-line", ex.Output);
        Assert.Contains("to-stderr", ex.Output);
        Assert.Contains("returned a non-zero code: 3", ex.Message);
        Assert.Contains(lines, l => l.StartsWith("Step 1/2 : FROM", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Build_Cancelled_StopsWithoutAnImage()
    {
        using var engine = await EngineAsync();
        var tag = Tag("cancelled");
        var ctx = Context($"FROM {Env("MLMODELS_TEST_DEBIAN_BASE")}\nRUN sleep 60\n");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ImageBuilder(engine).BuildAsync(ctx, [tag], null, cts.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"cancelling took {clock.Elapsed}");
        await Assert.ThrowsAsync<DockerObjectNotFoundException>(() => ImageBuilder.InspectAsync(engine, tag.ToString(), CancellationToken.None));
    }

    [SkippableFact]
    public async Task Container_ThatExitsBeforePing_IsAnErrorWithItsLastLogLines_AndIsRemoved()
    {
        using var engine = await EngineAsync();
        var generic = await GenericImageAsync(engine);
        var model = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(model, "MLmodel"), "flavors:\n  onnx:\n    data: missing.onnx\n    onnx_version: 1.10.0\n");
        var runner = new ContainerRunner(engine);
        var ex = await Assert.ThrowsAsync<ContainerStartException>(() => runner.StartAsync(new ContainerRunOptions { Image = generic, ModelPath = model, StartTimeout = TimeSpan.FromSeconds(90) }, null, CancellationToken.None));
        Assert.Contains("exited", ex.Message);
        Assert.Contains(ex.LogTail, l => l.Contains("missing.onnx"));
        Assert.Null(await runner.GetAsync(ex.ContainerId, CancellationToken.None));
    }

    [Trait("Category", "Cloud")]
    [SkippableFact]
    public async Task Registry_PushWithCredential_PullsBack_AndAWrongPasswordIsAnAuthError()
    {
        using var engine = await EngineAsync();
        var registry = Environment.GetEnvironmentVariable("MLMODELS_TEST_REGISTRY");
        Prerequisites.Require(!string.IsNullOrEmpty(registry), "a local registry (bash .ci/services/registry.sh start)");
        var credential = new RegistryCredential(Env("MLMODELS_TEST_REGISTRY_USER"), Env("MLMODELS_TEST_REGISTRY_PASSWORD"));
        var local = Tag("push");
        var built = await new ImageBuilder(engine).BuildAsync(Context($"FROM {Env("MLMODELS_TEST_DEBIAN_BASE")}\nLABEL mlmodels.test=\"{local.Tag}\"\n"), [local], null, CancellationToken.None);
        var target = ImageReference.Parse($"{registry}/mlmodels-test/pushed:{local.Tag}");

        var layers = new List<PushProgress>();
        var pushed = await new ImagePublisher(engine).PushAsync(local.ToString(), target, credential, new SyncProgress<PushProgress>(layers.Add), CancellationToken.None);
        Assert.Equal(target.ToString(), pushed.Reference);
        Assert.StartsWith("sha256:", pushed.Digest);
        Assert.NotEmpty(layers);

        await engine.Client.Images.DeleteImageAsync(target.ToString(), new ImageDeleteParameters(), CancellationToken.None);
        await engine.Client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = target.Name, Tag = target.Tag },
            new AuthConfig { Username = credential.Username, Password = credential.Password, ServerAddress = registry }, new SyncProgress<JSONMessage>(_ => { }), CancellationToken.None);
        var pulled = await ImageBuilder.InspectAsync(engine, target.ToString(), CancellationToken.None);
        Assert.Equal(built.Id, pulled.Id);

        var ex = await Assert.ThrowsAsync<RegistryAuthException>(() => new ImagePublisher(engine).PushAsync(local.ToString(), target, credential with { Password = "wrong" }, null, CancellationToken.None));
        Assert.Contains(registry!, ex.Message);
        Assert.Contains(credential.Username, ex.Message);
        var none = await Assert.ThrowsAsync<RegistryAuthException>(() => new ImagePublisher(engine).PushAsync(local.ToString(), ImageReference.Parse($"{registry}/mlmodels-test/anonymous:1"), null, null, CancellationToken.None));
        Assert.Contains("-Credential", none.Message);
    }

    [SkippableFact]
    public async Task Pyfunc_RequirementsThatCannotInstall_FailTheBuildWithPipsOutput()
    {
        using var engine = await EngineAsync();
        var dir = Path.Combine(TestPaths.NewTempDir(), "m");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "MLmodel"), "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n    python_version: 3.11.2\n");
        File.WriteAllText(Path.Combine(dir, "requirements.txt"), "mlflow==2.16.0\nno-such-package-mlmodels==0.0.1\n");
        var ctx = DockerContextWriter.Write(ModelStore.Load(dir), Path.Combine(Path.GetDirectoryName(dir)!, "ctx"), new DockerContextOptions
        {
            ServerDirectory = AppContext.BaseDirectory, BaseImage = Env("MLMODELS_TEST_PYTHON_BASE"), DotnetImage = Env("MLMODELS_TEST_DOTNET_BASE"),
        });
        var ex = await Assert.ThrowsAsync<ImageBuildException>(() => new ImageBuilder(engine).BuildAsync(ctx.Path, [Tag("pip-fails")], null, CancellationToken.None));
        Assert.Contains("pip install", ex.Step);
        Assert.Contains(ex.Output, l => l.Contains("no-such-package-mlmodels"));
        // The failing pip step's own output, then what fixes it where no index is reachable.
        Assert.Contains("-Wheelhouse", ex.Message);
        Assert.Contains("PIP_INDEX_URL", ex.Message);
    }

    private static readonly SemaphoreSlim GenericGate = new(1, 1);
    private static string? _generic;

    /// <summary>The generic ONNX image on the local .NET base, built once per test run.</summary>
    internal static async Task<string> GenericImageAsync(DockerEngine engine)
    {
        await GenericGate.WaitAsync();
        try
        {
            if (_generic != null) return _generic;
            var ctx = DockerContextWriter.Write(null, Path.Combine(TestPaths.NewTempDir(), "ctx"), new DockerContextOptions
            {
                Generic = true, ServerDirectory = AppContext.BaseDirectory, DotnetImage = Env("MLMODELS_TEST_DOTNET_BASE"),
            });
            var tag = Tag("generic");
            await new ImageBuilder(engine).BuildAsync(ctx.Path, [tag], null, CancellationToken.None);
            return _generic = tag.ToString();
        }
        finally { GenericGate.Release(); }
    }

    private sealed class SyncLines(List<string> lines) : IProgress<BuildProgress>
    {
        public void Report(BuildProgress value) { lock (lines) lines.Add(value.Line); }
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
