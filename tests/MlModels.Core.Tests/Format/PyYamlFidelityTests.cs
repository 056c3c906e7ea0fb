using System.Diagnostics;
using MlModels.Core.Format;

namespace MlModels.Core.Tests.Format;

/// <summary>What we write reads, with PyYAML's safe_load (MLflow's reader), as the same values as the original file.</summary>
[Trait("Category", "Python")]
public class PyYamlFidelityTests
{
    [SkippableFact]
    public void EveryConformanceModel_WrittenByUs_LoadsInPyYamlAsTheOriginalDoes()
    {
        Prerequisites.Require(Prerequisites.PythonHas("yaml"), "python3-yaml (Debian)");
        var dir = TestPaths.NewTempDir();
        var pairs = new List<string>();
        var folders = Directory.GetDirectories(TestPaths.Conformance).Where(d => !d.Contains("negative")).Order()
            .Concat(Directory.GetDirectories(TestPaths.Examples)); // includes the 0.x model with a plain time_created timestamp
        foreach (var folder in folders)
        {
            foreach (var file in Directory.GetFiles(folder, "MLmodel*"))
            {
                MLModel model;
                try { model = ModelStore.Load(file); }
                catch (MLModelFormatException) { continue; } // the deliberately invalid variant
                if (model.IsFirstPyfuncLayout) continue; // written in the current layout on purpose (FirstPyfuncLayoutTests)
                var ours = Path.Combine(dir, $"{pairs.Count}.MLmodel");
                File.WriteAllText(ours, model.ToYaml());
                pairs.Add($"{file}\t{ours}");
            }
        }
        var list = Path.Combine(dir, "pairs.tsv");
        File.WriteAllLines(list, pairs);
        var psi = new ProcessStartInfo(Prerequisites.DebianPython, [Path.Combine(TestPaths.RepoRoot, "tests/fixtures/compare_with_pyyaml.py"), list])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, error);
        Assert.DoesNotContain("DIFF", output);
        Assert.Contains($"ok {pairs.Count}", output);
        Assert.True(pairs.Count >= 58, $"only {pairs.Count} MLmodel files compared");
    }
}
