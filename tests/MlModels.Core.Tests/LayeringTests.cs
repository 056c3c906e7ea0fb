using System.Text.RegularExpressions;

namespace MlModels.Core.Tests;

/// <summary>
/// Core serves the server and the cmdlets alike, so what it says names no cmdlet parameter: it raises typed exceptions,
/// and the cmdlets add the PowerShell advice. Exceptions are told apart by their type, never by their text, their type's
/// name or reflection. Checked for every source file of Core and the server; Tracking's messages keep the parameter
/// names MLflow users know them by (-TrackingUri, -Credential), as documented, so only that check passes it over.
/// </summary>
[Trait("Category", "Fast")]
public class LayeringTests
{
    private static readonly string Sep = Path.DirectorySeparatorChar.ToString();

    [Fact]
    public void CoreMessages_NameNoCmdletParameter()
    {
        var parameters = CmdletParameters();
        Assert.Contains("Force", parameters);
        Assert.Contains("PythonPath", parameters);
        var tracking = Path.Combine("src", "MlModels.Core", "Tracking") + Sep;
        var found = new List<string>();
        foreach (var (file, number, line) in CodeLines("src/MlModels.Core", "src/MlModels.Server"))
        {
            if (Path.GetRelativePath(TestPaths.RepoRoot, file).StartsWith(tracking, StringComparison.Ordinal)) continue;
            foreach (Match literal in Regex.Matches(line, "\"(?:[^\"\\\\]|\\\\.)*\""))
                foreach (Match p in Regex.Matches(literal.Value, @"(?<![\w-])-([A-Z][A-Za-z]+)\b"))
                    if (parameters.Contains(p.Groups[1].Value))
                        found.Add($"{Path.GetRelativePath(TestPaths.RepoRoot, file)}:{number}: -{p.Groups[1].Value}");
        }
        Assert.True(found.Count == 0,
            "Core and server strings name cmdlet parameters (raise a typed exception and let the cmdlet give the advice):\n"
            + string.Join("\n", found));
    }

    /// <summary>Ways of telling exceptions apart that are not their type: text, type names, reflection.</summary>
    private static readonly (string What, Regex Pattern)[] UntypedMatching =
    [
        ("an exception told by its text", new Regex(@"\.Message\s*\.\s*(Contains|StartsWith|EndsWith|IndexOf|Equals)\s*\(")),
        ("a type told by its name",
            new Regex(@"GetType\(\)\s*\.\s*(Name|FullName)\s*(==|!=|[!?]?\s*\.\s*(Equals|Contains|StartsWith|EndsWith)\s*\()")),
        ("a type told by its name", new Regex(@"(==|!=|\bis)\s*\w+\s*\.\s*GetType\(\)\s*\.\s*(Name|FullName)")),
        ("a type named in a string", new Regex(@"""[A-Za-z_.]*Exception""")),
        ("reflection", new Regex(@"\bSystem\.Reflection\b|(GetType\(\)|typeof\([^)]*\))\s*\.\s*Get(Property|Field|Method|Member)s?\s*\(")),
    ];

    /// <summary>
    /// ONNX Runtime's exception carries its error code only in its text ("[ErrorCode:NotImplemented] ..."); the one
    /// place that reads it turns it into OnnxUnsupportedException, which everything else matches by type.
    /// </summary>
    private static readonly string[] ReadsForeignText = [Path.Combine("src", "MlModels.Core", "Scoring", "Onnx", "OnnxUnsupportedException.cs")];

    [Fact]
    public void CoreAndServer_TellExceptionsByType()
    {
        var found = new List<string>();
        foreach (var (file, number, line) in CodeLines("src/MlModels.Core", "src/MlModels.Server"))
            foreach (var (what, pattern) in UntypedMatching)
            {
                var relative = Path.GetRelativePath(TestPaths.RepoRoot, file);
                bool allowed = pattern == UntypedMatching[0].Pattern && ReadsForeignText.Contains(relative);
                if (pattern.IsMatch(line) && !allowed) found.Add($"{relative}:{number}: {what}: {line.Trim()}");
            }
        Assert.True(found.Count == 0,
            "Exceptions must be recognised by their type (the server translates Kestrel's into Core's):\n" + string.Join("\n", found));
    }

    [Fact]
    public void Cmdlets_TellExceptionsByType()
    {
        var found = new List<string>();
        foreach (var (file, number, line) in CodeLines("src/MlModels.PowerShell"))
            if (UntypedMatching[0].Pattern.IsMatch(line)) found.Add($"{Path.GetRelativePath(TestPaths.RepoRoot, file)}:{number}: {line.Trim()}");
        Assert.True(found.Count == 0, "Cmdlets map exceptions by type, never by their message:\n" + string.Join("\n", found));
    }

    [Fact]
    public void Scan_CoversEveryFolderOfCoreAndServer()
    {
        var files = CodeLines("src/MlModels.Core", "src/MlModels.Server").Select(l => Path.GetRelativePath(TestPaths.RepoRoot, l.File)).ToHashSet();
        foreach (var expected in new[] { "Format/ModelStore.cs", "Scoring/Outputs.cs", "Scoring/Python/PythonWorker.cs", "Scoring/Onnx/OnnxScorer.cs",
                     "Serving/ScoringService.cs" })
            Assert.Contains(Path.Combine("src", "MlModels.Core", expected), files);
        Assert.Contains(Path.Combine("src", "MlModels.Server", "Program.cs"), files);
        Assert.DoesNotContain(files, f => f.Contains(Sep + "obj" + Sep) || f.Contains(Sep + "bin" + Sep));
    }

    /// <summary>Every line of the C# sources under the given folders (build output left out), comments passed over.</summary>
    private static IEnumerable<(string File, int Number, string Line)> CodeLines(params string[] roots)
    {
        foreach (var root in roots)
            foreach (var file in Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot, root), "*.cs", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(TestPaths.RepoRoot, file);
                if (relative.Contains(Sep + "obj" + Sep) || relative.Contains(Sep + "bin" + Sep)) continue;
                var lines = File.ReadAllLines(file);
                for (int i = 0; i < lines.Length; i++)
                {
                    var line = lines[i].TrimStart();
                    if (line.StartsWith("//", StringComparison.Ordinal)) continue;
                    yield return (file, i + 1, lines[i]);
                }
            }
    }

    /// <summary>Every [Parameter] property name of the module's cmdlets.</summary>
    private static HashSet<string> CmdletParameters()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot, "src", "MlModels.PowerShell", "Commands"), "*.cs"))
            foreach (Match m in Regex.Matches(File.ReadAllText(file), @"\[Parameter[^\]]*\][\s\S]*?public\s+[\w<>\[\]?.]+\s+(\w+)\s*\{"))
                names.Add(m.Groups[1].Value);
        return names;
    }
}
