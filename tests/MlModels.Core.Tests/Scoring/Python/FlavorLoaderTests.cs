using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Tests.Scoring.Python;

/// <summary>
/// The worker's own loaders for MLflow's xgboost, pytorch and statsmodels modules, where something is wrong: the
/// flavor library missing, older than the model's format, of another version than the one saved, or a pickled
/// network whose code was not shipped. Models come from the flavor corpus (copied, then changed) or are made here
/// with torch; libraries are replaced by stand-ins on PYTHONPATH, each a one-line module made in the test.
/// </summary>
[Trait("Category", "Python")]
public sealed class FlavorLoaderTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private const string Libraries = "xgboost, torch, statsmodels, pandas, cloudpickle";

    private static void RequireLibraries() =>
        Prerequisites.Require(Prerequisites.PythonHas(Libraries), "python3-xgboost, python3-torch and python3-statsmodels (Debian)");

    private string CopyCorpusModel(string name)
    {
        var src = ScoringCorpus.ModelDir(name, ScoringCorpus.Flavors);
        var dst = Path.Combine(_root, name + "-" + Guid.NewGuid().ToString("N")[..6]);
        foreach (var f in Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(dst, Path.GetRelativePath(src, f));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(f, to);
        }
        return dst;
    }

    /// <summary>A folder on PYTHONPATH holding one stand-in module.</summary>
    private string StandIn(string file, string source)
    {
        var dir = Path.Combine(_root, "standin-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, file))!);
        File.WriteAllText(Path.Combine(dir, file), source);
        return dir;
    }

    private static PythonWorker Start(string modelDir, List<string>? stderr = null, IDictionary<string, string>? env = null) =>
        PythonWorker.Start(ModelStore.Load(modelDir), Prerequisites.DebianPython, line => { lock (stderr ?? []) stderr?.Add(line); },
            TimeSpan.FromSeconds(120), env);

    [SkippableFact]
    public void MissingFlavorLibrary_NamesTheDistributionAndThePinnedVersion_NotMlflow()
    {
        RequireLibraries();
        var pythonpath = StandIn("xgboost.py", "raise ModuleNotFoundError(\"No module named 'xgboost'\", name='xgboost')\n");
        var ex = Assert.Throws<PythonWorkerException>(() => Start(CopyCorpusModel("xgb-regressor"),
            env: new Dictionary<string, string> { ["PYTHONPATH"] = pythonpath }));
        Assert.Equal("xgboost", ex.MissingModule);
        Assert.Equal(PythonWorkerFailure.ModuleMissing, ex.Kind);
        // The cmdlets add how to choose another Python; the worker's message names no cmdlet parameter.
        Assert.DoesNotContain("-PythonPath", ex.Message, StringComparison.Ordinal);
        Assert.Contains("pip install \"xgboost==1.7.4\" (pinned in the model's requirements.txt)", ex.Message);
        Assert.Contains(Prerequisites.DebianPython, ex.Message);
        Assert.DoesNotContain("'mlflow'", ex.Message);
    }

    [SkippableTheory]
    [InlineData("xgb-regressor-ubj", "1.5.2", "'ubj' format, which needs xgboost 1.6.0 or later; this Python has xgboost 1.5.2")]
    [InlineData("xgb-regressor-json", "0.90", "'json' format, which needs xgboost 1.0.0 or later; this Python has xgboost 0.90")]
    public void XgboostTooOldForTheModelFormat_NamesTheFormatAndTheVersionNeeded(string model, string version, string expected)
    {
        RequireLibraries();
        var pythonpath = StandIn("xgboost/__init__.py", $"__version__ = '{version}'\n");
        var ex = Assert.Throws<PythonWorkerException>(() => Start(CopyCorpusModel(model),
            env: new Dictionary<string, string> { ["PYTHONPATH"] = pythonpath }));
        Assert.Equal("LoaderError", ex.PythonType);
        Assert.Contains(expected, ex.Message);
    }

    [SkippableFact]
    public void InstalledXgboostReadsEveryFormat_WithoutAVersionWarning()
    {
        RequireLibraries();
        foreach (var model in (string[])["xgb-regressor", "xgb-regressor-json", "xgb-regressor-ubj"])
        {
            var lines = new List<string>();
            using var w = Start(ScoringCorpus.ModelDir(model, ScoringCorpus.Flavors), lines);
            Assert.Equal("builtin:mlflow.xgboost", w.LoadedBy);
            Assert.DoesNotContain(lines, l => l.StartsWith("MLMODELS-WARNING", StringComparison.Ordinal));
        }
    }

    [SkippableTheory]
    [InlineData("xgb-regressor", "xgb_version: 1.7.4", "xgb_version: 1.6.2", "xgboost 1.7.4 is installed; the model was saved with xgboost 1.6.2")]
    [InlineData("statsmodels-ols", "statsmodels_version: 0.13.5+dfsg", "statsmodels_version: 0.14.1",
        "statsmodels 0.13.5+dfsg is installed; the model was saved with statsmodels 0.14.1")]
    [InlineData("torch-mlp", "pytorch_version: 1.13.0a0", "pytorch_version: 2.1.0",
        "torch 1.13.0a0 is installed; the model was saved with torch 2.1.0")]
    public void OtherLibraryVersionThanSaved_WarnsNamingBoth_AndScores(string model, string from, string to, string expected)
    {
        RequireLibraries();
        var dir = CopyCorpusModel(model);
        var mlmodel = Path.Combine(dir, "MLmodel");
        File.WriteAllText(mlmodel, File.ReadAllText(mlmodel).Replace(from, to));
        var lines = new List<string>();
        using var scorer = PythonScorer.Start(ModelStore.Load(dir), new PythonOptions(Prerequisites.DebianPython),
            line => { lock (lines) lines.Add(line); });
        var frame = JsonTable.FromSplit(System.Text.Json.JsonDocument.Parse("{\"columns\": [\"a\", \"b\", \"c\"], \"data\": [[0.5, -1.25, " +
            "2.0]]}").RootElement).ToFrame(PredictionEngine.Planner(scorer, null));
        var prediction = scorer.Predict(PredictionEngine.Enforce(scorer, frame, false), null);
        Assert.StartsWith("{\"predictions\": [", System.Text.Encoding.UTF8.GetString(PredictionJsonWriter.ToBytes(prediction)));
        Assert.Contains(lines, l => l == "MLMODELS-WARNING: UserWarning: " + expected + ". Predictions may differ.");
    }

    /// <summary>Saves a torch network whose class lives in a module of its own, as mlflow.pytorch lays it out.</summary>
    private string TorchModelWithOwnModule(bool shipCode)
    {
        var src = Path.Combine(_root, "netsrc-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(src);
        const string module = "import torch\nclass Doubler(torch.nn.Module):\n    def forward(self, x):\n        return x * 2\n";
        File.WriteAllText(Path.Combine(src, "fixture_net.py"), module);
        var dir = CopyCorpusModel("torch-mlp");
        var save = $"import sys, torch, cloudpickle\nsys.path.insert(0, {System.Text.Json.JsonSerializer.Serialize(src)})\nimport fixture_net\n" +
                   $"torch.save(fixture_net.Doubler(), {System.Text.Json.JsonSerializer.Serialize(Path.Combine(dir, "data", "model.pth"))}, " +
                       $"pickle_module=cloudpickle)\n";
        using (var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(Prerequisites.DebianPython,
            ["-c", save])
        { RedirectStandardError = true })!)
        {
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
        }
        if (shipCode)
        {
            Directory.CreateDirectory(Path.Combine(dir, "code"));
            File.WriteAllText(Path.Combine(dir, "code", "fixture_net.py"), module);
            var mlmodel = Path.Combine(dir, "MLmodel");
            File.WriteAllText(mlmodel, File.ReadAllText(mlmodel).Replace("    data: data\n", "    code: code\n    data: data\n"));
        }
        return dir;
    }

    [SkippableFact]
    public void PickledNetworkWhoseCodeIsNotShipped_NamesTheModuleAndCodePaths()
    {
        RequireLibraries();
        var ex = Assert.Throws<PythonWorkerException>(() => Start(TorchModelWithOwnModule(shipCode: false)));
        Assert.Equal("LoaderError", ex.PythonType);
        Assert.Contains("'fixture_net'", ex.Message);
        Assert.Contains("code_paths", ex.Message);
        Assert.DoesNotContain("pip install", ex.Message);
    }

    [SkippableFact]
    public void PickledNetworkWithItsCodeShipped_LoadsFromTheCodeFolder_AndScoresAFrameAsFloat32()
    {
        RequireLibraries();
        var dir = TorchModelWithOwnModule(shipCode: true);
        using var scorer = PythonScorer.Start(ModelStore.Load(dir), new PythonOptions(Prerequisites.DebianPython));
        var frame = JsonTable.FromSplit(System.Text.Json.JsonDocument.Parse("{\"columns\": [\"a\", \"b\", \"c\"], \"data\": [[0.5, -1.25, " +
            "2.1]]}").RootElement).ToFrame(PredictionEngine.Planner(scorer, null));
        var json = System.Text.Encoding.UTF8.GetString(PredictionJsonWriter.ToBytes(scorer.Predict(PredictionEngine.Enforce(scorer, frame,
            false), null)));
        // A frame in, a frame out with columns 0, 1, 2; the float32 of 2.1 doubled is not 4.2 in float64.
        Assert.Equal("{\"predictions\": [{\"0\": 1.0, \"1\": -2.5, \"2\": 4.199999809265137}]}", json);
    }
}
