using System.Diagnostics;
using System.Text.Json;
using CsCheck;
using MlModels.Core.Scoring;

namespace MlModels.Core.Tests.Robustness;

/// <summary>Repeated and empty CSV header names come out as pandas' read_csv names them (MLflow reads CSV with pandas).</summary>
public class PandasNamesTests
{
    [Trait("Category", "Fast")]
    [Theory]
    [InlineData("f0,f0,x1", "f0,f0.1,x1")]
    [InlineData("x1,x1.1,x1", "x1,x1.1,x1.2")]
    [InlineData("a,a,a,a.1", "a,a.2,a.3,a.1")]
    [InlineData("a,,b,", "a,Unnamed: 1,b,Unnamed: 3")]
    public void RepeatedNames_AreRenamedAsPandasDoes(string header, string expected) =>
        Assert.Equal(expected.Split(','), PandasNames.FromCsvHeader(header.Split(',')));

    [Trait("Category", "Python")]
    [SkippableFact]
    public void RandomHeaders_MatchPandasReadCsv()
    {
        Prerequisites.Require(Prerequisites.PythonHas("pandas"), "Debian's python3-pandas");
        var gen = Gen.OneOf("a", "a", "a.1", "a.2", "a.1.1", "", "b", "b.1", "Unnamed: 1", "Unnamed: 2", "Unnamed: 2.1").Array[1, 7]
            .Where(h => h.Length > 1 || h[0].Length > 0); // a lone empty name is a blank line, which pandas skips
        var headers = new List<string[]>();
        var seeds = new PCG(31, 20261126UL);
        for (int i = 0; i < 400; i++) { gen.Sample(h => headers.Add(h), seed: seeds.ToString(), iter: 1, threads: 1); seeds.Next64(); }

        var psi = new ProcessStartInfo(Prerequisites.DebianPython, ["-c", """
            import io, json, sys
            import pandas as pd
            for line in sys.stdin:
                h = json.loads(line)
                csv = ",".join(h) + "\n" + ",".join("1" for _ in h) + "\n"
                print(json.dumps([str(c) for c in pd.read_csv(io.StringIO(csv)).columns]))
            """]) { RedirectStandardInput = true, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        foreach (var h in headers) p.StandardInput.WriteLine(JsonSerializer.Serialize(h));
        p.StandardInput.Close();
        foreach (var h in headers)
        {
            var pandas = JsonSerializer.Deserialize<string[]>(p.StandardOutput.ReadLine()!)!;
            Assert.True(pandas.SequenceEqual(PandasNames.FromCsvHeader(h)), $"[{string.Join(",", h)}]: pandas [{string.Join(",", pandas)}], ours [{string.Join(",", PandasNames.FromCsvHeader(h))}]");
        }
        Assert.True(p.WaitForExit(60_000));
    }
}
