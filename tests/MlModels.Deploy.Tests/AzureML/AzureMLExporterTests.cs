using System.Diagnostics;
using MlModels.Core.Format;
using MlModels.Core.Tests;
using MlModels.Deploy.AzureML;

namespace MlModels.Deploy.Tests.AzureML;

public class AzureMLExporterTests
{
    private static (int Code, string Out, string Err) Python(string script, string cwd, string? pythonPath = null)
    {
        var psi = new ProcessStartInfo(Prerequisites.DebianPython, ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = cwd };
        if (pythonPath != null) psi.Environment["PYTHONPATH"] = pythonPath;
        psi.Environment.Remove("AZUREML_MODEL_DIR");
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "python did not finish");
        return (p.ExitCode, output.Result, error.Result);
    }

    private static AzureMLExport ExportPyfuncCustom(string dir, string endpoint = "churn-endpoint") =>
        AzureMLExporter.Export(ModelStore.Load(Path.Combine(TestPaths.Examples, "pyfunc-custom")), Path.Combine(dir, "export"),
            new AzureMLExportOptions(endpoint) { InstanceType = "Standard_DS2_v2", InstanceCount = 2 });

    [Trait("Category", "Fast")]
    [Fact]
    public void Export_WritesTheModelScriptsAndAzureMLv2Yaml()
    {
        var dir = TestPaths.NewTempDir();
        var export = ExportPyfuncCustom(dir);
        foreach (var f in new[] { "model/MLmodel", "score.py", "environment/conda.yaml", "model.yml", "endpoint.yml", "deployment.yml", "deployment-scoring-script.yml", "create_service.sh", "deploy.ps1", ".amlignore" })
            Assert.Contains(f, export.Files);
        Assert.Equal(File.ReadAllBytes(Path.Combine(TestPaths.Examples, "pyfunc-custom", "MLmodel")), File.ReadAllBytes(Path.Combine(export.Path, "model", "MLmodel")));
        if (!OperatingSystem.IsWindows()) Assert.True(File.GetUnixFileMode(Path.Combine(export.Path, "create_service.sh")).HasFlag(UnixFileMode.UserExecute));
        Assert.Empty(Directory.GetDirectories(dir, ".export*"));
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void Export_RefusesAnExistingFolderWithoutForce_AndReplacesItWithForce()
    {
        var dir = TestPaths.NewTempDir();
        var target = Path.Combine(dir, "export");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep.txt"), "mine");
        var model = ModelStore.Load(Path.Combine(TestPaths.Examples, "pyfunc-custom"));
        var ex = Assert.Throws<IOException>(() => AzureMLExporter.Export(model, target, new AzureMLExportOptions("churn-endpoint")));
        Assert.Contains("-Force", ex.Message);
        Assert.True(File.Exists(Path.Combine(target, "keep.txt")));
        AzureMLExporter.Export(model, target, new AzureMLExportOptions("churn-endpoint") { Force = true });
        Assert.False(File.Exists(Path.Combine(target, "keep.txt")));
        Assert.True(File.Exists(Path.Combine(target, "score.py")));
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void Export_RefusesAnEndpointNameAzureWouldRefuse()
    {
        var model = ModelStore.Load(Path.Combine(TestPaths.Examples, "pyfunc-custom"));
        var dir = TestPaths.NewTempDir();
        Assert.Throws<ArgumentException>(() => AzureMLExporter.Export(model, Path.Combine(dir, "x"), new AzureMLExportOptions("bad_name")));
        Assert.False(Directory.Exists(Path.Combine(dir, "x")));
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void ExportedYaml_ParsesIntoTheFieldsTheAzMlCliReads()
    {
        Prerequisites.Require(Prerequisites.PythonHas("yaml"), "python3 with PyYAML");
        var export = ExportPyfuncCustom(TestPaths.NewTempDir());
        var (code, output, err) = Python("""
            import yaml, json
            r = {f: yaml.safe_load(open(f)) for f in ["model.yml", "endpoint.yml", "deployment.yml", "deployment-scoring-script.yml", "environment/conda.yaml"]}
            print(json.dumps(r, sort_keys=True))
            """, export.Path);
        Assert.True(code == 0, err);
        var doc = System.Text.Json.JsonDocument.Parse(output).RootElement;
        var model = doc.GetProperty("model.yml");
        Assert.Equal("mlflow_model", model.GetProperty("type").GetString());
        Assert.Equal("model", model.GetProperty("path").GetString());
        Assert.Equal("pyfunc-custom", model.GetProperty("name").GetString());
        Assert.Equal("churn-endpoint", doc.GetProperty("endpoint.yml").GetProperty("name").GetString());
        Assert.Equal("key", doc.GetProperty("endpoint.yml").GetProperty("auth_mode").GetString());
        var nocode = doc.GetProperty("deployment.yml");
        Assert.Equal("azureml:pyfunc-custom@latest", nocode.GetProperty("model").GetString());
        Assert.Equal(2, nocode.GetProperty("instance_count").GetInt32());
        Assert.Equal("Standard_DS2_v2", nocode.GetProperty("instance_type").GetString());
        Assert.False(nocode.TryGetProperty("code_configuration", out _));
        var script = doc.GetProperty("deployment-scoring-script.yml");
        Assert.Equal("score.py", script.GetProperty("code_configuration").GetProperty("scoring_script").GetString());
        Assert.Equal("environment/conda.yaml", script.GetProperty("environment").GetProperty("conda_file").GetString());
        var conda = doc.GetProperty("environment/conda.yaml").GetProperty("dependencies");
        Assert.Equal("python=3.11", conda[0].GetString());
        var pip = conda.EnumerateArray().Last().GetProperty("pip").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("mlflow", pip);
        Assert.Contains("azureml-inference-server-http", pip);
        Assert.Single(pip, p => p == "mlflow");
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void ScorePy_CompilesAndServesAnSklearnModel_ThroughAStandInForMlflowPyfunc()
    {
        Prerequisites.Require(Prerequisites.PythonHas("sklearn, pandas, numpy, yaml"), "python3 with scikit-learn, pandas and PyYAML");
        var dir = TestPaths.NewTempDir();
        var modelDir = Path.Combine(dir, "sk-model");
        // An sklearn model saved in MLflow's layout (pickled estimator + MLmodel with the python_function flavor).
        var (code, _, err) = Python($$"""
            import os, pickle
            import numpy as np
            from sklearn.linear_model import LinearRegression
            os.makedirs({{Py(modelDir)}})
            m = LinearRegression().fit(np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0], [4.0, 2.0]]), np.array([5.0, 4.0, 13.0, 8.0]))
            pickle.dump(m, open(os.path.join({{Py(modelDir)}}, "model.pkl"), "wb"))
            open(os.path.join({{Py(modelDir)}}, "MLmodel"), "w").write(
                "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n    python_version: 3.11.2\n    env:\n      conda: conda.yaml\n"
                "  sklearn:\n    pickled_model: model.pkl\n")
            open(os.path.join({{Py(modelDir)}}, "conda.yaml"), "w").write("name: sk\nchannels: [conda-forge]\ndependencies:\n- python=3.11.2\n- pip\n- pip: [scikit-learn, mlflow==2.12.2]\n")
            """, dir);
        Assert.True(code == 0, err);
        var export = AzureMLExporter.Export(ModelStore.Load(modelDir), Path.Combine(dir, "export"), new AzureMLExportOptions("sk-endpoint"));

        var (compiled, _, compileErr) = Python($"import py_compile; py_compile.compile({Py(Path.Combine(export.Path, "score.py"))}, doraise=True)", dir);
        Assert.True(compiled == 0, compileErr);

        // MLflow cannot be installed here: a minimal mlflow.pyfunc.load_model that reads the MLmodel and unpickles
        // the python_function model file, the way mlflow.sklearn's pyfunc loader does.
        var stub = Path.Combine(dir, "stub", "mlflow");
        Directory.CreateDirectory(stub);
        File.WriteAllText(Path.Combine(stub, "__init__.py"), "");
        File.WriteAllText(Path.Combine(stub, "pyfunc.py"), """
            import os, pickle, yaml
            class _Model:
                def __init__(self, impl): self._impl = impl
                def predict(self, data, params=None): return self._impl.predict(data)
            def load_model(path):
                conf = yaml.safe_load(open(os.path.join(path, "MLmodel")))["flavors"]["python_function"]
                with open(os.path.join(path, conf["model_path"]), "rb") as f:
                    return _Model(pickle.load(f))
            """);
        var (ran, output, runErr) = Python("""
            import json, score
            score.init()
            split = json.dumps({"input_data": {"columns": ["a", "b"], "index": [0, 1], "data": [[1.0, 2.0], [10.0, 3.0]]}})
            print(json.dumps(score.run(split)))
            print(json.dumps(score.run({"input_data": [[3.0, 5.0]]})))
            try:
                score.run(json.dumps({"dataframe_split": {}}))
            except ValueError as e:
                print("refused:", e)
            """, export.Path, Path.Combine(dir, "stub"));
        Assert.True(ran == 0, runErr);
        var lines = output.Trim().Split('\n');
        var split = System.Text.Json.JsonSerializer.Deserialize<double[]>(lines[0])!;
        Assert.Equal(2, split.Length);
        Assert.Equal(5.0, split[0], 6);
        Assert.Equal(13.0, System.Text.Json.JsonSerializer.Deserialize<double[]>(lines[1])![0], 6);
        Assert.StartsWith("refused: The request must be a JSON object with the key \"input_data\"", lines[2]);
    }

    private static string Py(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
