using System.Globalization;
using System.Text;
using CsCheck;
using MlModels.Core.Format;
using MlModels.Core.Format.Yaml;
using MlModels.Core.Scoring;
using MlModels.Fuzz;

namespace MlModels.Core.Tests.Robustness;

/// <summary>
/// Every parser, on valid input and on mutations of it: a result or one of the module's typed errors, never another
/// exception (the checks live in fuzz/MlModels.Fuzz/Targets.cs, shared with the fuzzers). Valid input must also give
/// the expected result. Fixed seeds; a few thousand cases per parser.
/// </summary>
[Trait("Category", "Fast")]
public class ParserPropertyTests
{
    private const int Valid = 1000, Mutations = 2500;

    // ---- signature and params JSON ----

    private static readonly Gen<string> ScalarType = Gen.OneOf("boolean", "integer", "long", "float", "double", "string", "binary", "datetime");

    private static readonly Gen<string> TypeBody = Gen.OneOf(
        ScalarType.Select(t => $"\"type\": \"{t}\""),
        ScalarType.Select(t => $"\"type\": \"array\", \"items\": {{\"type\": \"{t}\"}}"),
        Gen.Select(Gens.Name, ScalarType).Select((n, t) => $"\"type\": \"object\", \"properties\": {{{Gens.Quote(n)}: {{\"type\": \"{t}\", \"required\": true}}}}"),
        ScalarType.Select(t => $"\"type\": \"map\", \"values\": {{\"type\": \"{t}\"}}"));

    /// <summary>A column spec as text plus the name Python's json.loads gives it (a repeated "name" key: the last wins).</summary>
    private static readonly Gen<(string Json, string Name)> Column =
        Gen.Select(TypeBody, Gens.Name, Gen.Bool, Gens.Name.Array[0, 2]).Select((body, name, required, repeats) =>
        {
            var sb = new StringBuilder("{").Append(body).Append(", \"name\": ").Append(Gens.Quote(name));
            foreach (var r in repeats) sb.Append(", \"requi\": \"float\", \"name\": ").Append(Gens.Quote(r));
            sb.Append(", \"required\": ").Append(required ? "true" : "false").Append('}');
            return (sb.ToString(), repeats.Length > 0 ? repeats[^1] : name);
        });

    private static readonly Gen<(string Json, string[] Names)> Columns =
        Column.Array[1, 5].Select(cs => ("[" + string.Join(", ", cs.Select(c => c.Json)) + "]", cs.Select(c => c.Name).ToArray()));

    private static readonly Gen<string> Tensors =
        Gen.Select(Gen.OneOf("float32", "float64", "int64", "object", "bool"), Gen.Int[-1, 8].Array[0, 3], Gens.Name)
            .Select((dtype, shape, name) => $"[{{\"type\": \"tensor\", \"tensor-spec\": {{\"dtype\": \"{dtype}\", \"shape\": [{string.Join(", ", shape)}]}}, \"name\": {Gens.Quote(name)}}}]");

    private static readonly Gen<string> Params =
        Gen.Select(Gens.Name, Gen.OneOf("long", "double", "string", "boolean", "datetime", "float"), Gens.JsonValue, Gen.OneOf("null", "[-1]", "[2]"))
            .Select((n, t, d, shape) => $"{{\"name\": {Gens.Quote(n)}, \"type\": \"{t}\", \"default\": {d}, \"shape\": {shape}}}").Array[0, 3]
            .Select(ps => "[" + string.Join(", ", ps) + "]");

    private static readonly Gen<(string Json, string[] Names)> SignatureJson =
        Gen.Select(Columns, Gen.OneOf(Tensors, Columns.Select(c => c.Json), Gen.Const("null")), Gen.OneOf(Gen.Const((string?)null), Params.Select(p => (string?)p)))
            .Select((inputs, outputs, ps) =>
            {
                var pairs = new List<(string, string)> { ("inputs", Gens.Quote(inputs.Json)), ("outputs", outputs == "null" ? "null" : Gens.Quote(outputs)) };
                if (ps != null) pairs.Add(("params", Gens.Quote(ps)));
                return (Gens.Object(pairs), inputs.Names);
            });

