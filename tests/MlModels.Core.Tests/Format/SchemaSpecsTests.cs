using MlModels.Core.Format;

namespace MlModels.Core.Tests.Format;

[Trait("Category", "Fast")]
public class SchemaSpecsTests
{
    [Fact]
    public void Dictionaries_BecomeColumnSpecs_KeysInAnyCase()
    {
        var schema = SchemaSpecs.ToSchema([
            new Dictionary<string, object?> { ["Name"] = "x", ["TYPE"] = "long" },
            new Dictionary<string, object?> { ["name"] = "y", ["type"] = "string", ["required"] = false },
            "z",
        ], "inputs")!;
        Assert.Equal(["x", "y", "z"], schema.Columns.Select(c => c.Name));
        Assert.Equal([DataType.Long, DataType.String, DataType.Double], schema.Columns.Select(c => c.Type));
        Assert.Equal([true, false, true], schema.Columns.Select(c => c.Required));
    }

    [Fact]
    public void Dictionaries_WithDtypeOrShape_BecomeTensorSpecs()
    {
        var schema = SchemaSpecs.ToSchema([new Dictionary<string, object?> { ["name"] = "t", ["dtype"] = "float32", ["shape"] = new List<object?> { -1, 4L } }], "inputs")!;
        var t = Assert.Single(schema.Tensors);
        Assert.Equal("float32", t.DType);
        Assert.Equal([-1L, 4L], t.Shape);
    }

    [Fact]
    public void Params_TakeNameTypeDefaultAndShape()
    {
        var ps = SchemaSpecs.ToParams([new Dictionary<string, object?> { ["name"] = "k", ["type"] = "long", ["default"] = 5 }])!;
        var p = Assert.Single(ps.Params);
        Assert.Equal("k", p.Name);
        Assert.Equal(DataType.Long, p.Type);
    }

    [Theory]
    [InlineData("inputs[1]: 'decimal' is not an MLflow column type")]
    public void BadSpecs_NameThePartAndItem(string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => SchemaSpecs.ToSchema(["a", new Dictionary<string, object?> { ["name"] = "b", ["type"] = "decimal" }], "inputs"));
        Assert.StartsWith(expected, ex.Message);
        Assert.Contains("a mix of column and tensor specs", Assert.Throws<ArgumentException>(() =>
            SchemaSpecs.ToSchema(["a", new Dictionary<string, object?> { ["dtype"] = "float32" }], "outputs")).Message);
        Assert.Contains("params[0]: each param needs", Assert.Throws<ArgumentException>(() => SchemaSpecs.ToParams([42])).Message);
        Assert.Contains("a shape is a list of integers", Assert.Throws<ArgumentException>(() =>
            SchemaSpecs.ToSchema([new Dictionary<string, object?> { ["dtype"] = "float32", ["shape"] = "4" }], "inputs")).Message);
    }
}
