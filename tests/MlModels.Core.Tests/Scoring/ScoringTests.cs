using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Onnx;

namespace MlModels.Core.Tests.Scoring;

[Trait("Category", "Fast")]
public class ScoringTests
{
    private static string Fixture(string name) => Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx", name);

    private static MLModel Wrap(string onnx, Action<MLModel>? change = null)
    {
        var dir = Path.Combine(TestPaths.NewTempDir(), "m");
        var model = OnnxPackager.Save(Fixture(onnx), dir);
        if (change != null)
        {
            change(model);
            model = ModelStore.Save(model, dir, new SaveOptions(Force: true));
        }
        return ModelStore.Load(dir);
    }

    private static string Csv(string text)
    {
        var f = Path.Combine(TestPaths.NewTempDir(), "in.csv");
        File.WriteAllText(f, text);
        return f;
    }

    private static List<Frame> ScoreCsv(MLModel m, string csv, int batch = 10_000, List<string>? warnings = null)
    {
        var scorer = PredictionEngine.OnnxScorerFor(m);
        return PredictionEngine.ScoreFrames(scorer, PredictionEngine.CsvFrames(scorer, csv, batch, warnings == null ? null : warnings.Add),
            fromText: true).Select(p => p.Output.ToTable()!).ToList();
    }

    [Fact]
    public void Wrapped_OnnxModel_IsWrittenAsMlflowOnnxDoes()
    {
        var m = Wrap("linear.onnx");
        Assert.Equal(["onnx", "python_function"], m.FlavorNames.Order());
        Assert.Equal("mlflow.onnx", m.Flavors["python_function"].LoaderModule);
        Assert.Equal("model.onnx", m.Flavors["onnx"].Data);
        Assert.Equal("1.10.0", m.Flavors["onnx"]["onnx_version"]); // IR version 8
        Assert.Equal("input: float32[-1, 3]", m.Signature!.Inputs!.ToString());
        Assert.Equal("variable: float32[-1, 1]", m.Signature.Outputs!.ToString());
        foreach (var f in new[] { "model.onnx", "conda.yaml", "python_env.yaml",
            "requirements.txt" }) Assert.True(File.Exists(Path.Combine(m.Path!, f)), f);
        var env = EnvironmentFiles.Read(m);
        Assert.Contains("onnx==1.10.0", env.Requirements!);
        Assert.Equal(OnnxPackager.DefaultPythonVersion, env.PythonVersion);
        Assert.True(ModelValidator.Validate(m).IsValid);
    }

    [Fact]
    public void LinearModel_ScoresCsvWithColumnsStacked()
    {
        var outputs = ScoreCsv(Wrap("linear.onnx"), Csv("a,b,c\n1,2,3\n0,0,0\n-1,0.5,2\n"));
        var y = (float[])Assert.Single(outputs).Columns[0].Values;
        Assert.Equal([4.75f, 0.25f, 3.25f], y);
    }

    [Fact]
    public void SessionIsCreatedOncePerLoadedModel()
    {
        var m = Wrap("linear.onnx");
        Assert.Same(PredictionEngine.OnnxScorerFor(m), PredictionEngine.OnnxScorerFor(m));
    }

    [Fact]
    public void Batches_CoverEveryRowInOrder()
    {
        var rows = string.Concat(Enumerable.Range(0, 2500).Select(i => $"{i},0,0\n"));
        var outputs = ScoreCsv(Wrap("linear.onnx"), Csv("a,b,c\n" + rows), batch: 1000);
        Assert.Equal([1000, 1000, 500], outputs.Select(o => o.RowCount));
        var all = outputs.SelectMany(o => (float[])o.Columns[0].Values).ToArray();
        Assert.Equal(2499 * 0.5f + 0.25f, all[^1]);
    }

    [Fact]
    public void Classifier_LabelAndZipMapProbabilities_BecomeColumns()
    {
        var o = Assert.Single(ScoreCsv(Wrap("classifier.onnx"), Csv("a,b,c\n1,2,3\n0,0,0\n")));
        Assert.Equal(["label", "probabilities_0", "probabilities_1"], o.Names);
        Assert.Equal([1L, 0L], (long[])o.Columns[0].Values);
        var p0 = (float[])o.Columns[1].Values;
        var p1 = (float[])o.Columns[2].Values;
        Assert.Equal(1f, p0[0] + p1[0], 5);
        Assert.True(p1[0] > 0.9f);
    }

