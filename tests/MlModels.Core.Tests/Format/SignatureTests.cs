using MlModels.Core.Format;

namespace MlModels.Core.Tests.Format;

[Trait("Category", "Fast")]
public class SignatureTests
{
    [Fact]
    public void AllColumnTypes_Parse()
    {
        var json = "[" + string.Join(", ", new[] { "boolean", "integer", "long", "float", "double", "string", "binary", "datetime", "any" }.Select(t => $"{{\"type\": \"{t}\", \"name\": \"c_{t}\"}}"))
            + ", {\"type\": \"array\", \"items\": {\"type\": \"double\"}, \"name\": \"arr\", \"required\": false}"
            + ", {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\", \"required\": true}}, \"name\": \"obj\"}"
            + ", {\"type\": \"map\", \"values\": {\"type\": \"long\"}, \"name\": \"m\"}]";
        var s = Schema.Parse(json, "inputs");
        Assert.Equal(12, s.Columns.Count);
        Assert.Equal("array<double>", s.Columns[9].TypeName);
        Assert.False(s.Columns[9].Required);
        Assert.Equal("object{a: string}", s.Columns[10].TypeName);
        Assert.Equal("map<string, long>", s.Columns[11].TypeName);
        Assert.Equal(json, s.ToJson());
    }

    [Fact]
    public void IntegerColumnNames_AreKept()
    {
        var s = Schema.Parse("[{\"name\": 0, \"type\": \"long\"}]", "outputs");
        Assert.Equal("0", s.Columns[0].Name);
        Assert.Equal("[{\"name\": 0, \"type\": \"long\"}]", s.ToJson());
    }

    [Fact]
    public void TensorSpecs_ParseWithWildcards()
    {
        var s = Schema.Parse("[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, 28, 28]}, \"name\": \"img\"}]", "inputs");
        Assert.True(s.IsTensorBased);
        Assert.Equal(new long[] { -1, 28, 28 }, s.Tensors[0].Shape);
        Assert.Equal("float32", s.Tensors[0].DType);
    }

    [Fact]
    public void MixedSchema_IsRejected()
    {
        var ex = Assert.Throws<MLModelFormatException>(() => Schema.Parse("[{\"type\": \"double\"}, {\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"int64\", \"shape\": [-1]}}]", "inputs"));
        Assert.Contains("mixes", ex.Message);
    }

    [Fact]
    public void Params_ParseWithDefaultsAndOldDtypeKey()
    {
        var p = ParamSchema.Parse("[{\"name\": \"k\", \"type\": \"long\", \"default\": 5, \"shape\": null}, {\"name\": \"b\", \"dtype\": \"long\", \"default\": 16, \"shape\": null}]", "params");
        Assert.Equal(5L, p.Params[0].Default);
        Assert.Equal(DataType.Long, p.Params[1].Type);
    }

    [Fact]
    public void InferFromCsv_FollowsPandasTypes()
    {
        var dir = TestPaths.NewTempDir();
        var csv = Path.Combine(dir, "x.csv");
        File.WriteAllText(csv, "a,b,c,d,e\n1,1.5,True,x,\n2,3,False,y,4\n");
        var s = SignatureInference.FromCsv(csv);
        Assert.Equal(new[] { "a: long", "b: double", "c: boolean", "d: string", "e: long (optional)" }, s.Columns.Select(c => c.ToString()));
    }

    [Fact]
    public void InferFromRows_UsesDotNetTypes()
    {
        var rows = new[]
        {
            new List<KeyValuePair<string, object?>> { new("i", 1), new("d", 1.5), new("s", "x"), new("t", DateTime.UtcNow) },
            new List<KeyValuePair<string, object?>> { new("i", 2), new("d", 2), new("s", null), new("t", DateTime.UtcNow) },
        };
        var s = SignatureInference.FromRows(rows);
        Assert.Equal(new[] { "i: integer", "d: double", "s: string (optional)", "t: datetime" }, s.Columns.Select(c => c.ToString()));
    }
}
