using MlModels.Core.Format;

namespace MlModels.Core.Tests.Format;

/// <summary>MLflow's first pyfunc layout: python_function at the top level (code, data, env, main) and no flavors map.</summary>
[Trait("Category", "Fast")]
public class FirstPyfuncLayoutTests
{
    private static string Example => Path.Combine(TestPaths.Examples, "pyfunc-first-layout");

    [Fact]
    public void Load_ReadsItAsAModelWhoseOneFlavorIsPythonFunction()
    {
        var m = ModelStore.Load(Example);
        Assert.True(m.IsFirstPyfuncLayout);
        Assert.Equal(["python_function"], m.FlavorNames);
        var pyfunc = m.Flavors["python_function"];
        Assert.Equal("linear_model", pyfunc.LoaderModule);
        Assert.Equal("code", pyfunc.Code);
        Assert.Equal("data/model.json", pyfunc.Data);
        Assert.Equal("mlflow_env.yml", pyfunc.Env!.Conda);
    }

    [Fact]
    public void Validate_NamesTheLayout_AndFindsTheFilesItNames()
    {
        var r = ModelValidator.Validate(ModelStore.Load(Example));
        Assert.True(r.IsValid, string.Join("; ", r.Findings));
        Assert.True(r.IsLegacy);
        var finding = Assert.Single(r.Findings, f => f.Code == "LegacyPyfuncLayout");
        Assert.Contains("top level", finding.Message);
        Assert.Contains("'linear_model'", finding.Message);
        Assert.Equal(1, finding.Line); // where python_function stands in the file
    }

    [Fact]
    public void Validate_PointsAtTheFileLine_OfAMissingDataPath()
    {
        var m = ModelStore.Parse("python_function:\n  main: mod\n  data: nowhere.pkl\n", dir: TestPaths.NewTempDir());
        var missing = Assert.Single(ModelValidator.Validate(m).Findings, f => f.Code == "MissingFile");
        Assert.Equal("flavors.python_function.data", missing.Field);
        Assert.Equal(3, missing.Line);
    }

    [Fact]
    public void Save_WritesTheCurrentLayout_WithAWarning()
    {
        var target = Path.Combine(TestPaths.NewTempDir(), "upgraded");
        var warnings = new List<string>();
        var saved = ModelStore.Save(ModelStore.Load(Example), target, new SaveOptions(Warn: warnings.Add));
        var warning = Assert.Single(warnings);
        Assert.Contains("first pyfunc layout", warning);
        Assert.Contains("current layout", warning);
        Assert.False(saved.IsFirstPyfuncLayout);

        var text = File.ReadAllText(Path.Combine(target, "MLmodel"));
        Assert.StartsWith("flavors:\n  python_function:\n", text);
        Assert.Contains("    loader_module: linear_model\n", text);
        Assert.True(File.Exists(Path.Combine(target, "code", "linear_model.py")));
        var again = ModelStore.Load(target);
        Assert.False(again.IsFirstPyfuncLayout);
        Assert.Equal("linear_model", again.Flavors["python_function"].LoaderModule);
        Assert.DoesNotContain(ModelValidator.Validate(again).Findings, f => f.Code == "LegacyPyfuncLayout");
    }

    [Fact]
    public void Save_RefusedForAnExistingTarget_DoesNotWarn()
    {
        var target = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(target, "other.txt"), "x");
        var warnings = new List<string>();
        Assert.Throws<TargetExistsException>(() => ModelStore.Save(ModelStore.Load(Example), target, new SaveOptions(Warn: warnings.Add)));
        Assert.Empty(warnings);
    }

    [Fact]
    public void Save_AfterThePyfuncFlavorWasRemoved_StillWritesAFlavorsMap()
    {
        var m = ModelStore.Load(Example);
        m.RemoveFlavor("python_function");
        m.AddFlavor("custom", new Dictionary<string, object?> { ["data"] = "data/model.json" });
        var warnings = new List<string>();
        var saved = ModelStore.Save(m, Path.Combine(TestPaths.NewTempDir(), "m"), new SaveOptions(Warn: warnings.Add));
        Assert.Contains("current layout", Assert.Single(warnings));
        Assert.Equal(["custom"], ModelStore.Load(saved.Path!).FlavorNames);
    }

    [Fact]
    public void ACurrentModel_WithAnExtraTopLevelPythonFunction_IsNotRewritten()
    {
        var m = ModelStore.Parse("flavors:\n  sklearn:\n    pickled_model: m.pkl\npython_function:\n  main: mod\n");
        Assert.False(m.IsFirstPyfuncLayout);
        Assert.Equal(["sklearn"], m.FlavorNames);
        Assert.True(m.AdditionalFields.ContainsKey("python_function"));
    }

    [Fact]
    public void NeitherLayout_IsStillTheMissingFlavorsError()
    {
        var ex = Assert.Throws<MLModelFormatException>(() => ModelStore.Parse("run_id: abc\n"));
        Assert.Equal("flavors", ex.Field);
    }
}