    [Fact]
    public void SeveralInputs_AreFedByName_InAnyColumnOrder()
    {
        var o = Assert.Single(ScoreCsv(Wrap("multi.onnx"), Csv("name,b,a\nx,2,1.5\ny,1,1\n")));
        Assert.Equal([5.5, 3.0], (double[])o.Columns[o.IndexOf("total")].Values);
        Assert.Equal(new string?[] { "x", "y" }, (string?[])o.Columns[o.IndexOf("name_out")].Values);
    }

    private static MLModel LinearWithColumns() => Wrap("linear.onnx", m => m.Signature = new ModelSignature(new Schema(
        [new ColumnSpec("x1", DataType.Double), new ColumnSpec("x2", DataType.Double), new ColumnSpec("x3", DataType.Double, required: false)])));

    [Fact]
    public void ColumnSignature_ReordersColumnsAndWarnsAboutExtras()
    {
        var warnings = new List<string>();
        var o = Assert.Single(ScoreCsv(LinearWithColumns(), Csv("extra,x3,x2,x1\nz,3,2,1\n"), warnings: warnings));
        Assert.Equal(4.75f, ((float[])o.Columns[0].Values)[0]);
        Assert.Contains(warnings, w => w.Contains("['extra']") && w.Contains("ignored"));
    }

    [Fact]
    public void MissingRequiredColumn_IsNamed()
    {
        var failed = Assert.Throws<PredictionFailedException>(() => ScoreCsv(LinearWithColumns(), Csv("x1,x3\n1,2\n")));
        var ex = Assert.IsType<SchemaViolationException>(failed.InnerException);
        Assert.Contains("Model is missing inputs ['x2']", ex.Message);
        Assert.Equal("x2", ex.Column);
    }

    [Fact]
    public void BadNumber_NamesLineColumnAndRowsDone()
    {
        var rows = string.Concat(Enumerable.Range(0, 25_000).Select(i => i == 24_000 ? "1,abc,3\n" : "1,2,3\n"));
        var ex = Assert.Throws<PredictionFailedException>(() => ScoreCsv(LinearWithColumns(), Csv("x1,x2,x3\n" + rows), batch: 10_000));
        Assert.Contains("line 24,002", ex.Message);
        Assert.Contains("'x2'", ex.Message);
        Assert.Contains("'abc'", ex.Message);
        Assert.Equal(20_000, ex.RowsDone);
        Assert.Contains("20,000 rows were scored", ex.Message);
    }

    [Fact]
    public void FloatIntoIntegerColumn_IsRefusedAsMlflowDoes()
    {
        var m = Wrap("linear.onnx",
            m => m.Signature = new ModelSignature(new Schema([new ColumnSpec("a", DataType.Long), new ColumnSpec("b", DataType.Double),
            new ColumnSpec("c", DataType.Double)])));
        var ex = Assert.Throws<PredictionFailedException>(() => ScoreCsv(m, Csv("a,b,c\n1.5,2,3\n")));
        Assert.Contains("not a whole number", ex.Message);
        Assert.Contains("'a'", ex.Message);
    }

    [Fact]
    public void EmptyCsv_IsAClearError()
    {
        var ex = Assert.Throws<SchemaViolationException>(() => ScoreCsv(Wrap("linear.onnx"), Csv("")));
        Assert.Contains("empty", ex.Message);
        Assert.Equal(ScoringErrorCodes.BadRequest, ex.ErrorCode);
    }

    [Fact]
    public void HeaderOnlyCsv_IsATableOfNoRows_AsPandasReadsIt()
    {
        var output = Assert.Single(ScoreCsv(Wrap("linear.onnx"), Csv("a,b,c\n")));
        Assert.Equal(0, output.RowCount);
        Assert.Equal(["variable"], output.Names);
    }

    [Fact]
    public void BlankLinesAreSkipped_ButRaggedRowsAreNamed()
    {
        Assert.Equal(2, Assert.Single(ScoreCsv(Wrap("linear.onnx"), Csv("a,b,c\n1,2,3\n\n0,0,0\n\n"))).RowCount);
        var ex = Assert.Throws<PredictionFailedException>(() => ScoreCsv(Wrap("linear.onnx"), Csv("a,b,c\n1,2,3\n1,2,3,4\n")));
        Assert.Contains("line 3: 4 fields, but the header has 3", ex.Message);
        Assert.Equal(ScoringErrorCodes.BadRequest, ex.ErrorCode);
        // A short row's missing fields are missing values (NaN), as pandas reads them.
        var shortRow = (float[])Assert.Single(ScoreCsv(Wrap("linear.onnx"), Csv("a,b,c\n1,2,3\n1,2\n"))).Columns[0].Values;
        Assert.Equal(4.75f, shortRow[0]);
        Assert.True(float.IsNaN(shortRow[1]));
    }

