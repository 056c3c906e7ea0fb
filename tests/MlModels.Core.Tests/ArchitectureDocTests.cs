using System.Text.RegularExpressions;

namespace MlModels.Core.Tests;

/// <summary>
/// docs/ARCHITECTURE.md is what a newcomer reads first, so it names every project: a folder under src/ or tests/ that
/// holds a *.csproj and is not named there (as `src/Name` or `tests/Name`, alone or followed by a subfolder) fails here.
/// </summary>
[Trait("Category", "Fast")]
public class ArchitectureDocTests
{
    [Fact]
    public void EveryProjectUnderSrcAndTests_IsNamedInArchitectureDoc()
    {
        var doc = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "ARCHITECTURE.md"));
        var projects = ProjectFolders();
        Assert.Contains("src/MlModels.Core", projects);
        Assert.Contains("tests/MlModels.Core.Tests", projects);
        var missing = projects.Where(p => !Names(doc, p)).ToList();
        Assert.True(missing.Count == 0,
            "docs/ARCHITECTURE.md does not name these projects (add a row for each to its table):\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Names_MatchesWholeFolderNamesOnly()
    {
        Assert.True(Names("| `src/MlModels.Deploy/Docker/` | Images |", "src/MlModels.Deploy"));
        Assert.True(Names("| `tests/MlModels.Deploy.Tests/` | xUnit |", "tests/MlModels.Deploy.Tests"));
        Assert.False(Names("| `tests/MlModels.Deploy.Tests/` | xUnit |", "tests/MlModels.Deploy"));
        Assert.False(Names("see src/MlModels.CoreExtras", "src/MlModels.Core"));
    }

    /// <summary>Folders under src/ and tests/ that hold a project file, relative to the root with forward slashes.</summary>
    private static List<string> ProjectFolders() =>
        new[] { "src", "tests" }
            .SelectMany(top => Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot, top), "*.csproj", SearchOption.AllDirectories))
            .Select(file => Path.GetRelativePath(TestPaths.RepoRoot, Path.GetDirectoryName(file)!).Replace('\\', '/'))
            .Where(folder => !folder.Split('/').Any(part => part is "bin" or "obj"))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Whether the text names the folder: its path, not as the start of a longer name.</summary>
    private static bool Names(string text, string folder) =>
        Regex.IsMatch(text, @"(?<![\w./-])" + Regex.Escape(folder) + @"(?![\w.-])");
}
