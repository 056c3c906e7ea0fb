using System.Text;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Tests.Scoring;

/// <summary>
/// The corpus through the Core path that Invoke-MLModelPrediction -InputJson/-InputCsv -OutputPath x.json calls:
/// a request file in, MLflow's JSON file out (or an error with MLflow's error code and no file), as
/// <c>mlflow models predict</c> and MLflow's server answer.
/// </summary>
public sealed class CorpusScorers : IDisposable
{
    private readonly Dictionary<string, IScorer> _scorers = [];

    /// <summary>One scorer (a Python worker) per corpus model folder, for the whole test class.</summary>
    public IScorer For(string modelDir)
    {
        lock (_scorers)
        {
            if (_scorers.TryGetValue(modelDir, out var s)) return s;
            var m = ModelStore.Load(modelDir);
            s = PredictionEngine.ScorerFor(m, null, new PythonOptions(Prerequisites.DebianPython), null, null, null, out _);
            return _scorers[modelDir] = s;
        }
    }

    public void Dispose()
    {
        foreach (var s in _scorers.Values) s.Dispose();
    }
}

public sealed class CorpusPipelineTests(CorpusScorers scorers) : IClassFixture<CorpusScorers>
{
    private IScorer ScorerFor(string modelDir) => scorers.For(modelDir);

    /// <summary>Cases a file can carry: POST /invocations with a JSON or CSV body that MLflow's server reads (not 415 or header errors).</summary>
    public static TheoryData<string> FileCases()
    {
        var d = new TheoryData<string>();
        foreach (var c in ScoringCorpus.Cases())
            if (c.Method == "POST" && c.Path == "/invocations" && c.BodyFile != null && c.Expected.Status is 200 or 400 && !Unrecorded.ContainsKey(c.Name) && !ReadWithoutSchema.Contains(c.Name))
                d.Add(c.Name);
        return d;
    }

    /// <summary>
    /// Tensor-signature cases whose values are not of the spec's dtype. The server reads a request with the schema and
    /// casts; <c>mlflow models predict</c> (and so the cmdlet) reads a file without it, and MLflow's tensor enforcement
    /// then refuses the dtype numpy gave the values (the flavor corpus' torch-tensor-sig predict runs record that).
    /// </summary>
    private static readonly HashSet<string> ReadWithoutSchema = ["py-tensor-sig__tensor-ints", "py-tensor-sig__string-for-double", "py-tensor-sig__tensor-strings"];

    [Trait("Category", "Python")]
    [SkippableFact]
    public void FileWithOtherDtype_IsRefusedAsMlflowModelsPredictRefusesIt()
    {
        Prerequisites.Require(Prerequisites.PythonHas("sklearn, pandas, cloudpickle"), "python3-sklearn, python3-pandas and python3-cloudpickle (Debian)");
        foreach (var name in ReadWithoutSchema)
        {
            var c = ScoringCorpus.Get(name);
            var (error, output) = Run(c.ModelDir, "json", c.Body!);
            Assert.Null(output);
            Assert.Contains("does not match expected dtype float64", Assert.IsType<SchemaViolationException>(error).Message);
        }
    }

    /// <summary>
    /// Where the cmdlet reads CSV as <c>mlflow models predict</c> does (pandas' own types, so a tensor-signature model
    /// scores it) and the server refuses it: the predict corpus holds MLflow's answer for these inputs, or none.
    /// </summary>
    private static readonly Dictionary<string, string> Unrecorded = new()
    {
        ["py-tensor-sig__csv"] = "predict/py-tensor-sig.csv.out",
        ["py-tensor-sig__csv-charset"] = "predict/py-tensor-sig.csv.out",
        ["py-tensor-sig__tensor-csv-noheader"] = "",
    };

    [Trait("Category", "Fast")]
    [Fact]
    public void FileCases_CoverTheCorpus() => Assert.True(FileCases().Count >= 200, $"only {FileCases().Count} cases");

