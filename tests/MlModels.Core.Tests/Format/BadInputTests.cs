using System.Diagnostics;
using System.Text;
using MlModels.Core.Format;
using MlModels.Core.Format.Yaml;

namespace MlModels.Core.Tests.Format;

[Trait("Category", "Fast")]
public class BadInputTests
{
    private static string WriteModel(string yaml)
    {
        var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "MLmodel"), yaml);
        return dir;
    }

    [Fact]
    public void MalformedYaml_NamesFileLineAndColumn()
    {
        var dir = WriteModel("flavors:\n  sklearn:\n    pickled_model: [unclosed\nrun_id: x\n");
        var ex = Assert.Throws<MLModelFormatException>(() => ModelStore.Load(dir));
        Assert.Equal(Path.Combine(dir, "MLmodel"), ex.File);
        Assert.NotNull(ex.Line);
        Assert.NotNull(ex.Column);
        Assert.Contains($"line {ex.Line}, column {ex.Column}", ex.Message);
        Assert.Contains(Path.Combine(dir, "MLmodel"), ex.Message);
    }

    [Fact]
    public void WrongFieldType_NamesTheField()
    {
        var ex = Assert.Throws<MLModelFormatException>(() => ModelStore.Parse("flavors:\n- sklearn\n- onnx\n", "MLmodel"));
        Assert.Equal("flavors", ex.Field);
        Assert.Contains("'flavors'", ex.Message);
        Assert.Contains("sequence", ex.Message);

        var ex2 = Assert.Throws<MLModelFormatException>(() => ModelStore.Parse("flavors: {onnx: {data: m.onnx}}\nmodel_size_bytes: lots\n", "MLmodel"));
        Assert.Equal("model_size_bytes", ex2.Field);
        Assert.Equal(2, ex2.Line);
    }

    [Fact]
    public void BadSignatureJson_NamesTheField()
    {
        var ex = Assert.Throws<MLModelFormatException>(() => ModelStore.Parse("flavors: {onnx: {}}\nsignature:\n  inputs: '[{\"type\": \"complex128\", \"name\": \"x\"}]'\n", "MLmodel"));
        Assert.Equal("signature.inputs[0].type", ex.Field);
        Assert.Contains("complex128", ex.Message);
    }

    [Fact]
    public void BillionLaughs_FailsFast()
    {
        var sb = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (char c = 'b'; c <= 'j'; c++)
            sb.Append($"{c}: &{c} [{string.Join(",", Enumerable.Repeat("*" + (char)(c - 1), 9))}]\n");
        sb.Append("flavors: {x: {y: *j}}\n");
        var sw = Stopwatch.StartNew();
        var ex = Assert.Throws<MLModelFormatException>(() => ModelStore.Parse(sb.ToString(), "MLmodel"));
        Assert.Contains("alias expansion", ex.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
    }

    [Fact]
    public void SmallAliases_StillWork()
    {
        var m = ModelStore.Parse("base: &b {loader_module: mlflow.sklearn}\nflavors:\n  python_function: *b\n", "MLmodel");
        Assert.Equal("mlflow.sklearn", m.Flavors["python_function"].LoaderModule);
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{a: ", "}")]
    [InlineData("- ", "")]
    public void DeepNesting_IsAnErrorNotAStackOverflow(string open, string close)
    {
        const int depth = 100_000;
        var text = "flavors: " + string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
        if (open == "- ") text = "flavors:\n" + string.Concat(Enumerable.Range(0, 3000).Select(i => new string(' ', i * 2) + "-\n")) + new string(' ', 6000) + "1\n";
        var ex = Assert.ThrowsAny<MLModelFormatException>(() => ModelStore.Parse(text, "MLmodel"));
        Assert.NotNull(ex.Line);
    }

    [Fact]
    public void HugeFile_IsRefusedBeforeReading()
    {
        var dir = TestPaths.NewTempDir();
        var file = Path.Combine(dir, "MLmodel");
        using (var fs = File.Create(file)) fs.SetLength(YamlLimits.Default.MaxBytes + 1);
        var sw = Stopwatch.StartNew();
        var ex = Assert.Throws<MLModelFormatException>(() => ModelStore.Load(dir));
        Assert.Contains("refused", ex.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void DuplicateKeys_AreReportedWithLine()
    {
        var ex = Assert.Throws<MLModelFormatException>(() => ModelStore.Parse("flavors:\n  onnx: {data: a}\nrun_id: a\nrun_id: b\n", "MLmodel"));
        Assert.Equal("run_id", ex.Field);
        Assert.Equal(4, ex.Line);
        Assert.Contains("duplicate key", ex.Message);
    }

    [Fact]
    public void GitLfsPointer_SaysSo()
    {
        var ex = Assert.Throws<MLModelFormatException>(() => ModelStore.Parse("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 483\n", "MLmodel"));
        Assert.Contains("Git LFS", ex.Message);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("data/../../outside.pkl")]
    [InlineData("C:\\Windows\\win.ini")]
    [InlineData("file:///etc/passwd")]
    public void FlavorPathOutsideTheModel_IsReportedAndNeverRead(string path)
    {
        var dir = WriteModel($"flavors:\n  sklearn:\n    pickled_model: '{path}'\n");
        var result = ModelValidator.Validate(ModelStore.Load(dir));
        var finding = Assert.Single(result.Findings, f => f.Code == "PathOutsideModel");
        Assert.Equal("flavors.sklearn.pickled_model", finding.Field);
        Assert.Equal(3, finding.Line);
        Assert.False(result.IsValid);
        Assert.Throws<PathOutsideModelException>(() => ModelFiles.ResolveInside(dir, path, "f"));
    }

    [Fact]
    public void SymlinkLeadingOut_IsReportedAndNotCopied()
    {
        var outside = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(outside, "secret.txt"), "secret");
        var dir = WriteModel("flavors:\n  sklearn:\n    pickled_model: link/secret.txt\n");
        File.WriteAllText(Path.Combine(dir, "model.pkl"), "x");
        Directory.CreateSymbolicLink(Path.Combine(dir, "link"), outside);
        File.CreateSymbolicLink(Path.Combine(dir, "file-link"), Path.Combine(outside, "secret.txt"));

        var model = ModelStore.Load(dir);
        Assert.Contains(ModelValidator.Validate(model).Findings, f => f.Code == "PathOutsideModel");

        var skipped = new List<string>();
        var target = Path.Combine(TestPaths.NewTempDir(), "copy");
        ModelStore.Save(model, target, new SaveOptions(Warn: skipped.Add));
        Assert.False(Directory.Exists(Path.Combine(target, "link")));
        Assert.False(File.Exists(Path.Combine(target, "file-link")));
        Assert.True(File.Exists(Path.Combine(target, "model.pkl")));
        Assert.Equal(2, skipped.Count);
    }
}
