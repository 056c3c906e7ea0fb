namespace MlModels.Core.Tests;

internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "MlModels.PowerShell.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root.");
    }

    /// <summary>The MLmodel conformance corpus beside the project (../shared), or MLMODELS_CONFORMANCE.</summary>
    public static string Conformance =>
        Environment.GetEnvironmentVariable("MLMODELS_CONFORMANCE") ?? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "conformance", "mlmodel"));

    public static string Examples => Path.Combine(RepoRoot, "examples");

    public static string NewTempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "mlmodels-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}
