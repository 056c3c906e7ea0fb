using MlModels.Core.Format;
using MlModels.Core.Tests;
using MlModels.Deploy.Docker;

namespace MlModels.Deploy.Tests.Docker;

[Trait("Category", "Fast")]
public class DockerContextWriterTests
{
    private static readonly DockerContextOptions Options = new() { ServerDirectory = AppContext.BaseDirectory };

    private static MLModel OnnxModel() => ModelStore.Load(Path.Combine(TestPaths.Examples, "onnx-linear"));

    private static MLModel PyfuncModel(string dir, string requirements, string python = "3.10.4")
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "MLmodel"), $"flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n    python_version: {python}\n    env:\n      virtualenv: python_env.yaml\nrun_id: r$1\"x\n");
        File.WriteAllText(Path.Combine(dir, "python_env.yaml"), $"python: {python}\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n");
        File.WriteAllText(Path.Combine(dir, "requirements.txt"), requirements);
        File.WriteAllText(Path.Combine(dir, "model.pkl"), "not read here");
        return ModelStore.Load(dir);
    }

    [Fact]
    public void Onnx_ContextHoldsTheDockerfileTheServerAndTheModel_AndNothingElse()
    {
        var target = Path.Combine(TestPaths.NewTempDir(), "ctx");
        var ctx = DockerContextWriter.Write(OnnxModel(), target, Options);

        Assert.Equal(ImageKind.Onnx, ctx.Kind);
        Assert.Equal(["Dockerfile", "model", "server"], Directory.EnumerateFileSystemEntries(target).Select(p => Path.GetFileName(p)!).Order().ToArray());
        var server = Directory.EnumerateFiles(Path.Combine(target, "server"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Path.Combine(target, "server"), f).Replace('\\', '/')).ToList();
        Assert.Contains("MlModels.Server.dll", server);
        Assert.Contains("MlModels.Core.dll", server);
        Assert.Contains("runtimes/linux-x64/native/libonnxruntime.so", server);
        // The image carries the server alone: nothing of the cmdlets, Deploy or other platforms.
        Assert.DoesNotContain(server, f => f.Contains("Deploy") || f.Contains("Docker") || f.Contains("win-x64") || f.Contains("linux-arm64"));
        Assert.True(File.Exists(Path.Combine(target, "model", "MLmodel")));
        Assert.True(File.Exists(Path.Combine(target, "model", "model.onnx")));

        var dockerfile = File.ReadAllText(ctx.Dockerfile);
        Assert.StartsWith("# Made by MlModels", dockerfile);
        Assert.Contains($"FROM {DockerContextOptions.DefaultDotnetImage}\n", dockerfile);
        Assert.DoesNotContain("AS dotnet", dockerfile);
        Assert.Contains("ENTRYPOINT [\"/usr/share/dotnet/dotnet\", \"/opt/mlmodels/server/MlModels.Server.dll\"]\n", dockerfile);
        Assert.Contains("CMD [\"serve\"]\n", dockerfile);
        Assert.Contains("HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD [\"/usr/share/dotnet/dotnet\", \"/opt/mlmodels/server/MlModels.Server.dll\", \"healthcheck\"]", dockerfile);
        Assert.Contains("USER 1654:1654\n", dockerfile);
        // MLflow's protocol and V2 REST on 8080, V2 gRPC on 8081, Azure ML's contract on 5001.
        Assert.Contains("EXPOSE 8080 8081 5001\n", dockerfile);
        Assert.Equal("mlflow,azureml,v2-rest,v2-grpc", ctx.Labels["mlmodels.protocols"]);
        Assert.Equal("8081", ctx.Labels["mlmodels.grpc.port"]);
        // The V2 model name is the folder's at build time (in the image the folder is /opt/ml/model), after the shared layers.
        Assert.Contains("ENV MLMODELS_MODEL_NAME=\"onnx-linear\"\n", dockerfile);
        Assert.True(dockerfile.IndexOf("COPY model", StringComparison.Ordinal) < dockerfile.IndexOf("ENV MLMODELS_MODEL_NAME", StringComparison.Ordinal));
        // The server's gen0 budget is read from the environment only, so the image carries it.
        Assert.Contains(" DOTNET_GCgen0size=0x800000", dockerfile.Split('\n').Single(l => l.StartsWith("ENV HOME=", StringComparison.Ordinal)));
        Assert.Contains("COPY model /opt/ml/model\n", dockerfile);
        Assert.Contains("mlmodels.model.uuid=\"992ac70919f649b1bf63a7bc0ed48d34\"", dockerfile);
        Assert.Contains("mlmodels.model.flavors=\"onnx,python_function\"", dockerfile);
        Assert.Equal("onnx", ctx.Labels["mlmodels.kind"]);
        // What every model shares comes before what is the model's own, so the engine's cache serves it.
        Assert.True(dockerfile.IndexOf("ENTRYPOINT", StringComparison.Ordinal) < dockerfile.IndexOf("COPY server", StringComparison.Ordinal));
        Assert.True(dockerfile.IndexOf("COPY server", StringComparison.Ordinal) < dockerfile.IndexOf("COPY model", StringComparison.Ordinal));
    }

    [Fact]
    public void Pyfunc_UsesThePythonOfTheModel_CopiesTheDotnetRuntime_AndLeavesMlflowOut()
    {
        var root = TestPaths.NewTempDir();
        var model = PyfuncModel(Path.Combine(root, "m"), "mlflow==2.16.0\nMLflow_Skinny\nscikit-learn==1.2.1\n-c constraints.txt\ncloudpickle\n");
        var ctx = DockerContextWriter.Write(model, Path.Combine(root, "ctx"), Options);

        Assert.Equal(ImageKind.Python, ctx.Kind);
        Assert.Equal("python:3.10-slim", ctx.BaseImage);
        var dockerfile = File.ReadAllText(ctx.Dockerfile);
        Assert.Contains($"FROM {DockerContextOptions.DefaultDotnetImage} AS dotnet\nFROM python:3.10-slim\n", dockerfile);
        Assert.Contains("COPY --from=dotnet /usr/share/dotnet /usr/share/dotnet\n", dockerfile);
        // pip installs the requirements and leaves: the model image needs it for the build alone.
        Assert.Contains("RUN python3 -m venv --system-site-packages /opt/mlmodels/venv && /opt/mlmodels/venv/bin/python -m pip install " +
            "--no-cache-dir --disable-pip-version-check -r /opt/mlmodels/requirements.txt && /opt/mlmodels/venv/bin/python -m pip uninstall " +
            "--yes --quiet pip\n", dockerfile);
        // A python_function image scores through Python alone: ONNX Runtime's library stays out of it.
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(ctx.Path, "server"), "*", SearchOption.AllDirectories),
            f => Path.GetFileName(f).Contains("onnxruntime", StringComparison.Ordinal));
        Assert.Contains("MLMODELS_PYTHON=/opt/mlmodels/venv/bin/python", dockerfile);
        // Packages install as root; the server runs as the non-root user.
        Assert.True(dockerfile.IndexOf("RUN python3", StringComparison.Ordinal) < dockerfile.IndexOf("USER", StringComparison.Ordinal));
        Assert.Equal(["scikit-learn==1.2.1", "-c /opt/ml/model/constraints.txt", "cloudpickle"], File.ReadAllLines(Path.Combine(ctx.Path, "requirements.txt")));
        // A label value with a quote and a $ stays one literal word.
        Assert.Contains("mlmodels.model.run_id=\"r\\$1\\\"x\"", dockerfile);
    }

    /// <summary>A server folder laid out as build.ps1 lays out the module's: the native server's executable and ONNX
    /// Runtime's library (placeholders: only their places and names are read here).</summary>
    private static string NativeServerDirectory()
    {
        var dir = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(dir, "native-server", "linux-x64"));
        File.WriteAllText(ServerFiles.NativePath(dir, "linux-x64"), "native server");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(ServerFiles.NativePath(dir, "linux-x64"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.CreateDirectory(Path.Combine(dir, "runtimes", "linux-x64", "native"));
        File.WriteAllText(Path.Combine(dir, "runtimes", "linux-x64", "native", "libonnxruntime.so"), "onnx runtime");
        return dir;
    }

    [Fact]
    public void Native_WhereTheModuleHasIt_TheImageCarriesOneExecutableAndNoDotnetRuntime()
    {
        var target = Path.Combine(TestPaths.NewTempDir(), "ctx");
        var ctx = DockerContextWriter.Write(OnnxModel(), target, Options with { ServerDirectory = NativeServerDirectory() });

        Assert.Equal(ServerBuild.Native, ctx.Server);
        Assert.Equal(DockerContextOptions.DefaultNativeBaseImage, ctx.BaseImage);
        var server = Directory.EnumerateFiles(Path.Combine(target, "server"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Path.Combine(target, "server"), f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray();
        // ONNX Runtime's library sits beside the executable, where the native server looks for it.
        Assert.Equal(["MlModels.Server", "libonnxruntime.so"], server);
        Assert.Equal("native server", File.ReadAllText(Path.Combine(target, "server", "MlModels.Server")));
        // The module's copy may have lost its execute bit (a package is a zip); the image's copy has it.
        if (!OperatingSystem.IsWindows())
            Assert.True(File.GetUnixFileMode(Path.Combine(target, "server", "MlModels.Server")).HasFlag(UnixFileMode.OtherExecute));
        var dockerfile = File.ReadAllText(ctx.Dockerfile);
        Assert.Contains($"FROM {DockerContextOptions.DefaultNativeBaseImage}\n", dockerfile);
        Assert.DoesNotContain("AS dotnet", dockerfile);
        Assert.DoesNotContain("/usr/share/dotnet", dockerfile);
        Assert.Contains("ENTRYPOINT [\"/opt/mlmodels/server/MlModels.Server\"]\n", dockerfile);
        Assert.Contains("CMD [\"/opt/mlmodels/server/MlModels.Server\", \"healthcheck\"]", dockerfile);
        Assert.Equal("native", ctx.Labels["mlmodels.server"]);
        // The runtime still reads its gen0 budget from the environment.
        Assert.Contains(" DOTNET_GCgen0size=0x800000", dockerfile);

        // A .NET image the caller names stays the base (a mirror or a pinned one); the server is still the native one.
        var named = DockerContextWriter.Write(OnnxModel(), Path.Combine(TestPaths.NewTempDir(), "ctx"),
            Options with { ServerDirectory = NativeServerDirectory(), DotnetImage = "mirror.example/dotnet/aspnet:8.0" });
        Assert.Equal("mirror.example/dotnet/aspnet:8.0", named.BaseImage);
        Assert.Equal(ServerBuild.Native, named.Server);
        Assert.DoesNotContain("AS dotnet", File.ReadAllText(named.Dockerfile));
    }

    [Fact]
    public void Native_PythonImage_LeavesOnnxRuntimeAndTheDotnetRuntimeOut()
    {
        var root = TestPaths.NewTempDir();
        var model = PyfuncModel(Path.Combine(root, "m"), "scikit-learn==1.2.1\n");
        var ctx = DockerContextWriter.Write(model, Path.Combine(root, "ctx"), Options with { ServerDirectory = NativeServerDirectory() });

        Assert.Equal(ServerBuild.Native, ctx.Server);
        Assert.Equal("python:3.10-slim", ctx.BaseImage);
        Assert.Equal(["MlModels.Server"], Directory.EnumerateFiles(Path.Combine(ctx.Path, "server")).Select(f => Path.GetFileName(f)!).ToArray());
        var dockerfile = File.ReadAllText(ctx.Dockerfile);
        Assert.DoesNotContain("AS dotnet", dockerfile);
        Assert.DoesNotContain("COPY --from=dotnet", dockerfile);
    }

    [Fact]
    public void ServerBuild_FrameworkOverridesTheNativeServer_AndNativeWithoutOneIsRefused()
    {
        // A module folder with both builds: the framework-dependent server's files, and the native placeholder.
        var both = NativeServerDirectory();
        foreach (var rel in ServerFiles.List(AppContext.BaseDirectory, "linux-x64"))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(both, rel))!);
            File.Copy(Path.Combine(AppContext.BaseDirectory, rel), Path.Combine(both, rel), overwrite: true);
        }
        var target = Path.Combine(TestPaths.NewTempDir(), "ctx");
        var framework = DockerContextWriter.Write(OnnxModel(), target, Options with { ServerDirectory = both, Server = ServerBuild.Framework });
        Assert.True(File.Exists(Path.Combine(target, "server", "MlModels.Server.dll")));
        Assert.False(File.Exists(Path.Combine(target, "server", "MlModels.Server")));
        Assert.Equal(ServerBuild.Framework, framework.Server);
        Assert.Equal("framework", framework.Labels["mlmodels.server"]);
        Assert.Equal(DockerContextOptions.DefaultDotnetImage, framework.BaseImage);

        // Without a native server in the module, Auto takes the framework-dependent one and Native is refused by name.
        var auto = DockerContextWriter.Write(OnnxModel(), Path.Combine(TestPaths.NewTempDir(), "ctx"), Options);
        Assert.Equal(ServerBuild.Framework, auto.Server);
        var missing = Path.Combine(TestPaths.NewTempDir(), "ctx");
        var ex = Assert.Throws<FileNotFoundException>(() => DockerContextWriter.Write(OnnxModel(), missing, Options with { Server = ServerBuild.Native }));
        Assert.Contains("native server for linux-x64", ex.Message);
        Assert.Contains("-ServerBuild Framework", ex.Message);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void Generic_HoldsNoModel_AndAnotherBaseGetsTheRuntimeCopied()
    {
        var target = Path.Combine(TestPaths.NewTempDir(), "ctx");
        var ctx = DockerContextWriter.Write(null, target, Options with { Generic = true, BaseImage = "debian:bookworm-slim", DotnetImage = "mcr.microsoft.com/dotnet/aspnet:8.0-bookworm-slim" });

        Assert.Equal(ImageKind.GenericOnnx, ctx.Kind);
        Assert.Equal(["Dockerfile", "server"], Directory.EnumerateFileSystemEntries(target).Select(p => Path.GetFileName(p)!).Order().ToArray());
        var dockerfile = File.ReadAllText(ctx.Dockerfile);
        Assert.Contains("FROM mcr.microsoft.com/dotnet/aspnet:8.0-bookworm-slim AS dotnet\nFROM debian:bookworm-slim\n", dockerfile);
        Assert.DoesNotContain("COPY model", dockerfile);
        Assert.Equal("generic-onnx", ctx.Labels["mlmodels.kind"]);
    }

    [Fact]
    public void Write_RefusesANonEmptyFolderWithoutForce_AndReplacesItWithForce()
    {
        var target = Path.Combine(TestPaths.NewTempDir(), "ctx");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep.txt"), "mine");
        var ex = Assert.Throws<TargetExistsException>(() => DockerContextWriter.Write(OnnxModel(), target, Options));
        Assert.Contains(target, ex.Message);
        Assert.True(File.Exists(Path.Combine(target, "keep.txt")));

        DockerContextWriter.Write(OnnxModel(), target, Options with { Force = true });
        Assert.False(File.Exists(Path.Combine(target, "keep.txt")));
        Assert.True(File.Exists(Path.Combine(target, "Dockerfile")));
        // No staging folder is left beside the target.
        Assert.Single(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(target)!));
    }

    [Fact]
    public void Write_RefusesBadInputBeforeWritingAnything()
    {
        var root = TestPaths.NewTempDir();
        var target = Path.Combine(root, "ctx");
        var bad = Assert.Throws<ArgumentException>(() => DockerContextWriter.Write(OnnxModel(), target, Options with { BaseImage = "Not A Name" }));
        Assert.Contains("base image", bad.Message);
        var platform = Assert.Throws<ArgumentException>(() => DockerContextWriter.Write(OnnxModel(), target, Options with { Platform = "win-x64" }));
        Assert.Contains("win-x64", platform.Message);

        var dir = Path.Combine(root, "nothing");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "MLmodel"), "flavors:\n  keras:\n    data: data\n");
        var noServer = Assert.Throws<ArgumentException>(() => DockerContextWriter.Write(ModelStore.Load(dir), target, Options));
        Assert.Contains("neither an onnx nor a python_function flavor (keras)", noServer.Message);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public void ServerFiles_NamesAMissingFile()
    {
        var dir = TestPaths.NewTempDir();
        File.Copy(Path.Combine(AppContext.BaseDirectory, "MlModels.Server.dll"), Path.Combine(dir, "MlModels.Server.dll"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "MlModels.Server.deps.json"), Path.Combine(dir, "MlModels.Server.deps.json"));
        var ex = Assert.Throws<FileNotFoundException>(() => ServerFiles.List(dir, "linux-x64"));
        Assert.Contains("build.ps1", ex.Message);
    }
}
