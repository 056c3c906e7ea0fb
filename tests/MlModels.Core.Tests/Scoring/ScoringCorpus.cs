using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Tests;

/// <summary>
/// MLflow 2.12.2's recorded scoring answers (tests/conformance/scoring) and the comparison rules of its README:
/// equal status; JSON bodies equal as values (floats to 1e-9 relative, integers stay integers, record keys in
/// MLflow's order); errors by error_code; plain-text bodies by status.
/// </summary>
internal static class ScoringCorpus
{
    /// <summary>The sklearn, pyfunc and ONNX corpus (tests/conformance/scoring).</summary>
    public static string Root => TestPaths.ScoringConformance;

    /// <summary>MLflow's own flavor modules beyond sklearn: xgboost, pytorch, statsmodels (tests/conformance/flavors).</summary>
    public static string Flavors => Path.Combine(TestPaths.RepoRoot, "tests", "conformance", "flavors");

    public sealed record Case(string Name, string Model, string? ContentType, string? BodyFile, string Method, string Path, string CorpusRoot)
    {
        public byte[]? Body => BodyFile == null ? null : File.ReadAllBytes(System.IO.Path.Combine(CorpusRoot, BodyFile));
        public Expected Expected => ScoringCorpus.ExpectedOf(Name, CorpusRoot);
        public string ModelDir => ScoringCorpus.ModelDir(Model, CorpusRoot);
        public override string ToString() => Name;
    }

    public sealed record Expected(int Status, string? ContentType, JsonElement Body);

    public sealed record PredictRun(string Model, string Format, string Input, int ExitCode, string? Output);

    public static IReadOnlyList<Case> Cases(string? root = null) =>
        JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(root ?? Root, "cases.json")))!.AsArray().Select(n => new Case(
            n!["case"]!.GetValue<string>(), n["model"]!.GetValue<string>(), n["content_type"]?.GetValue<string>(),
            n["body_file"]?.GetValue<string>(), n["method"]!.GetValue<string>(), n["path"]!.GetValue<string>(), root ?? Root)).ToList();

    public static Case Get(string name, string? root = null) => Cases(root).Single(c => c.Name == name);

    public static IReadOnlyList<PredictRun> PredictRuns(string? root = null) =>
        JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(root ?? Root, "predict", "index.json")))!.AsArray().Select(n => new PredictRun(
            n!["model"]!.GetValue<string>(), n["format"]!.GetValue<string>(), n["input"]!.GetValue<string>(),
            n["exit_code"]!.GetValue<int>(), n["output"]?.GetValue<string>())).ToList();

    public static Expected ExpectedOf(string name, string? root = null)
    {
        var doc = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(root ?? Root, "responses", name + ".json")));
        var r = doc.RootElement;
        return new Expected(r.GetProperty("status").GetInt32(), r.GetProperty("content_type").ValueKind == JsonValueKind.String ? r.GetProperty("content_type").GetString() : null, r.GetProperty("body").Clone());
    }

    public static string ModelDir(string model, string? root = null) => System.IO.Path.Combine(root ?? Root, "models", model);

    /// <summary>Checks an answer against MLflow's; null when it matches, else what differs.</summary>
    public static string? Compare(Expected expected, int status, string? contentType, byte[] body)
    {
        if (status != expected.Status) return $"status {status}, MLflow {expected.Status}; body: {Truncate(Encoding.UTF8.GetString(body))}";
        if (expected.Body.ValueKind == JsonValueKind.Object && expected.Body.TryGetProperty("error_code", out var code))
        {
            JsonElement actual;
            try { actual = JsonDocument.Parse(body).RootElement; }
            catch (JsonException) { return $"body is not JSON: {Truncate(Encoding.UTF8.GetString(body))}"; }
            var got = actual.ValueKind == JsonValueKind.Object && actual.TryGetProperty("error_code", out var c) ? c.GetString() : null;
            if (got != code.GetString()) return $"error_code {got ?? "(none)"}, MLflow {code.GetString()}: {Truncate(Encoding.UTF8.GetString(body))}";
            var message = actual.TryGetProperty("message", out var m) ? m.GetString() : null;
            return string.IsNullOrWhiteSpace(message) ? "the error has no message" : null;
        }
        if (expected.Body.ValueKind == JsonValueKind.String)
        {
            // Text bodies compare by status, except a 200 JSON body that only Python reads (NaN tokens): values then.
            if (expected.Status != 200 || expected.ContentType != "application/json" || !expected.Body.GetString()!.TrimStart().StartsWith('{')) return null;
            return JsonEqual(PyJsonValues.Parse(Encoding.UTF8.GetBytes(expected.Body.GetString()!)), PyJsonValues.Parse(body), "$");
        }
        if (contentType != expected.ContentType) return $"content type '{contentType}', MLflow '{expected.ContentType}'";
        return CompareJson(expected.Body, body);
    }

    /// <summary>A JSON document (Python's json.dump text, NaN allowed) against MLflow's value.</summary>
    public static string? CompareJson(JsonElement expected, byte[] actual)
    {
        object? got;
        try { got = PyJsonValues.Parse(actual); }
        catch (JsonException) { return $"body is not JSON: {Truncate(Encoding.UTF8.GetString(actual))}"; }
        return JsonEqual(PyJsonValues.Parse(Encoding.UTF8.GetBytes(expected.GetRawText())), got, "$");
    }

    /// <summary>Plain values (from PyJsonValues) compared under the corpus rules.</summary>
    public static string? JsonEqual(object? e, object? a, string at)
    {
        switch (e)
        {
            case Dictionary<string, object?> ed:
                if (a is not Dictionary<string, object?> ad) return $"{at}: expected an object, got {Show(a)}";
                if (!ed.Keys.SequenceEqual(ad.Keys)) return $"{at}: keys [{string.Join(", ", ad.Keys)}], MLflow [{string.Join(", ", ed.Keys)}]";
                foreach (var k in ed.Keys) if (JsonEqual(ed[k], ad[k], $"{at}.{k}") is string why) return why;
                return null;
            case List<object?> el:
                if (a is not List<object?> al) return $"{at}: expected a list, got {Show(a)}";
                if (el.Count != al.Count) return $"{at}: {al.Count} items, MLflow {el.Count}";
                for (int i = 0; i < el.Count; i++) if (JsonEqual(el[i], al[i], $"{at}[{i}]") is string why) return why;
                return null;
            case long el2:
                return a is long al2 && al2 == el2 ? null : $"{at}: {Show(a)}, MLflow the integer {el2}";
            case double ed2:
                if (a is not double ad2) return $"{at}: {Show(a)}, MLflow the float {ed2.ToString("R", CultureInfo.InvariantCulture)}";
                if (double.IsNaN(ed2)) return double.IsNaN(ad2) ? null : $"{at}: {ad2}, MLflow NaN";
                return ed2 == ad2 || Math.Abs(ed2 - ad2) <= 1e-9 * Math.Max(Math.Abs(ed2), Math.Abs(ad2)) ? null : $"{at}: {ad2:R}, MLflow {ed2:R}";
            default:
                return Equals(e, a) ? null : $"{at}: {Show(a)}, MLflow {Show(e)}";
        }
    }

    private static string Show(object? v) => v switch { null => "null", string s => $"\"{s}\"", _ => $"{v} ({v.GetType().Name})" };

    private static string Truncate(string s) => s.Length > 400 ? s[..400] + "…" : s;
}