    [Trait("Category", "Python")]
    [SkippableTheory]
    [MemberData(nameof(FileCases))]
    public void File_AnswersAsMlflow(string name)
    {
        Prerequisites.Require(Prerequisites.PythonHas("sklearn, pandas, cloudpickle"), "python3-sklearn, python3-pandas and python3-cloudpickle (Debian)");
        AssertFileAnswer(ScoringCorpus.Get(name));
    }

    private void AssertFileAnswer(ScoringCorpus.Case c, IScorer? scorer = null)
    {
        var name = c.Name;
        var (error, output) = Run(c.ModelDir, c.ContentType!.StartsWith("text/csv", StringComparison.Ordinal) ? "csv" : "json", c.Body!, scorer);
        var expected = c.Expected;
        if (expected.Status == 200)
        {
            Assert.True(error == null, $"{name}: {error}");
            var why = expected.Body.ValueKind == System.Text.Json.JsonValueKind.String
                ? ScoringCorpus.JsonEqual(PyJsonValues.Parse(Encoding.UTF8.GetBytes(expected.Body.GetString()!)), PyJsonValues.Parse(output!), "$")
                : ScoringCorpus.CompareJson(expected.Body, output!);
            Assert.True(why == null, $"{name}: {why}");
        }
        else
        {
            Assert.True(error != null, $"{name}: scored, MLflow answers {expected.Status}: {(output == null ? "" : Encoding.UTF8.GetString(output))}");
            Assert.Null(output);
            Assert.Equal(expected.Body.GetProperty("error_code").GetString(), PredictionEngine.ErrorCodeOf(error));
        }
    }