    [Fact]
    public void WrongFeatureCount_IsNamed()
    {
        var ex = Assert.Throws<PredictionFailedException>(() => ScoreCsv(Wrap("linear.onnx"), Csv("a,b\n1,2\n")));
        Assert.Contains("takes 3 features", ex.Message);
    }

    [Theory]
    [InlineData(typeof(int), ElementKind.Int64, true)]
    [InlineData(typeof(int), ElementKind.Float64, true)]
    [InlineData(typeof(float), ElementKind.Float64, true)]
    [InlineData(typeof(long), ElementKind.Float64, false)]
    [InlineData(typeof(double), ElementKind.Float32, false)]
    [InlineData(typeof(double), ElementKind.Int64, false)]
    [InlineData(typeof(long), ElementKind.Int32, false)]
    public void ObjectConversions_FollowMlflowRules(Type from, ElementKind to, bool allowed)
    {
        var value = Convert.ChangeType(1, from);
        var dest = ElementKinds.NewArray(to, 1);
        if (allowed) ValueConversion.SetFromObject(value, to, dest, 0, "c", 1);
        else Assert.Contains("Can not safely convert",
            Assert.Throws<SchemaViolationException>(() => ValueConversion.SetFromObject(value, to, dest, 0, "c", 1)).Message);
    }

    [Fact]
    public void JsonRequest_WithTwoInputKeys_GetsMlflowsMessage()
    {
        var ex = Assert.Throws<SchemaViolationException>(() => ScoringRequest.Parse("{\"inputs\": [[1,2,3]], \"instances\": [[1,2,3]]}"));
        Assert.Contains("exactly one of the input fields", ex.Message);
        Assert.Contains("['inputs', 'instances']", ex.Message);
        Assert.Throws<SchemaViolationException>(() => ScoringRequest.Parse("{\"data\": 1}"));
        Assert.Contains("not valid JSON", Assert.Throws<SchemaViolationException>(() => ScoringRequest.Parse("{\"inputs\": [1,")).Message);
    }

    [Theory]
    [InlineData("{\"dataframe_split\": {\"columns\": [\"x1\", \"x2\", \"x3\"], \"data\": [[1, 2, 3]]}}")]
    [InlineData("{\"dataframe_records\": [{\"x3\": 3, \"x1\": 1, \"x2\": 2}]}")]
    [InlineData("{\"instances\": [{\"x1\": 1, \"x2\": 2, \"x3\": 3}]}")]
    public void JsonRequest_TabularForms_Score(string json)
    {
        var m = LinearWithColumns();
        var scorer = PredictionEngine.OnnxScorerFor(m);
        using var req = ScoringRequest.Parse(json);
        var o = Assert.IsType<TablePrediction>(PredictionEngine.ScoreRequest(scorer, req, null)).Frame;
        Assert.Equal(4.75f, ((float[])o.Columns[0].Values)[0]);
        Assert.Equal("{\"predictions\": [{\"variable\": 4.75}]}",
            System.Text.Encoding.UTF8.GetString(PredictionJsonWriter.ToBytes(new TablePrediction(o))));
    }

    [Fact]
    public void JsonRequest_TensorForm_ChecksShape()
    {
        var scorer = PredictionEngine.OnnxScorerFor(Wrap("linear.onnx"));
        using (var ok = ScoringRequest.Parse("{\"inputs\": {\"input\": [[1, 2, 3], [0, 0, 0]]}}"))
        {
            var result = Assert.IsType<DictPrediction>(PredictionEngine.ScoreRequest(scorer, ok, null));
            var t = Assert.IsType<TensorPrediction>(Assert.Single(result.Items, kv => kv.Key == "variable").Value).Tensor;
            Assert.Equal([2L, 1L], t.Shape);
            Assert.Equal([4.75f, 0.25f], (float[])t.Data);
            Assert.Equal("{\"predictions\": {\"variable\": [[4.75], [0.25]]}}",
                System.Text.Encoding.UTF8.GetString(PredictionJsonWriter.ToBytes(result)));
        }
        using var bad = ScoringRequest.Parse("{\"inputs\": [[1, 2]]}");
        var shape = Assert.Throws<SchemaViolationException>(() => PredictionEngine.ScoreRequest(scorer, bad, null));
        Assert.Contains("does not match expected shape (-1, 3)", shape.Message);
        Assert.Equal(ScoringErrorCodes.InvalidParameterValue, shape.ErrorCode);
        using var ragged = ScoringRequest.Parse("{\"inputs\": [[1, 2, 3], [1, 2]]}");
        var rag = Assert.Throws<SchemaViolationException>(() => PredictionEngine.ScoreRequest(scorer, ragged, null));
        Assert.Contains("not rectangular", rag.Message);
        Assert.Equal(ScoringErrorCodes.BadRequest, rag.ErrorCode);
    }

