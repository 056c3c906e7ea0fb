using MlModels.Core.Format;
using MlModels.Core.Tests;
using MlModels.Deploy.Docker;

namespace MlModels.Deploy.Tests.Docker;

/// <summary>
/// Which Python loads a model in its image, and so what the image installs: the worker's own loaders need no MLflow;
/// any other of MLflow's flavor modules keeps the model's MLflow pin; -InstallMlflow, a wheelhouse and pip's index
/// settings change only the pip step.
/// </summary>
[Trait("Category", "Fast")]
public sealed class PythonLoaderDecisionTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly DockerContextOptions Options = new() { ServerDirectory = AppContext.BaseDirectory };

    private MLModel Model(string loader, string requirements, string extraFlavor = "", string? code = null)
    {
        var dir = Path.Combine(_root, "m-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "MLmodel"),
            $"flavors:\n  python_function:\n    loader_module: {loader}\n    data: model.bin\n    python_version: 3.11.2\n{(code == null ? "" : $"    code: {code}\n")}{extraFlavor}mlflow_version: 2.12.2\n");
        File.WriteAllText(Path.Combine(dir, "requirements.txt"), requirements);
        File.WriteAllText(Path.Combine(dir, "model.bin"), "not read here");
        if (code != null) { Directory.CreateDirectory(Path.Combine(dir, code)); File.WriteAllText(Path.Combine(dir, code, $"{loader}.py"), "def _load_pyfunc(p): pass\n"); }
        return ModelStore.Load(dir);
    }

    private DockerContext Write(MLModel model, DockerContextOptions? options = null) =>
        DockerContextWriter.Write(model, Path.Combine(_root, "ctx-" + Guid.NewGuid().ToString("N")[..8]), options ?? Options);

    private static string Requirements(DockerContext ctx) => File.ReadAllText(Path.Combine(ctx.Path, "requirements.txt"));

    [Theory]
    [InlineData("mlflow.sklearn", "scikit-learn==1.2.1")]
    [InlineData("mlflow.pyfunc.model", "cloudpickle==2.2.0")]
    [InlineData("mlflow.xgboost", "xgboost==1.7.4")]
    [InlineData("mlflow.pytorch", "torch==1.13.0a0")]
    [InlineData("mlflow.statsmodels", "statsmodels==0.13.5")]
    public void BuiltinLoader_LeavesMlflowOut_AndIsLabelledBuiltin(string loader, string library)
    {
        var ctx = Write(Model(loader, $"mlflow==2.12.2\n{library}\npandas==1.5.3\n"));
        Assert.Equal(PythonLoader.Builtin, ctx.Loader);
        Assert.Equal($"{library}\npandas==1.5.3\n", Requirements(ctx));
        Assert.Equal("builtin", ctx.Labels["mlmodels.python.loader"]);
        Assert.Contains("mlmodels.python.loader=\"builtin\"", File.ReadAllText(ctx.Dockerfile));
        Assert.Contains(loader, ctx.LoaderReason);
    }

    [Fact]
    public void CodeModel_OwnLoaderModule_IsBuiltin()
    {
        var ctx = Write(Model("my_loader", "mlflow==2.12.2\nnumpy==1.24.2\n", code: "code"));
        Assert.Equal(PythonLoader.Builtin, ctx.Loader);
        Assert.Equal("numpy==1.24.2\n", Requirements(ctx));
    }

    [Theory]
    [InlineData("mlflow.lightgbm", "mlflow==2.12.2\nlightgbm==4.1.0\n", "mlflow==2.12.2\nlightgbm==4.1.0\n")]
    [InlineData("mlflow.tensorflow", "tensorflow==2.15.0\n", "tensorflow==2.15.0\nmlflow==2.12.2\n")]
    public void OtherMlflowFlavor_KeepsOrAddsTheMlflowPin_AndIsLabelledMlflow(string loader, string requirements, string expected)
    {
        var ctx = Write(Model(loader, requirements));
        Assert.Equal(PythonLoader.Mlflow, ctx.Loader);
        Assert.Equal(expected, Requirements(ctx));
        Assert.Equal("mlflow", ctx.Labels["mlmodels.python.loader"]);
        Assert.Contains("no loader in the worker", ctx.LoaderReason);
    }

    [Fact]
    public void InstallMlflow_PutsMlflowIntoABuiltinModelsImage()
    {
        var ctx = Write(Model("mlflow.xgboost", "mlflow==2.12.2\nxgboost==1.7.4\n"), Options with { InstallMlflow = true });
        Assert.Equal(PythonLoader.Mlflow, ctx.Loader);
        Assert.Equal("mlflow==2.12.2\nxgboost==1.7.4\n", Requirements(ctx));
        Assert.Contains("-InstallMlflow", ctx.LoaderReason);
    }

    [Fact]
    public void InstallMlflow_OnAGenericPythonImage_InstallsMlflow_WithoutCopyingAModel()
    {
        var ctx = DockerContextWriter.Write(null, Path.Combine(_root, "generic"), Options with { Generic = true, PythonVersion = "3.11", InstallMlflow = true });
        Assert.Equal("mlflow\n", Requirements(ctx));
        var dockerfile = File.ReadAllText(ctx.Dockerfile);
        Assert.DoesNotContain("COPY model", dockerfile);
        Assert.Contains("-r /opt/mlmodels/requirements.txt", dockerfile);
        Assert.Equal("mlflow", ctx.Labels["mlmodels.python.loader"]);
    }

    [Fact]
    public void Wheelhouse_IsCopied_AndPipInstallsFromItWithoutAnIndex()
    {
        var wheels = Path.Combine(_root, "wheels");
        Directory.CreateDirectory(wheels);
        File.WriteAllText(Path.Combine(wheels, "xgboost-1.7.4-py3-none-any.whl"), "a wheel");
        var ctx = Write(Model("mlflow.xgboost", "xgboost==1.7.4\n"), Options with { Wheelhouse = wheels });
        Assert.True(File.Exists(Path.Combine(ctx.Path, "wheelhouse", "xgboost-1.7.4-py3-none-any.whl")));
        var dockerfile = File.ReadAllText(ctx.Dockerfile);
        Assert.Contains("COPY wheelhouse /opt/mlmodels/wheelhouse\n", dockerfile);
        Assert.Contains("pip install --no-cache-dir --disable-pip-version-check --no-index --find-links /opt/mlmodels/wheelhouse -r /opt/mlmodels/requirements.txt", dockerfile);
    }

    [Fact]
    public void Wheelhouse_ThatIsNoFolder_IsRefusedBeforeAnythingIsWritten()
    {
        var target = Path.Combine(_root, "never");
        var ex = Assert.Throws<DirectoryNotFoundException>(() => DockerContextWriter.Write(Model("mlflow.xgboost", "xgboost==1.7.4\n"), target, Options with { Wheelhouse = Path.Combine(_root, "missing") }));
        Assert.Contains("missing", ex.Message);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public void PipIndexSettings_AreBuildArguments_NotImageEnvironment()
    {
        var dockerfile = File.ReadAllText(Write(Model("mlflow.sklearn", "scikit-learn==1.2.1\n")).Dockerfile);
        Assert.Contains("ARG PIP_INDEX_URL\nARG PIP_EXTRA_INDEX_URL\nARG PIP_TRUSTED_HOST\nRUN python3 -m venv", dockerfile);
        Assert.DoesNotContain("ENV PIP_", dockerfile);
        var before = Environment.GetEnvironmentVariable("PIP_INDEX_URL");
        try
        {
            Environment.SetEnvironmentVariable("PIP_INDEX_URL", "http://127.0.0.1:3141/simple");
            Assert.Equal("http://127.0.0.1:3141/simple", ImageBuilder.PipBuildArgs()["PIP_INDEX_URL"]);
            Environment.SetEnvironmentVariable("PIP_INDEX_URL", null);
            Assert.False(ImageBuilder.PipBuildArgs().ContainsKey("PIP_INDEX_URL"));
        }
        finally { Environment.SetEnvironmentVariable("PIP_INDEX_URL", before); }
    }

    [Fact]
    public void FlavorLibraryMissingFromRequirements_IsRefusedNamingThePin()
    {
        var model = Model("mlflow.xgboost", "mlflow==2.12.2\npandas==1.5.3\n", "  xgboost:\n    data: model.bin\n    xgb_version: 1.7.4\n    model_format: xgb\n");
        var target = Path.Combine(_root, "refused");
        var ex = Assert.Throws<ArgumentException>(() => DockerContextWriter.Write(model, target, Options));
        Assert.Contains("\"xgboost==1.7.4\"", ex.Message);
        Assert.Contains("requirements.txt", ex.Message);
        Assert.False(Directory.Exists(target));
        // A base of the user's own may carry the library: then it is the user's call.
        Assert.Equal(PythonLoader.Builtin, Write(model, Options with { BaseImage = "registry.example/ml/xgb-base:1" }).Loader);
    }

    [Fact]
    public void CorpusModels_OfEveryBuiltinFlavor_BuildWithoutMlflow()
    {
        foreach (var dir in Directory.GetDirectories(Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "flavors", "models")))
        {
            var ctx = Write(ModelStore.Load(dir));
            Assert.Equal(PythonLoader.Builtin, ctx.Loader);
            Assert.DoesNotContain("mlflow", Requirements(ctx));
        }
    }
}
