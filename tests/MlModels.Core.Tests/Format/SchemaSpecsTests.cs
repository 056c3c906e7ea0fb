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

    // Added for the mutants Stryker found surviving in SchemaSpecs.cs (README: how strong the suite is).
    [Fact]
    public void TensorSpecs_AreKnownByDtype_ShapeAlone_OrTypeTensor_AndKeepTheirNamesAndShapes()
    {
        var byShape = Assert.Throws<ArgumentException>(() => SchemaSpecs.ToSchema([new Dictionary<string, object?> { ["name"] = "s", ["shape"] = new[] { 2 } }], "inputs"));
        Assert.Equal("inputs[0]: a tensor spec needs a dtype.", byShape.Message);
        var byType = Assert.Throws<ArgumentException>(() => SchemaSpecs.ToSchema([new Dictionary<string, object?> { ["type"] = "tensor" }], "outputs"));
        Assert.Equal("outputs[0]: a tensor spec needs a dtype.", byType.Message);
        var schema = SchemaSpecs.ToSchema([
            new Dictionary<string, object?> { ["name"] = "a", ["dtype"] = "int64" },
            new Dictionary<string, object?> { ["name"] = "b", ["dtype"] = "float64", ["shape"] = new object?[] { -1, 2, 3 } },
        ], "inputs")!;
        Assert.Equal(["a", "b"], schema.Tensors.Select(t => t.Name));
        Assert.Equal([], schema.Tensors[0].Shape);
        Assert.Equal([-1L, 2L, 3L], schema.Tensors[1].Shape);
    }

    [Fact]
    public void SpecObjects_PassThrough_AndASchemaAloneIsTakenAsIs()
    {
        var col = new ColumnSpec("c", DataType.Long);
        Assert.Same(col, Assert.Single(SchemaSpecs.ToSchema([col], "inputs")!.Columns));
        var tensor = new TensorSpec("t", "float32", [-1]);
        Assert.Same(tensor, Assert.Single(SchemaSpecs.ToSchema([tensor], "inputs")!.Tensors));
        var schema = new Schema([col]);
        Assert.Same(schema, SchemaSpecs.ToSchema([schema], "inputs"));
        Assert.Null(SchemaSpecs.ToSchema(null, "inputs"));
    }

    [Fact]
    public void ValuesThatAreNoSpec_AreRefusedNamingThemAndWhere()
    {
        Assert.Equal("inputs[1]: cannot make a column or tensor spec from null.",
            Assert.Throws<ArgumentException>(() => SchemaSpecs.ToSchema(["a", null], "inputs")).Message);
        Assert.Equal("outputs[0]: cannot make a column or tensor spec from a Int32.",
            Assert.Throws<ArgumentException>(() => SchemaSpecs.ToSchema([42], "outputs")).Message);
        var badDim = Assert.Throws<ArgumentException>(() => SchemaSpecs.ToSchema([new Dictionary<string, object?> { ["dtype"] = "float32", ["shape"] = new object?[] { "x" } }], "inputs"));
        Assert.Equal("inputs[0]: a shape is a list of integers, such as [-1, 4].", badDim.Message);
        Assert.IsType<FormatException>(badDim.InnerException);
    }

    [Fact]
    public void Params_KeepTheirShape_AndANamelessParamIsRefused()
    {
        var p = Assert.Single(SchemaSpecs.ToParams([new Dictionary<string, object?> { ["name"] = "v", ["type"] = "double", ["default"] = new[] { 1.0 }, ["shape"] = new[] { -1 } }])!.Params);
        Assert.Equal([-1L], p.Shape!);
        Assert.Equal("params[0]: a param spec needs a name.",
            Assert.Throws<ArgumentException>(() => SchemaSpecs.ToParams([new Dictionary<string, object?> { ["type"] = "long", ["default"] = 1 }])).Message);
        Assert.Equal("params[0]: a shape is a list of integers, such as [-1, 4].",
            Assert.Throws<ArgumentException>(() => SchemaSpecs.ToParams([new Dictionary<string, object?> { ["name"] = "v", ["type"] = "long", ["default"] = 1, ["shape"] = "-1" }])).Message);
    }
}