    [Fact]
    public void Params_AreCheckedAndDefaulted()
    {
        var schema = ParamSchema.Parse("[{\"name\": \"k\", \"type\": \"long\", \"default\": 5, \"shape\": null}, {\"name\": \"t\", \"type\": " +
            "\"double\", \"default\": 0.5, \"shape\": null}]", "params");
        var warnings = new List<string>();
        var p = ParamsEnforcement.Apply(schema, new Dictionary<string, object?> { ["t"] = 2L, ["zzz"] = 1 }, warnings.Add);
        Assert.Equal(5L, p["k"]);
        Assert.Equal(2.0, p["t"]);
        Assert.Contains(warnings, w => w.Contains("zzz"));
        Assert.Throws<SchemaViolationException>(() => ParamsEnforcement.Apply(schema, new Dictionary<string, object?> { ["k"] = "text" }, null));
    }

    [Fact]
    public void CorruptOnnx_AndMissingFile_AreClearErrors()
    {
        var ex = Assert.Throws<MLModelFormatException>(() => OnnxPackager.Save(Fixture("corrupt.onnx"), Path.Combine(TestPaths.NewTempDir(), "m")));
        Assert.Contains("corrupt.onnx", ex.Message);
        var m = Wrap("linear.onnx");
        File.Delete(Path.Combine(m.Path!, "model.onnx"));
        Assert.Contains("model.onnx", Assert.Throws<FileNotFoundException>(() => OnnxScorer.Load(ModelStore.Load(m.Path!))).Message);
    }

    [Fact]
    public void FailedWrite_LeavesNoOutputFile()
    {
        var m = LinearWithColumns();
        var scorer = PredictionEngine.OnnxScorerFor(m);
        var outFile = Path.Combine(TestPaths.NewTempDir(), "out.csv");
        var rows = string.Concat(Enumerable.Range(0, 300).Select(i => i == 250 ? "1,x,3\n" : "1,2,3\n"));
        Assert.Throws<PredictionFailedException>(() =>
        {
            using var w = PredictionFileWriter.Create(outFile, PredictionFormat.Csv, false, false);
            foreach (var (input, output) in PredictionEngine.ScoreFrames(scorer,
                PredictionEngine.CsvFrames(scorer, Csv("x1,x2,x3\n" + rows), 100, null)))
                w.Write(input, output);
            w.Commit();
        });
        Assert.False(File.Exists(outFile));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(outFile)!));
    }

    [Fact]
    public void Outputs_AreWrittenAsCsvAndMlflowJson()
    {
        var m = LinearWithColumns();
        var scorer = PredictionEngine.OnnxScorerFor(m);
        var dir = TestPaths.NewTempDir();
        foreach (var fmt in new[] { PredictionFormat.Csv, PredictionFormat.Json })
        {
            var file = Path.Combine(dir, "out." + fmt.ToString().ToLowerInvariant());
            using (var w = PredictionFileWriter.Create(file, fmt, includeInput: true, overwrite: false))
            {
                foreach (var (i, o) in PredictionEngine.ScoreFrames(scorer,
                    PredictionEngine.CsvFrames(scorer, Csv("x1,x2,x3\n1,2,3\n"), 10, null))) w.Write(i, o);
                w.Commit();
            }
            var text = File.ReadAllText(file);
            Assert.Equal(fmt == PredictionFormat.Csv ? "x1,x2,x3,variable\n1,2,3,4.75\n" : "{\"predictions\": [{\"x1\": 1.0, \"x2\": 2.0, \"x3\": " +
                "3.0, \"variable\": 4.75}]}", text);
            // Typed, so the cmdlet maps it to OutputExists and adds its -Force advice; the message names no parameter.
            var exists = Assert.Throws<TargetExistsException>(() => PredictionFileWriter.Create(file, fmt, false, false));
            Assert.Equal(file, exists.Path);
            Assert.DoesNotContain("-Force", exists.Message, StringComparison.Ordinal);
        }
    }
}
