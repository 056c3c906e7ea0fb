using System.Diagnostics;
using System.Numerics;
using MlModels.Core.Format;
using MlModels.Core.Format.Yaml;

namespace MlModels.Core.Tests.Format;

/// <summary>PyYAML's ints are unbounded; ours survive reading, the typed model and writing at any width.</summary>
public class IntegerTests
{
    private const string Wide = """
        artifact_path: model
        flavors:
          python_function:
            loader_module: mlflow.sklearn
        metadata:
          big_hex: 0x1_0000_0000_0000_0000
          big_octal: 02000000000000000000000
          big_binary: 0b10000000000000000000000000000000000000000000000000000000000000000
          big_sexagesimal: 190:0:0:0:0:0:0:0:0:0:0
          list:
          - 9223372036854775807
          - 9223372036854775808
          - -9223372036854775808
          - -9223372036854775809
          negative: -123456789012345678901234567890
          with_underscores: 1_000_000_000_000_000_000_000
        model_uuid: 11112222333344445555666677778888
        """;

    [Trait("Category", "Fast")]
    [Theory]
    [InlineData("9223372036854775807", "9223372036854775807", false)]
    [InlineData("9223372036854775808", "9223372036854775808", true)]
    [InlineData("-9223372036854775809", "-9223372036854775809", true)]
    [InlineData("11112222333344445555666677778888", "11112222333344445555666677778888", true)]
    [InlineData("0x1_0000_0000_0000_0000", "18446744073709551616", true)]
    [InlineData("-0b1111111111111111111111111111111111111111111111111111111111111111", "-18446744073709551615", true)]
    [InlineData("0777777777777777777777777", "4722366482869645213695", true)]
    [InlineData("190:0:0:0:0:0:0:0:0:0:0", "114885734400000000000", true)]
    public void WideIntegers_ReadExactly(string text, string expected, bool big)
    {
        var v = YamlReader.ResolvePlain(text);
        Assert.Equal(expected, Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture));
        Assert.IsType(big ? typeof(BigInteger) : typeof(long), v);
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void WideModelUuid_SurvivesLoadAndSave()
    {
        var dir = TestPaths.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "MLmodel"), Wide);
        var model = ModelStore.Load(dir);
        Assert.Equal("11112222333344445555666677778888", model.ModelUuid);
        Assert.Equal(BigInteger.Parse("-123456789012345678901234567890"), model.Metadata!["negative"]);

        var saved = ModelStore.Save(model, Path.Combine(TestPaths.NewTempDir(), "copy"));
        var text = File.ReadAllText(saved.MLmodelFile!);
        Assert.Contains("model_uuid: 11112222333344445555666677778888\n", text); // still a plain int, not 1.1112222333344446e+31
        Assert.Contains("big_hex: 18446744073709551616\n", text);
        Assert.Equal("11112222333344445555666677778888", ModelStore.Load(saved.Path!).ModelUuid);
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void WideIntegers_SetThroughTheTypedModel_AreWrittenExactly()
    {
        var m = MLModel.Create();
        m.SetField("model_size_bytes", BigInteger.Pow(10, 30));
        m.Metadata = new Dictionary<string, object?> { ["u"] = ulong.MaxValue, ["d"] = 79228162514264337593543950335m };
        var back = ModelStore.Parse(m.ToYaml());
        Assert.Equal(BigInteger.Pow(10, 30), back.GetField("model_size_bytes"));
        Assert.Equal(new BigInteger(ulong.MaxValue), back.Metadata!["u"]);
        Assert.Equal(BigInteger.Parse("79228162514264337593543950335"), back.Metadata!["d"]);
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void WideIntegers_JsonValuesStayExact()
    {
        var node = PyJson.FromPlain(new Dictionary<string, object?> { ["n"] = BigInteger.Parse("123456789012345678901234567890") });
        Assert.Equal("{\"n\": 123456789012345678901234567890}", PyJson.Dumps(node));
        var plain = (Dictionary<string, object?>)PyJson.ToPlain(System.Text.Json.Nodes.JsonNode.Parse("{\"n\": -123456789012345678901234567890}"))!;
        Assert.Equal(BigInteger.Parse("-123456789012345678901234567890"), plain["n"]);
    }

    [Trait("Category", "Python")]
    [SkippableFact]
    public void WideIntegers_ReadAndWriteAsPyYamlDoes()
    {
        Prerequisites.Require(Prerequisites.PythonHas("yaml"), "python3-yaml (Debian)");
        var dir = TestPaths.NewTempDir();
        var original = Path.Combine(dir, "MLmodel");
        File.WriteAllText(original, Wide);
        var ours = Path.Combine(dir, "ours.MLmodel");
        File.WriteAllText(ours, ModelStore.Load(original).ToYaml());

        // PyYAML reads our file as the same values as the original (Python compares int and float exactly) ...
        var pairs = Path.Combine(dir, "pairs.tsv");
        File.WriteAllText(pairs, $"{original}\t{ours}\n");
        var (code, output, error) = Python(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/compare_with_pyyaml.py"), pairs);
        Assert.True(code == 0, error);
        Assert.Equal("ok 1", output.Trim());

        // ... and writes the same text for them.
        (code, output, error) = Python("-c", "import sys, yaml; sys.stdout.write(yaml.safe_dump(yaml.safe_load(open(sys.argv[1])), default_flow_style=False))", original);
        Assert.True(code == 0, error);
        Assert.Equal(output, File.ReadAllText(ours));
    }

    private static (int Code, string Output, string Error) Python(params string[] args)
    {
        var psi = new ProcessStartInfo(Prerequisites.DebianPython, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, error);
    }
}
