using System.Text.RegularExpressions;

namespace MlModels.Core.Tests;

/// <summary>
/// Core serves the server and the cmdlets alike, so what it says names no cmdlet parameter: it raises typed exceptions,
/// and the cmdlets add the PowerShell advice. Checked for the folders that keep to it: Format, Serving and Python
/// environments. Tracking (settings named by their -TrackingUri/-Credential source) and Deploy do not yet.
/// </summary>
[Trait("Category", "Fast")]
public class LayeringTests
{
    [Fact]
    public void CoreMessages_NameNoCmdletParameter()
    {
        var parameters = CmdletParameters();
        Assert.Contains("Force", parameters);
        Assert.Contains("PythonPath", parameters);
        var found = new List<string>();
        var core = Path.Combine(TestPaths.RepoRoot, "src", "MlModels.Core");
        var files = Directory.EnumerateFiles(Path.Combine(core, "Format"), "*.cs", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(core, "Serving"), "*.cs", SearchOption.AllDirectories))
            .Append(Path.Combine(core, "Scoring", "Python", "PythonEnvironments.cs"));
        foreach (var file in files)
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].TrimStart();
                if (line.StartsWith("//", StringComparison.Ordinal)) continue;
                foreach (Match literal in Regex.Matches(line, "\"(?:[^\"\\\\]|\\\\.)*\""))
                foreach (Match p in Regex.Matches(literal.Value, @"(?<![\w-])-([A-Z][A-Za-z]+)\b"))
                    if (parameters.Contains(p.Groups[1].Value))
                        found.Add($"{Path.GetRelativePath(TestPaths.RepoRoot, file)}:{i + 1}: -{p.Groups[1].Value}");
            }
        }
        Assert.True(found.Count == 0, "Core strings name cmdlet parameters (raise a typed exception and let the cmdlet give the advice):\n" + string.Join("\n", found));
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
