using MlModels.Core.Format;
using MlModels.Core.Format.Yaml;

namespace MlModels.Core.Tests.Format;

[Trait("Category", "Fast")]
public class SaveTests
{
    [Fact]
    public void NewModel_IsWrittenLikeMlflow()
    {
        var m = MLModel.Create(runId: "abc", createdUtc: new DateTime(2024, 3, 1, 12, 30, 45, DateTimeKind.Utc).AddTicks(1234560));
        m.AddFlavor("python_function", new Dictionary<string, object?> { ["loader_module"] = "mlflow.onnx", ["python_version"] = "3.10", ["env"] = new Dictionary<string, object?> { ["conda"] = "conda.yaml", ["virtualenv"] = "python_env.yaml" } });
        m.Signature = new ModelSignature(new Schema([new ColumnSpec("x", DataType.Double)]), new Schema([new TensorSpec(null, "float32", [-1, 1])]));
        var yaml = m.ToYaml();
        Assert.Matches("^[0-9a-f]{32}$", m.ModelUuid);
        Assert.Contains("utc_time_created: '2024-03-01 12:30:45.123456'", yaml);
        Assert.Contains("python_version: '3.10'", yaml); // quoted, or PyYAML reads 3.1
        Assert.Contains("inputs: '[{\"type\": \"double\", \"name\": \"x\", \"required\": true}]'", yaml);
        Assert.Contains("outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, 1]}}]'", yaml);
        // Keys sorted at every level, as yaml.safe_dump writes them.
        var keys = yaml.Split('\n').Where(l => l.Length > 0 && l[0] != ' ' && l[0] != '-').Select(l => l.Split(':')[0]).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("3.10")]
    [InlineData("1e5")]
    [InlineData("null")]
    [InlineData("2024-01-01")]
    [InlineData("0x1F")]
    [InlineData("a: b")]
    [InlineData("- item")]
    [InlineData(" padded ")]
    [InlineData("line\nbreak")]
    [InlineData("")]
    [InlineData("#comment")]
    [InlineData("Ä unicode")]
    public void Strings_SurviveTheRoundTripAsStrings(string value)
    {
        var yaml = YamlWriter.Write(new Dictionary<string, object?> { ["k"] = value });
        var back = (Dictionary<string, object?>)YamlReader.Read(yaml, null, null, out _)!;
        Assert.Equal(value, back["k"]);
    }

    [Theory]
    [InlineData("1:20", 80L)]
    [InlineData("-1:00:01", -3601L)]
    [InlineData("1:20.5", 80.5)]
    [InlineData("3.10", 3.1)]
    [InlineData("0x1F", 31L)]
    [InlineData("0o17", "0o17")] // YAML 1.2 octal is text to PyYAML
    [InlineData("1e5", "1e5")]   // no dot: text to PyYAML
    [InlineData("yes", true)]
    [InlineData("~", null)]
    public void PlainScalars_ResolveAsPyYamlDoes(string text, object? expected)
    {
        Assert.Equal(expected, YamlReader.ResolvePlain(text));
    }

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(1e16, "1.0e+16")]
    [InlineData(123456789.0, "123456789.0")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1.0e-05")]
    [InlineData(1.5e-07, "1.5e-07")]
    [InlineData(2.5e20, "2.5e+20")]
    [InlineData(-2.5, "-2.5")]
    public void Floats_AreWrittenAsPythonDoes(double value, string expected)
    {
        Assert.Equal(expected, YamlWriter.FormatFloat(value));
        Assert.Equal(value, (double)YamlReader.ResolvePlain(YamlWriter.FormatFloat(value))!);
    }

    [Fact]
    public void Save_RefusesToOverwriteWithoutForce()
    {
        var target = Path.Combine(TestPaths.NewTempDir(), "m");
        var m = MLModel.Create();
        m.AddFlavor("onnx", null);
        ModelStore.Save(m, target);
        var before = File.ReadAllText(Path.Combine(target, "MLmodel"));
        m.RunId = "changed";
        var refused = Assert.Throws<TargetExistsException>(() => ModelStore.Save(m, target));
        Assert.Equal(target, refused.Path);
        Assert.DoesNotContain("-Force", refused.Message);
        Assert.Equal(before, File.ReadAllText(Path.Combine(target, "MLmodel")));
        ModelStore.Save(m, target, new SaveOptions(Force: true));
        Assert.Equal("changed", ModelStore.Load(target).RunId);
    }

    [Fact]
    public void InterruptedSave_LeavesTheOldFolderIntact()
    {
        var src = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(src, "MLmodel"), "flavors: {sklearn: {pickled_model: model.pkl}}\n");
        for (int i = 0; i < 50; i++) File.WriteAllText(Path.Combine(src, $"f{i}.bin"), new string('x', 1000));
        var target = Path.Combine(TestPaths.NewTempDir(), "m");
        var old = MLModel.Create();
        old.AddFlavor("onnx", null);
        ModelStore.Save(old, target);
        var oldText = File.ReadAllText(Path.Combine(target, "MLmodel"));

        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.Done == 10) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => ModelStore.Save(ModelStore.Load(src), target, new SaveOptions(Force: true, Progress: progress), cts.Token));
        Assert.Equal(oldText, File.ReadAllText(Path.Combine(target, "MLmodel")));
        Assert.Single(Directory.GetFileSystemEntries(Path.GetDirectoryName(target)!)); // no staging folder left behind
    }

    [Fact]
    public void LoadedModel_SavedElsewhere_KeepsUnknownFieldsAndFiles()
    {
        var src = TestPaths.NewTempDir();
        Directory.CreateDirectory(Path.Combine(src, "data"));
        File.WriteAllText(Path.Combine(src, "data", "w.bin"), "w");
        File.WriteAllText(Path.Combine(src, "MLmodel"), "flavors:\n  custom: {data: data}\nfuture_field:\n  nested: [1, 2.5, true, null, text]\n");
        var target = Path.Combine(TestPaths.NewTempDir(), "m");
        ModelStore.Save(ModelStore.Load(src), target);
        var back = ModelStore.Load(target);
        Assert.Equal("w", File.ReadAllText(Path.Combine(target, "data", "w.bin")));
        var nested = (List<object?>)((Dictionary<string, object?>)back.AdditionalFields["future_field"]!)["nested"]!;
        Assert.Equal(new object?[] { 1L, 2.5, true, null, "text" }, nested);
    }

    private sealed class SyncProgress(Action<(int Done, int Total)> onReport) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => onReport(value);
    }
}
