using System.Text;
using MlModels.Core.Format;
using MlModels.Core.Scoring.Python;
using MlModels.Fuzz;

namespace MlModels.Core.Tests.Robustness;

/// <summary>
/// Replays every input that once crashed a fuzz target or failed a property (fuzz/regressions/TARGET/NAME): each must
/// now give a result or a typed error. The named facts below pin down what the fixed behaviour is.
/// </summary>
[Trait("Category", "Fast")]
public class FuzzRegressionTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        var root = Path.Combine(TestPaths.RepoRoot, "fuzz", "regressions");
        foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                data.Add(Path.GetFileName(dir), Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Regression_GivesResultOrTypedError(string target, string file)
    {
        Assert.True(Targets.All.ContainsKey(target), $"fuzz/regressions/{target} names no fuzz target");
        Targets.All[target](File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "fuzz", "regressions", target, file)));
    }

    [Fact]
    public void Every_Target_HasRegressionCases() =>
        Assert.All(Targets.All.Keys, t => Assert.NotEmpty(Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "fuzz", "regressions", t))));

    [Fact]
    public void SignatureColumn_RepeatedKey_LastValueWinsAsInPython()
    {
        var schema = Schema.Parse("""[{"type": "float", "name": "pH", "requi": "float", "name": "sulphates", "required": true}]""", "inputs");
        Assert.Equal("sulphates", schema.Columns[0].Name);
        Assert.Equal(DataType.Float, schema.Columns[0].Type);
        // The key keeps its first place, as in a Python dict.
        Assert.Equal("""[{"type": "float", "name": "sulphates", "requi": "float", "required": true}]""", schema.ToJson());
    }

    [Fact]
    public void Json_LoneSurrogateEscape_IsKeptAsPythonKeepsIt()
    {
        var node = PyJson.Parse("""{"\ud800": "a\udc00b"}""")!.AsObject();
        var (key, value) = node.Single();
        Assert.Equal("\ud800", key);
        Assert.Equal("a\udc00b", value!.GetValue<string>());
    }

    [Theory]
    [InlineData("._")]
    [InlineData("0x_")]
    [InlineData("-0b_")]
    public void Yaml_NumberShapedScalarThatIsNoNumber_IsAFormatErrorWithItsLine(string scalar)
    {
        var ex = Assert.Throws<MLModelFormatException>(() => ModelStore.Parse($"flavors:\n  x: {{}}\nrun_id: {scalar}\n", "MLmodel"));
        Assert.Equal(3, ex.Line);
        Assert.Contains(scalar, ex.Message);
        // Written back, such text is quoted, so it stays text.
        var model = ModelStore.Parse($"flavors:\n  x: {{}}\nrun_id: '{scalar}'\n", "MLmodel");
        Assert.Equal(scalar, ModelStore.Parse(model.ToYaml()).RunId);
    }

    [Fact]
    public void Yaml_TagThatIsNotAUri_IsAFormatError()
    {
        var ex = Assert.Throws<MLModelFormatException>(() => ModelStore.Parse("flavors: !!+! x\n", "MLmodel"));
        Assert.Contains("MLmodel", ex.Message);
    }

    private static byte[] Frame(string header, int extra = 0)
    {
        var h = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes(h.Length), .. h, .. new byte[extra]];
    }

    [Fact]
    public void WorkerFrame_PayloadLengthBeyondTheData_EndsWithoutAllocatingIt()
    {
        var bytes = Frame("{\"ok\": true, \"payload\": 2000000000}", 10);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<EndOfStreamException>(() => WorkerFrames.Read(new MemoryStream(bytes), "m"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 * 1024 * 1024);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("{\"ok\": true, \"payload\": -1}")]
    [InlineData("{\"ok\": true, \"payload\": \"12\"}")]
    [InlineData("{\"ok\": tru")]
    public void WorkerFrame_Malformed_IsABadReply(string header)
    {
        var ex = Assert.Throws<PythonWorkerException>(() => WorkerFrames.Read(new MemoryStream(Frame(header, 64)), "m"));
        Assert.Equal("BadReply", ex.PythonType);
        Assert.Contains("'m'", ex.Message);
    }

    [Fact]
    public void WorkerFrame_NegativeHeaderLength_IsABadReply() =>
        Assert.Equal("BadReply", Assert.Throws<PythonWorkerException>(() => WorkerFrames.Read(new MemoryStream([0xFB, 0xFF, 0xFF, 0xFF, 0x7B, 0x7D]), "m")).PythonType);

    private static (int Status, string Body) Serve(string contentType, string body)
    {
        var r = Targets.Serve(contentType, Encoding.UTF8.GetBytes(body));
        return (r.Status, Encoding.UTF8.GetString(r.Body));
    }

    [Theory]
    [InlineData("f0,f0,x1,x2,x3\n7,8,1,2,3\n")]
    [InlineData("x1,x2,x1,x3\n1,2,9,3\n")]
    [InlineData("x1,x2,x3,x1.1,x1\n1,2,3,8,9\n")]
    public void Csv_RepeatedHeaderNames_AreRenamedAsPandasDoes_AndTheFirstIsScored(string csv)
    {
        // y = 0.5 x1 - x2 + 2 x3 + 0.25 with x1 = 1: the first column of a repeated name is the one a schema takes.
        var (status, body) = Serve("text/csv", csv);
        Assert.Equal(200, status);
        Assert.Contains("4.75", body);
    }

    [Fact]
    public void Csv_NotUtf8_IsASchemaError()
    {
        var ex = Assert.Throws<MlModels.Core.Scoring.SchemaViolationException>(() =>
            MlModels.Core.Scoring.CsvInput.Read(new MemoryStream([.. "x1,x2\n1,"u8, 0xC3, 0x28, .. "\n"u8]), "body.csv", names => MlModels.Core.Scoring.ColumnPlan.Create(null, names, _ => MlModels.Core.Scoring.ElementKind.Object, null), 10).ToList());
        Assert.Contains("body.csv is not UTF-8", ex.Message);
    }

    [Fact]
    public void Request_RepeatedKeys_TakeTheLastValueAsJsonLoadsDoes()
    {
        Assert.Equal(200, Serve("application/json", """{"dataframe_split": "junk", "dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1, 2, 3]]}, "params": {"k": "x", "k": 2}}""").Status);
    }

    [Fact]
    public void Request_ListParam_IsAccepted()
    {
        var (status, body) = Serve("application/json", """{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1, 2, 3]]}, "params": {"flags": [true, false]}}""");
        Assert.True(status == 200, body);
    }

    [Theory]
    [InlineData("""{"inputs": {"x1": [1], "x2": ["\ud800"], "x3": [3]}}""", true)]
    [InlineData("""{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1, 2, 3]]}, "params": {"\udc00": 1}}""", true)]
    [InlineData("""{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1, 2, 3]]}, "params": {"mode": "\ud83d\ude00"}}""", false)]
    [InlineData("""{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1, 2, 3]]}, "params": {"mode": "\\ud800"}}""", false)]
    public void Request_LoneSurrogateEscape_IsABadRequest(string body, bool lone)
    {
        var (status, text) = Serve("application/json", body);
        if (lone) { Assert.Equal(400, status); Assert.Contains("surrogate", text); }
        else Assert.True(status == 200, text);
    }
}
