using MlModels.Core.Format;
using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Tests.Scoring.Python;

/// <summary>
/// Which interpreter runs a model: with VirtualEnv, one of the Python version python_env.yaml names (MLflow's
/// virtualenv manager installs that version), else an error naming what was wanted and found; with Local, the
/// Python at hand (a warning comes later).
/// </summary>
[Collection(ProcessEnvironment.Name)]
[Trait("Category", "Python")]
public sealed class PythonVersionChoiceTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private MLModel ModelWanting(string version)
    {
        File.WriteAllText(Path.Combine(_dir, "MLmodel"),
            $"flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n    python_version: {version}\n    " +
            $"env:\n      virtualenv: python_env.yaml\n");
        File.WriteAllText(Path.Combine(_dir, "python_env.yaml"),
            $"python: {version}\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n");
        File.WriteAllText(Path.Combine(_dir, "requirements.txt"), "scikit-learn\n");
        return ModelStore.Load(_dir);
    }

    private static string DebianMinor()
    {
        Prerequisites.Require(File.Exists(Prerequisites.DebianPython), "Debian's python3");
        return PythonEnvironments.VersionOf(Prerequisites.DebianPython) ?? throw new InvalidOperationException("python3 does not run");
    }

    [SkippableFact]
    public void VirtualEnv_TakesTheNamedPython_WhenItIsOfTheModelsVersion()
    {
        var minor = DebianMinor();
        Assert.Equal(Prerequisites.DebianPython,
            PythonEnvironments.ChooseForModel(ModelWanting(minor + ".2"), Prerequisites.DebianPython, EnvManager.VirtualEnv));
    }

    [SkippableFact]
    public void VirtualEnv_RefusesAPythonOfAnotherVersion_NamingWantedAndFound()
    {
        DebianMinor();
        var ex = Assert.Throws<PythonWorkerException>(() => PythonEnvironments.ChooseForModel(ModelWanting("3.6.9"), Prerequisites.DebianPython,
            EnvManager.VirtualEnv));
        Assert.Equal(PythonWorkerFailure.PythonVersionNotFound, ex.Kind);
        Assert.Equal("PythonVersionNotFound", ex.PythonType);
        Assert.Contains("wants Python 3.6.9", ex.Message);
        Assert.Contains($"{Prerequisites.DebianPython} (Python {DebianMinor()})", ex.Message);
        Assert.Contains("python3.6 on PATH", ex.Message);
    }

    [SkippableFact]
    public void VirtualEnv_WithoutANamedPython_FindsPythonXYOnPath()
    {
        var minor = DebianMinor();
        var bin = Path.Combine(_dir, "bin");
        Directory.CreateDirectory(bin);
        var link = Path.Combine(bin, "python" + minor);
        File.CreateSymbolicLink(link, Prerequisites.DebianPython);
        var (path, named) = (Environment.GetEnvironmentVariable("PATH"), Environment.GetEnvironmentVariable(PythonEnvironments.PythonVariable));
        try
        {
            Environment.SetEnvironmentVariable("PATH", bin + Path.PathSeparator + path);
            Environment.SetEnvironmentVariable(PythonEnvironments.PythonVariable, null);
            Assert.Equal(link, PythonEnvironments.ChooseForModel(ModelWanting(minor + ".0"), null, EnvManager.VirtualEnv));
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
            Environment.SetEnvironmentVariable(PythonEnvironments.PythonVariable, named);
        }
    }

    [SkippableFact]
    public void Local_TakesThePythonAtHand_WhateverTheModelWants()
    {
        DebianMinor();
        Assert.Equal(Prerequisites.DebianPython,
            PythonEnvironments.ChooseForModel(ModelWanting("3.6.9"), Prerequisites.DebianPython, EnvManager.Local));
    }
}

/// <summary>Tests that change the process's environment variables (PATH, MLMODELS_PYTHON) run alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironment
{
    public const string Name = "Process environment";
}