    public static TheoryData<int> PredictRuns()
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < ScoringCorpus.PredictRuns().Count; i++) d.Add(i);
        return d;
    }

    /// <summary>What <c>mlflow models predict -o</c> wrote, byte for byte; where it failed, no file.</summary>
    [Trait("Category", "Python")]
    [SkippableTheory]
    [MemberData(nameof(PredictRuns))]
    public void File_IsWhatMlflowModelsPredictWrote(int index)
    {
        Prerequisites.Require(Prerequisites.PythonHas("sklearn, pandas, cloudpickle"), "python3-sklearn, python3-pandas and python3-cloudpickle (Debian)");
        AssertPredictRun(ScoringCorpus.Root, index);
    }

    private void AssertPredictRun(string root, int index)
    {
        var run = ScoringCorpus.PredictRuns(root)[index];
        var (error, output) = Run(ScoringCorpus.ModelDir(run.Model, root), run.Format, File.ReadAllBytes(Path.Combine(root, run.Input)));
        if (run.ExitCode != 0)
        {
            Assert.True(error != null, $"{run.Input}: scored, mlflow models predict exited {run.ExitCode}");
            Assert.Null(output);
            return;
        }
        Assert.True(error == null, $"{run.Input}: {error}");
        Assert.Equal(File.ReadAllText(Path.Combine(root, run.Output!)), Encoding.UTF8.GetString(output!));
    }

    private const string FlavorLibraries = "xgboost, torch, statsmodels, pandas, cloudpickle";

    /// <summary>
    /// The flavor corpus' cases a file can carry, by model, in the order MLflow was asked them (a native Booster saved
    /// without feature names takes those of the first frame it sees; see the server's FlavorConformanceTests).
    /// The float32 tensor model is left out: each of its requests holds float64 or int64 values, or none the server
    /// reads, so the file path refuses them all (as its predict runs record) where the server casts by the schema.
    /// </summary>
    public static TheoryData<string> FlavorFileModels()
    {
        var d = new TheoryData<string>();
        foreach (var m in ScoringCorpus.Cases(ScoringCorpus.Flavors).Select(c => c.Model).Distinct().Where(m => m != "torch-tensor-sig")) d.Add(m);
        return d;
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void FlavorFileModels_CoverTheCorpus() => Assert.Equal(7, FlavorFileModels().Count);

    [Trait("Category", "Python")]
    [SkippableTheory]
    [MemberData(nameof(FlavorFileModels))]
    public void FlavorFile_AnswersAsMlflow_InRecordedOrder(string model)
    {
        Prerequisites.Require(Prerequisites.PythonHas(FlavorLibraries), "python3-xgboost, python3-torch and python3-statsmodels (Debian)");
        var cases = ScoringCorpus.Cases(ScoringCorpus.Flavors).Where(c => c.Model == model && c.Method == "POST" && c.Path == "/invocations" && c.BodyFile != null).ToList();
        Assert.True(cases.Count >= 14, $"{model}: only {cases.Count} cases");
        // A worker of its own, so that no other test's call comes first.
        using var scorer = PredictionEngine.ScorerFor(ModelStore.Load(ScoringCorpus.ModelDir(model, ScoringCorpus.Flavors)), null, new PythonOptions(Prerequisites.DebianPython), null, null, null, out _);
        var failures = new List<string>();
        foreach (var c in cases)
        {
            try { AssertFileAnswer(c, scorer); }
            catch (Xunit.Sdk.XunitException ex) { failures.Add(ex.Message); }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases differ from MLflow:\n" + string.Join("\n", failures));
    }

    public static TheoryData<int> FlavorPredictRuns()
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < ScoringCorpus.PredictRuns(ScoringCorpus.Flavors).Count; i++) d.Add(i);
        return d;
    }

    /// <summary>What <c>mlflow models predict -o</c> wrote for the flavor models; the float32 tensor model given JSON floats fails as it did.</summary>
    [Trait("Category", "Python")]
    [SkippableTheory]
    [MemberData(nameof(FlavorPredictRuns))]
    public void FlavorFile_IsWhatMlflowModelsPredictWrote(int index)
    {
        Prerequisites.Require(Prerequisites.PythonHas(FlavorLibraries), "python3-xgboost, python3-torch and python3-statsmodels (Debian)");
        AssertPredictRun(ScoringCorpus.Flavors, index);
    }

    /// <summary>The flavor models load through the worker's own loaders, not MLflow (which the test Python lacks).</summary>
    [Trait("Category", "Python")]
    [SkippableFact]
    public void FlavorModels_LoadWithoutMlflow()
    {
        Prerequisites.Require(Prerequisites.PythonHas(FlavorLibraries), "python3-xgboost, python3-torch and python3-statsmodels (Debian)");
        Skip.If(Prerequisites.PythonHas("mlflow"), "MLflow is importable here, so the worker loads through it");
        foreach (var dir in Directory.GetDirectories(Path.Combine(ScoringCorpus.Flavors, "models")))
        {
            var scorer = (PythonScorer)ScorerFor(dir);
            var loader = ModelStore.Load(dir).Flavors["python_function"].Attributes["loader_module"] as string;
            Assert.Equal("builtin:" + loader, scorer.Worker.LoadedBy);
        }
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void TensorSignatureCsv_ScoresAsMlflowModelsPredict()
    {
        Prerequisites.Require(Prerequisites.PythonHas("sklearn, pandas, cloudpickle"), "python3-sklearn, python3-pandas and python3-cloudpickle (Debian)");
        foreach (var (name, file) in Unrecorded.Where(kv => kv.Value.Length > 0))
        {
            var c = ScoringCorpus.Get(name);
            var (error, output) = Run(c.ModelDir, "csv", c.Body!);
            Assert.True(error == null, $"{name}: {error}");
            Assert.Equal(File.ReadAllText(Path.Combine(ScoringCorpus.Root, file)), Encoding.UTF8.GetString(output!));
        }
    }

    /// <summary>The cmdlet's path for -InputCsv/-InputJson with -OutputPath x.json: the error it would report, or the file.</summary>
    private (Exception? Error, byte[]? Output) Run(string modelDir, string format, byte[] body, IScorer? scorer = null)
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var input = Path.Combine(dir, "input." + format);
            File.WriteAllBytes(input, body);
            var target = Path.Combine(dir, "out.json");
            scorer ??= ScorerFor(modelDir);
            try
            {
                if (format == "csv")
                {
                    using var writer = new JsonPredictionWriter(target, false, false);
                    foreach (var (frame, prediction) in PredictionEngine.ScoreFrames(scorer, PredictionEngine.CsvFrames(scorer, input, 50_000, null), null, default, new Dictionary<string, object?>(), fromText: true, asPredictCommand: true))
                        writer.Write(frame, prediction);
                    writer.Commit();
                }
                else
                {
                    using var request = ScoringRequest.ParseFile(input);
                    var result = scorer.Predict(PredictionEngine.FromRequest(scorer, request, null, asPredictCommand: true), ParamsEnforcement.Apply(scorer.Model.Signature?.Params, request.ParamsFor(scorer.Model.Signature?.Params), null));
                    using var writer = new JsonPredictionWriter(target, false, false, request.IsUnified);
                    writer.Write(null, result);
                    writer.Commit();
                }
            }
            catch (Exception ex) when (ex is SchemaViolationException or ModelPredictionException or PredictionFailedException)
            {
                return (ex, File.Exists(target) ? File.ReadAllBytes(target) : null);
            }
            return (null, File.ReadAllBytes(target));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

/// <summary>The corpus comparison itself refuses what MLflow would not have answered.</summary>
[Trait("Category", "Fast")]
public class ScoringCorpusCompareTests
{
    private static ScoringCorpus.Expected Expected(int status, string? contentType, string body) =>
        new(status, contentType, System.Text.Json.JsonDocument.Parse(body).RootElement.Clone());

    [Fact]
    public void Compare_RefusesWrongStatusCodeShapeAndNumbers()
    {
        var ok = Expected(200, "application/json", "{\"predictions\": [1, 2.5]}");
        Assert.Null(ScoringCorpus.Compare(ok, 200, "application/json", Encoding.UTF8.GetBytes("{\"predictions\": [1, 2.5000000000001]}")));
        Assert.NotNull(ScoringCorpus.Compare(ok, 500, "application/json", Encoding.UTF8.GetBytes("{\"predictions\": [1, 2.5]}")));
        Assert.NotNull(ScoringCorpus.Compare(ok, 200, "application/json", Encoding.UTF8.GetBytes("{\"predictions\": [1.0, 2.5]}")));
        Assert.NotNull(ScoringCorpus.Compare(ok, 200, "application/json", Encoding.UTF8.GetBytes("{\"predictions\": [1, 2.6]}")));
        Assert.NotNull(ScoringCorpus.Compare(ok, 200, "application/json", Encoding.UTF8.GetBytes("{\"predictions\": [{\"prediction\": 1}, {\"prediction\": 2.5}]}")));
        Assert.NotNull(ScoringCorpus.Compare(ok, 200, "application/json; charset=utf-8", Encoding.UTF8.GetBytes("{\"predictions\": [1, 2.5]}")));
        var records = Expected(200, "application/json", "{\"predictions\": [{\"low\": 1.0, \"high\": 2.0}]}");
        Assert.NotNull(ScoringCorpus.Compare(records, 200, "application/json", Encoding.UTF8.GetBytes("{\"predictions\": [{\"high\": 2.0, \"low\": 1.0}]}")));
        var error = Expected(400, "application/json", "{\"error_code\": \"INVALID_PARAMETER_VALUE\", \"message\": \"x\"}");
        Assert.Null(ScoringCorpus.Compare(error, 400, "application/json", Encoding.UTF8.GetBytes("{\"error_code\": \"INVALID_PARAMETER_VALUE\", \"message\": \"Model is missing inputs ['c']\"}")));
        Assert.NotNull(ScoringCorpus.Compare(error, 400, "application/json", Encoding.UTF8.GetBytes("{\"error_code\": \"BAD_REQUEST\", \"message\": \"y\"}")));
        var nan = Expected(200, "application/json", "\"{\\\"predictions\\\": [{\\\"risk\\\": NaN}]}\"");
        Assert.Null(ScoringCorpus.Compare(nan, 200, "application/json", Encoding.UTF8.GetBytes("{\"predictions\": [{\"risk\": NaN}]}")));
        Assert.NotNull(ScoringCorpus.Compare(nan, 200, "application/json", Encoding.UTF8.GetBytes("{\"predictions\": [{\"risk\": null}]}")));
    }
}
