using MlModels.Core.Format;
using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Tests.Scoring.Python;

/// <summary>Install hints name the PyPI distribution (not the import name) at the version the model pins.</summary>
[Trait("Category", "Fast")]
public class PythonPackagesTests
{
    [Theory]
    [InlineData("sklearn", "scikit-learn")]
    [InlineData("sklearn.ensemble._forest", "scikit-learn")]
    [InlineData("yaml", "PyYAML")]
    [InlineData("cv2", "opencv-python")]
    [InlineData("PIL", "Pillow")]
    [InlineData("PIL.Image", "Pillow")]
    [InlineData("skimage", "scikit-image")]
    [InlineData("google.protobuf", "protobuf")]
    [InlineData("google.cloud.storage", "google-cloud-storage")]
    [InlineData("dateutil.parser", "python-dateutil")]
    [InlineData("pandas", "pandas")]
    [InlineData("xgboost.core", "xgboost")]
    public void ImportNames_MapToDistributions(string module, string distribution) =>
        Assert.Equal(distribution, PythonPackages.DistributionFor(module));

    private static MLModel ModelWith(string requirements, string? conda = null)
    {
        var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "MLmodel"), "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    env:\n      conda: conda.yaml\n");
        File.WriteAllText(Path.Combine(dir, "requirements.txt"), requirements);
        if (conda != null) File.WriteAllText(Path.Combine(dir, "conda.yaml"), conda);
        return ModelStore.Load(dir);
    }

    [Fact]
    public void Hint_GivesThePinFromRequirementsTxt()
    {
        var m = ModelWith("mlflow==2.12.2\n# a comment\nscikit_learn==1.3.2\ncloudpickle==3.0.0\n");
        Assert.Equal("pip install \"scikit_learn==1.3.2\" (pinned in the model's requirements.txt; 'sklearn' is imported from the scikit-learn distribution)",
            PythonPackages.InstallHint("sklearn.ensemble", m));
        Assert.Equal("pip install \"cloudpickle==3.0.0\" (pinned in the model's requirements.txt)", PythonPackages.InstallHint("cloudpickle", m));
    }

    [Fact]
    public void Hint_FallsBackToCondaPip_ThenToTheBareName()
    {
        var m = ModelWith("mlflow\n", "dependencies:\n- python=3.10\n- pip:\n  - PyYAML>=6.0,<7\n");
        Assert.Equal("pip install \"PyYAML>=6.0,<7\" (pinned in the model's conda.yaml; 'yaml' is imported from the PyYAML distribution)", PythonPackages.InstallHint("yaml", m));
        Assert.Equal("pip install mlflow (the model's requirements.txt lists it without a version)", PythonPackages.InstallHint("mlflow", m));
        Assert.Equal("pip install opencv-python (the model's environment files do not list it; 'cv2' is imported from the opencv-python distribution)",
            PythonPackages.InstallHint("cv2", m));
        Assert.Equal("pip install Pillow (the model's environment files do not list it; 'PIL' is imported from the Pillow distribution)",
            PythonPackages.InstallHint("PIL", null));
    }

    [Fact]
    public void Hint_IgnoresPipOptions()
    {
        var m = ModelWith("--extra-index-url https://example.invalid/simple\n-r other.txt\nskimage-tools==1.0\nscikit-image==0.22.0\n");
        Assert.StartsWith("pip install \"scikit-image==0.22.0\" (pinned", PythonPackages.InstallHint("skimage", m));
    }
}
