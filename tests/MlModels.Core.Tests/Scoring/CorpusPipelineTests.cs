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

    /// <summary>One scorer (a Python worker) per corpus model, for the whole test class.</summary>
    public IScorer For(string model)
    {
        lock (_scorers)
        {
            if (_scorers.TryGetValue(model, out var s)) return s;
            var m = ModelStore.Load(ScoringCorpus.ModelDir(model));
            s = PredictionEngine.ScorerFor(m, null, new PythonOptions(Prerequisites.DebianPython), null, null, null, out _);
            return _scorers[model] = s;
        }
    }

    public void Dispose()
    {
        foreach (var s in _scorers.Values) s.Dispose();
    }
}

public sealed class CorpusPipelineTests(CorpusScorers scorers) : IClassFixture<CorpusScorers>
{
    private IScorer ScorerFor(string model) => scorers.For(model);

    /// <summary>Cases a file can carry: POST /invocations with a JSON or CSV body that MLflow's server reads (not 415 or header errors).</summary>
    public static TheoryData<string> FileCases()
    {
        var d = new TheoryData<string>();
        foreach (var c in ScoringCorpus.Cases())
            if (c.Method == "POST" && c.Path == "/invocations" && c.BodyFile != null && c.Expected.Status is 200 or 400 && !Unrecorded.ContainsKey(c.Name))
                d.Add(c.Name);
        return d;
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

    [Fact]
    public void FileCases_CoverTheCorpus() => Assert.True(FileCases().Count >= 200, $"only {FileCases().Count} cases");

    [SkippableTheory]
    [MemberData(nameof(FileCases))]
    public void File_AnswersAsMlflow(string name)
    {
        Prerequisites.Require(Prerequisites.PythonHas("sklearn, pandas, cloudpickle"), "python3-sklearn, python3-pandas and python3-cloudpickle (Debian)");
        var c = ScoringCorpus.Get(name);
        var (error, output) = Run(c.Model, c.ContentType!.StartsWith("text/csv", StringComparison.Ordinal) ? "csv" : "json", c.Body!);
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
    [SkippableTheory]
    [MemberData(nameof(PredictRuns))]
    public void File_IsWhatMlflowModelsPredictWrote(int index)
    {
        Prerequisites.Require(Prerequisites.PythonHas("sklearn, pandas, cloudpickle"), "python3-sklearn, python3-pandas and python3-cloudpickle (Debian)");
        var run = ScoringCorpus.PredictRuns()[index];
        var (error, output) = Run(run.Model, run.Format, File.ReadAllBytes(Path.Combine(ScoringCorpus.Root, run.Input)));
        if (run.ExitCode != 0)
        {
            Assert.NotNull(error);
            Assert.Null(output);
            return;
        }
        Assert.True(error == null, $"{run.Input}: {error}");
        Assert.Equal(File.ReadAllText(Path.Combine(ScoringCorpus.Root, run.Output!)), Encoding.UTF8.GetString(output!));
    }

    [SkippableFact]
    public void TensorSignatureCsv_ScoresAsMlflowModelsPredict()
    {
        Prerequisites.Require(Prerequisites.PythonHas("sklearn, pandas, cloudpickle"), "python3-sklearn, python3-pandas and python3-cloudpickle (Debian)");
        foreach (var (name, file) in Unrecorded.Where(kv => kv.Value.Length > 0))
        {
            var c = ScoringCorpus.Get(name);
            var (error, output) = Run(c.Model, "csv", c.Body!);
            Assert.True(error == null, $"{name}: {error}");
            Assert.Equal(File.ReadAllText(Path.Combine(ScoringCorpus.Root, file)), Encoding.UTF8.GetString(output!));
        }
    }

    /// <summary>The cmdlet's path for -InputCsv/-InputJson with -OutputPath x.json: the error it would report, or the file.</summary>
    private (Exception? Error, byte[]? Output) Run(string model, string format, byte[] body)
    {
        var dir = TestPaths.NewTempDir();
        var input = Path.Combine(dir, "input." + format);
        File.WriteAllBytes(input, body);
        var target = Path.Combine(dir, "out.json");
        var scorer = ScorerFor(model);
        try
        {
            if (format == "csv")
            {
                using var writer = new JsonPredictionWriter(target, false, false);
                foreach (var (frame, prediction) in PredictionEngine.ScoreFrames(scorer, PredictionEngine.CsvFrames(scorer, input, 50_000, null), null, default, new Dictionary<string, object?>(), fromText: true))
                    writer.Write(frame, prediction);
                writer.Commit();
            }
            else
            {
                using var request = ScoringRequest.ParseFile(input);
                var result = PredictionEngine.ScoreRequest(scorer, request, null);
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
}

/// <summary>The corpus comparison itself refuses what MLflow would not have answered.</summary>
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