    [Fact]
    public void Signature_ValidJson_ParsesWithPythonsRepeatedKeyRule() =>
        PropertyCheck.ForAll(SignatureJson, s =>
        {
            var sig = ModelSignature.ParseJson(s.Json);
            Assert.Equal(s.Names, sig.Inputs!.Columns.Select(c => c.Name));
            Targets.Signature(Encoding.UTF8.GetBytes(s.Json));
        }, Valid, 1, s => s.Json);

    [Fact]
    public void Signature_Mutated_GivesResultOrFormatError() =>
        PropertyCheck.ForAll(Gens.Mutated(SignatureJson.Select(s => s.Json)), Targets.Signature, Mutations, 2, PropertyCheck.Show);

    // ---- MLmodel YAML ----

    private static readonly Gen<(string Yaml, string[] Names)> MLmodelText =
        Gen.Select(SignatureJson, Gen.OneOf("3.10", "3.11.9", "3.8"), Gen.Bool, Gen.Select(Gens.Name, Gens.Name, Gen.Long).Array[0, 3], Gen.OneOf("2024-01-31 12:00:00.000000", "2018-05-01 10:00:00"))
            .Select((sig, py, pyAsNumber, meta, created) =>
            {
                var node = (System.Text.Json.Nodes.JsonObject)PyJson.Parse(sig.Json)!;
                var signature = node.ToDictionary(kv => kv.Key, kv => kv.Value == null ? null : (object?)kv.Value.GetValue<string>(), StringComparer.Ordinal);
                var fields = new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["artifact_path"] = "model",
                    ["flavors"] = new Dictionary<string, object?>(StringComparer.Ordinal)
                    {
                        ["python_function"] = new Dictionary<string, object?>(StringComparer.Ordinal)
                        {
                            ["env"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["conda"] = "conda.yaml", ["virtualenv"] = "python_env.yaml" },
                            ["loader_module"] = "mlflow.sklearn",
                            ["model_path"] = "model.pkl",
                            ["python_version"] = pyAsNumber && py.Count(c => c == '.') == 1 ? double.Parse(py, CultureInfo.InvariantCulture) : py,
                        },
                        ["sklearn"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["pickled_model"] = "model.pkl", ["sklearn_version"] = "1.2.1" },
                    },
                    ["mlflow_version"] = "2.12.2",
                    ["model_uuid"] = "0123456789abcdef0123456789abcdef",
                    ["run_id"] = "abc",
                    ["signature"] = signature,
                    ["utc_time_created"] = created,
                };
                if (meta.Length > 0) fields["metadata"] = meta.GroupBy(m => m.Item1).ToDictionary(g => g.Key, g => (object?)new Dictionary<string, object?> { [g.First().Item2] = g.First().Item3 }, StringComparer.Ordinal);
                return (YamlWriter.Write(fields), sig.Names);
            });

    [Fact]
    public void MLmodel_Valid_LoadsWithItsSignature() =>
        PropertyCheck.ForAll(MLmodelText, m =>
        {
            var model = ModelStore.Parse(m.Yaml, "MLmodel");
            Assert.Equal(m.Names, model.Signature!.Inputs!.Columns.Select(c => c.Name));
            Targets.MLmodel(Encoding.UTF8.GetBytes(m.Yaml));
        }, 300, 3, m => m.Yaml);

    [Fact]
    public void MLmodel_Mutated_GivesModelOrFormatError() =>
        PropertyCheck.ForAll(Gens.Mutated(MLmodelText.Select(m => m.Yaml)), Targets.MLmodel, 1500, 4, PropertyCheck.Show);

    // ---- input examples ----

    private static readonly Gen<string> ExampleJson = Gen.OneOf(
        Gen.Select(Gens.Name.Array[1, 4], Gens.JsonScalar.Array[1, 4].Array[0, 4])
            .Select((cols, rows) => $"{{\"columns\": [{string.Join(", ", cols.Select(Gens.Quote))}], \"data\": [{string.Join(", ", rows.Select(r => "[" + string.Join(", ", r) + "]"))}]}}"),
        Gen.Select(Gens.Name, Gens.JsonScalar).Array[0, 4].Array[1, 4]
            .Select(rows => "[" + string.Join(", ", rows.Select(r => Gens.Object(r.Select(p => (p.Item1, p.Item2))))) + "]"),
        Gens.JsonValue);

    [Fact]
    public void InputExample_ValidAndMutated_GivesExampleOrFormatError()
    {
        PropertyCheck.ForAll(ExampleJson, j => Targets.Example(Encoding.UTF8.GetBytes(j)), Valid, 5, j => j);
        PropertyCheck.ForAll(Gens.Mutated(ExampleJson), Targets.Example, Mutations, 6, PropertyCheck.Show);
    }

    // ---- environment files ----

    private static readonly Gen<string> Requirement = Gen.OneOf("mlflow==2.12.2", "scikit-learn==1.2.1", "numpy<2", "pandas", "-r requirements.txt", "pip<=24.0", "cloudpickle==3.0.0");

    private static readonly Gen<string> EnvYaml = Gen.OneOf(
        Gen.Select(Gen.OneOf("3.10", "3.11.9", "3.8.18"), Requirement.Array[0, 4]).Select((py, deps) =>
            $"python: {py}\nbuild_dependencies:\n- pip\n- setuptools==69.0.0\n- wheel\ndependencies:\n" + string.Concat(deps.Select(d => $"- {d}\n"))),
        Gen.Select(Gen.OneOf("3.10", "3.11.9"), Requirement.Array[0, 4], Gen.OneOf("conda-forge", "defaults")).Select((py, deps, ch) =>
            $"channels:\n- {ch}\ndependencies:\n- python={py}\n- pip<=24.0\n- pip:\n" + string.Concat(deps.Select(d => $"  - {d}\n")) + "name: mlflow-env\n"));

    [Fact]
    public void EnvironmentFiles_ValidAndMutated_GiveEnvironmentOrFormatError()
    {
        PropertyCheck.ForAll(EnvYaml, y =>
        {
            if (y.StartsWith("python:", StringComparison.Ordinal)) Assert.NotNull(EnvironmentFiles.ParsePythonEnv(y, "python_env.yaml").Python);
            else Assert.NotNull(EnvironmentFiles.ParseConda(y, "conda.yaml").PythonVersion);
        }, Valid, 7, y => y);
        PropertyCheck.ForAll(Gens.Mutated(EnvYaml), Targets.Environment, Mutations, 8, PropertyCheck.Show);
    }

    // ---- YAML scalars: what the writer writes, the reader reads back as the same value ----

    [Fact]
    public void Yaml_AnyStringWritten_ReadsBackAsTheSameString() =>
        PropertyCheck.ForAll(Gen.OneOf(Gens.Name, Gen.String, Gen.String[Gen.Char["0123456789._:+-eExobi \t#&*!'\"\n"], 0, 8]), s =>
        {
            var yaml = YamlWriter.Write(new Dictionary<string, object?> { ["k"] = s });
            var back = (Dictionary<string, object?>)YamlReader.Read(yaml, "written", null, out _)!;
            Assert.Equal(s.Replace("\r\n", "\n"), ((string)back["k"]!).Replace("\r\n", "\n"));
        }, Mutations, 9, s => Gens.Quote(s));

    // ---- ONNX files ----

    [Fact]
    public void OnnxFile_Mutated_LoadsOrGivesFormatError()
    {
        var originals = new[] { "linear.onnx", "classifier.onnx", "multi.onnx" }
            .Select(f => File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx", f))).ToArray();
        var dir = TestPaths.NewTempDir();
        var gen = Gen.Select(Gen.Int[0, originals.Length - 1], Gen.Select(Gen.Int[0, 3], Gen.Double[0, 1], Gen.Byte).Array[1, 4]);
        int n = 0;
        PropertyCheck.ForAll(gen, c =>
        {
            var bytes = originals[c.Item1].ToList();
            foreach (var (kind, at, value) in c.Item2)
            {
                int pos = (int)(at * bytes.Count);
                if (kind == 0 && pos < bytes.Count) bytes[pos] = value;
                else if (kind == 1) bytes.RemoveRange(pos, bytes.Count - pos);
                else if (kind == 2) bytes.Insert(pos, value);
                else if (pos < bytes.Count) bytes.RemoveAt(pos);
            }
            var file = Path.Combine(dir, $"m{n++}.onnx");
            File.WriteAllBytes(file, bytes.ToArray());
            try { using var scorer = MlModels.Core.Scoring.Onnx.OnnxScorer.Load(file, MLModel.Create()); }
            catch (MLModelFormatException) { }
        }, 150, 10, c => $"fixture {c.Item1}, edits {string.Join(" ", c.Item2)}");
    }
}
