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

    /// <summary>The MLmodel conformance corpus the repository carries (tests/conformance/mlmodel, see its SOURCES.md).</summary>
    public static string Conformance => Path.Combine(RepoRoot, "tests", "conformance", "mlmodel");

    /// <summary>MLflow 2.12.2's recorded answers to scoring requests (tests/conformance/scoring/README.md).</summary>
    public static string ScoringConformance => Path.Combine(RepoRoot, "tests", "conformance", "scoring");

    /// <summary>MLflow 2.12.2's recorded tracking and registry exchanges (tests/conformance/tracking/README.md).</summary>
    public static string TrackingConformance => Path.Combine(RepoRoot, "tests", "conformance", "tracking");

    public static string Examples => Path.Combine(RepoRoot, "examples");

    /// <summary>A new empty folder under this test process's own temp root, which goes when the process exits.</summary>
    public static string NewTempDir()
    {
        var d = Path.Combine(TempRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    private static readonly string TempRoot = CreateTempRoot();

    // One root per test process, removed at exit: a test that keeps its folder for a failure's evidence leaves
    // nothing behind once the run is over, and concurrent runs never remove each other's.
    private static string CreateTempRoot()
    {
        var root = Path.Combine(Path.GetTempPath(), "mlmodels-tests", $"{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { } // a container's root-owned files
        };
        return root;
    }
}

internal static class Prerequisites
{
    public static bool InCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>Skips outside CI when a tool is missing; in CI a missing tool is a failure, since CI installs it.</summary>
    public static void Require(bool present, string what)
    {
        if (present) return;
        if (InCi) throw new InvalidOperationException($"CI must provide {what}, but it is missing.");
        Skip.If(true, $"{what} is not installed here; CI installs it.");
    }

    public const string DebianPython = "/usr/bin/python3";

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> Imports = new();

    /// <summary>Whether Debian's Python imports the modules (asked once per list: importing sklearn takes seconds).</summary>
    public static bool PythonHas(string modules) => Imports.GetOrAdd(modules, TryImport);

    private static bool TryImport(string modules)
    {
        if (!File.Exists(DebianPython)) return false;
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(DebianPython, ["-c", $"import {modules}"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        // Importing sklearn on a loaded machine can take long; a slow answer is not a missing module.
        if (!p.WaitForExit(180_000))
        {
            p.Kill();
            throw new TimeoutException($"{DebianPython} took more than 180 s to import {modules}.");
        }
        return p.ExitCode == 0;
    }
}
