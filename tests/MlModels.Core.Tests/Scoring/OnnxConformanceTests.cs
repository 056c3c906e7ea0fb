using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Onnx;
using Xunit.Abstractions;

namespace MlModels.Core.Tests.Scoring;

/// <summary>
/// ONNX's backend node tests (Debian's libonnx-testdata): each model is wrapped as an MLflow model and scored through
/// the tensor request path ({"inputs": {...}}); outputs are compared with the expected tensors.
/// </summary>
[Trait("Category", "Python")]
public class OnnxConformanceTests(ITestOutputHelper output)
{
    private const string TestData = "/usr/share/libonnx-testdata/data/node";

    [SkippableFact]
    public void NodeTests_PassExceptForOnnxRuntimeGaps()
    {
        Prerequisites.Require(Directory.Exists(TestData), "libonnx-testdata");
        Prerequisites.Require(Prerequisites.PythonHas("onnx"), "python3-onnx (Debian)");
        var jsonl = Path.Combine(TestPaths.NewTempDir(), "node.jsonl");
        var psi = new ProcessStartInfo(Prerequisites.DebianPython, [Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx_testdata_to_json.py"), TestData, jsonl]) { RedirectStandardError = true };
        using (var p = Process.Start(psi)!) { var err = p.StandardError.ReadToEnd(); p.WaitForExit(); Assert.True(p.ExitCode == 0, err); }

        int passed = 0, skipped = 0;
        var ortGaps = new List<string>();
        var moduleFailures = new List<string>();
        var mismatches = new List<string>();
        var root = TestPaths.NewTempDir();
        foreach (var line in File.ReadLines(jsonl))
        {
            var rec = JsonNode.Parse(line)!.AsObject();
            var name = rec["name"]!.GetValue<string>();
            if (rec["skip"] != null) { skipped++; continue; }
            MLModel model;
            try
            {
                model = OnnxPackager.Save(rec["model"]!.GetValue<string>(), Path.Combine(root, name));
            }
            catch (Exception ex) when (ex is OnnxUnsupportedException or MLModelFormatException && ex.InnerException is Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                ortGaps.Add($"{name}: {First(ex.InnerException!.Message)}");
                continue;
            }
            try
            {
                var scorer = PredictionEngine.OnnxScorerFor(ModelStore.Load(model.Path!));
                using var request = ScoringRequest.Parse(new JsonObject { ["inputs"] = rec["inputs"]!.DeepClone() }.ToJsonString());
                var prediction = Assert.IsType<DictPrediction>(PredictionEngine.ScoreRequest(scorer, request, null));
                var outputs = prediction.Items.ToDictionary(kv => kv.Key, kv => kv.Value is TensorPrediction t ? (object)t.Tensor : kv.Value.ToPlain()!);
                var why = Compare(rec, outputs);
                if (why == null) passed++;
                else mismatches.Add($"{name}: {why}");
            }
            catch (ModelPredictionException ex) when (ex.InnerException is Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                ortGaps.Add($"{name}: {First(ex.InnerException.Message)}");
            }
            catch (Exception ex)
            {
                moduleFailures.Add($"{name}: {ex.GetType().Name}: {First(ex.Message)}");
            }
        }
        output.WriteLine($"ONNX node tests: {passed} passed, {ortGaps.Count} ONNX Runtime gaps, {mismatches.Count} value mismatches, {skipped} not expressible as MLflow tensor JSON, {moduleFailures.Count} module failures.");
        foreach (var g in ortGaps) output.WriteLine("ORT gap: " + g);
        foreach (var m in mismatches) output.WriteLine("mismatch: " + m);
        foreach (var f in moduleFailures) output.WriteLine("MODULE: " + f);
        Assert.True(moduleFailures.Count == 0, string.Join("\n", moduleFailures.Take(30)));
        // Value differences are ONNX Runtime's own: random ops (bernoulli, training dropout), its float-to-string
        // formatting, and its align_corners resize and MaxUnpool with output_shape. Anything else is a new failure.
        var unexplained = mismatches.Where(m => !OrtBehaviour.Any(prefix => m.StartsWith(prefix + ":", StringComparison.Ordinal) || m.StartsWith(prefix + "_", StringComparison.Ordinal))).ToList();
        Assert.True(unexplained.Count == 0, string.Join("\n", unexplained));
        Assert.True(passed >= 800, $"only {passed} node tests passed");
    }

    private static readonly string[] OrtBehaviour =
    [
        "test_bernoulli", "test_training_dropout", "test_cast_FLOAT_to_STRING", "test_castlike_FLOAT_to_STRING",
        "test_resize_downsample_scales_cubic_align_corners", "test_resize_downsample_scales_linear_align_corners", "test_maxunpool_export_with_output_shape",
    ];

    private static string First(string s) => s.Split('\n')[0];

    private static string? Compare(JsonObject rec, IReadOnlyDictionary<string, object> outputs)
    {
        foreach (var (name, expectedNode) in rec["outputs"]!.AsObject())
        {
            if (!outputs.TryGetValue(name, out var actualObj)) return $"no output '{name}'";
            if (actualObj is not TensorData actual) return $"output '{name}' is not a tensor";
            var shape = rec["shapes"]![name]!.AsArray().Select(n => n!.GetValue<long>()).ToArray();
            if (!shape.SequenceEqual(actual.Shape)) return $"'{name}' shape {OnnxScorer.ShapeText(actual.Shape)}, expected {OnnxScorer.ShapeText(shape)}";
            var expected = Flatten(expectedNode).ToList();
            if (expected.Count != actual.Data.Length) return $"'{name}' has {actual.Data.Length} values, expected {expected.Count}";
            for (int i = 0; i < expected.Count; i++)
                if (!Close(expected[i], actual.Data.GetValue(i))) return $"'{name}'[{i}] = {actual.Data.GetValue(i)}, expected {expected[i]?.ToJsonString()}";
        }
        return null;
    }

    private static IEnumerable<JsonNode?> Flatten(JsonNode? n) => n is JsonArray a ? a.SelectMany(Flatten) : [n];

    private static bool Close(JsonNode? expected, object? actual)
    {
        if (expected is null) return actual is null;
        var kind = expected.GetValueKind();
        if (kind is JsonValueKind.True or JsonValueKind.False) return actual is bool b && b == (kind == JsonValueKind.True);
        if (kind == JsonValueKind.String && actual is string s) return s == expected.GetValue<string>();
        double e = kind == JsonValueKind.String
            ? expected.GetValue<string>() switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, "-Infinity" => double.NegativeInfinity, _ => double.NaN }
            : expected.GetValue<double>();
        double a = actual switch { Half h => (double)h, float f => f, bool bb => bb ? 1 : 0, IConvertible c => c.ToDouble(null), _ => double.NaN };
        if (double.IsNaN(e)) return double.IsNaN(a);
        if (double.IsInfinity(e)) return a == e;
        return Math.Abs(a - e) <= 1e-3 + 1e-3 * Math.Abs(e);
    }
}
