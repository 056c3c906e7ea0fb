using System.Diagnostics;
using System.Text.Json;

namespace MlModels.Core.Tests.Evaluation;

/// <summary>
/// scikit-learn's answers for every case of <see cref="EvaluationCases"/>, from one run of sklearn_reference.py under
/// Debian's Python (importing scikit-learn takes seconds, so the class asks once). The run happens on first use, so a
/// machine without scikit-learn skips the tests rather than failing the fixture.
/// </summary>
public sealed class SklearnReference
{
    private readonly Lazy<JsonElement> _answers = new(Run);

    public JsonElement Answers => _answers.Value;

    public JsonElement Regression(string name) => Answers.GetProperty("regression").GetProperty(name);

    public JsonElement Classification(string name) => Answers.GetProperty("classification").GetProperty(name);

    private static JsonElement Run()
    {
        var dir = TestPaths.NewTempDir();
        var input = Path.Combine(dir, "cases.json");
        var output = Path.Combine(dir, "answers.json");
        using (var stream = File.Create(input))
        {
            JsonSerializer.Serialize(stream, new
            {
                regression = EvaluationCases.Regression.Select(c => new { name = c.Name, y = c.Y, p = c.P }),
                classification = EvaluationCases.Classification.Select(c => new
                {
                    name = c.Name, y = c.Y, p = c.P, classes = c.Classes, proba = c.Proba, pos = c.Pos, curves = c.Curves,
                }),
                fixed3 = EvaluationCases.Fixed3,
                pairwise = EvaluationCases.Pairwise.Select(c => new { value = c.Value, n = c.N }),
            });
        }
        var script = Path.Combine(TestPaths.RepoRoot, "tests", "MlModels.Core.Tests", "Evaluation", "sklearn_reference.py");
        var psi = new ProcessStartInfo(Prerequisites.DebianPython, [script, input, output]) { RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000))
        {
            p.Kill();
            throw new TimeoutException("sklearn_reference.py took more than 300 s.");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"sklearn_reference.py failed ({p.ExitCode}):\n{stderr.Result}");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(output));
        return doc.RootElement.Clone();
    }
}
