using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MlModels.Core.Scoring.Onnx;

/// <summary>
/// Measure-MLModel's benchmark: metrics only (no -OutputPath), 1,000,000 rows × 10 features, an ONNX regressor, the
/// whole command in a warm pwsh, against the least work mlflow.evaluate does for it in Python
/// (bench/python_evaluate_limit.py: read_csv, an equivalent scikit-learn model's predict, scikit-learn's metric functions),
/// alternating run by run; then the peak RSS of a fresh pwsh measuring a regressor on a CSV of --rss-gb gigabytes.
/// Usage: dotnet run -c Release --project bench/MlModels.Bench -- evaluate [--rows N] [--runs N] [--rss-gb G] [--work DIR]
/// </summary>
static class EvaluateBench
{
    public static int Run(string repo, Options opt)
    {
        var module = Path.Combine(repo, "out/MlModels");
        if (!File.Exists(Path.Combine(module, "MlModels.psd1"))) { Console.Error.WriteLine("run 'dotnet pwsh ./build.ps1 build' first"); return 2; }
        Directory.CreateDirectory(opt.Work);
        RunProcess("/usr/bin/python3", [Path.Combine(repo, "bench/make_models.py"), opt.Work]);
        var onnx = Path.Combine(opt.Work, "linear.onnx");
        var modelDir = Path.Combine(opt.Work, "model-linear-eval");
        if (Directory.Exists(modelDir)) Directory.Delete(modelDir, true);
        OnnxPackager.Save(onnx, modelDir);
        var csv = Path.Combine(opt.Work, $"labelled-{opt.Rows}.csv");
        if (!File.Exists(csv)) WriteLabelled(csv, opt.Rows);
        Console.WriteLine($"evaluate: Measure-MLModel -Path <linear ONNX> -InputCsv <{opt.Rows:N0} rows x 10 + y> -Target y -ModelType Regressor,");
        Console.WriteLine($"  in one warm pwsh, alternating with bench/python_evaluate_limit.py; {opt.Runs} runs after a warm-up, {Environment.ProcessorCount} cores");
        const string command = "$e = Measure-MLModel -Path $model -InputCsv $csv -Target y -ModelType Regressor 3>$null";
        using var pwsh = PwshSession.Start(repo, $"Import-Module '{module}'; $model = '{modelDir}'; $csv = '{csv}'", command);
        pwsh.Time();
        var (py0, _, pyMetrics) = Python(repo, onnx, csv);
        var ours = Metrics(repo, module, modelDir, csv);
        foreach (var (k, v) in pyMetrics)
        {
            var o = ours[k];
            if (Math.Abs(o - v) > 1e-6 * Math.Max(1, Math.Abs(v))) throw new InvalidOperationException($"{k}: Measure-MLModel {o}, scikit-learn {v}");
        }
        Console.WriteLine($"  metrics agree with scikit-learn's (float32 ONNX output vs float64 sklearn predict: 1e-6 relative); warm-up pandas {py0:F3}s");
        var c = new List<double>(); var cc = new List<double>(); var py = new List<double>(); var pyc = new List<double>();
        for (int run = 0; run < opt.Runs; run++)
        {
            var (a, ac) = pwsh.Time(); c.Add(a); cc.Add(ac);
            var (b, bc, _) = Python(repo, onnx, csv); py.Add(b); pyc.Add(bc);
            Console.WriteLine($"  run {run + 1}: Measure-MLModel {a:F3}s ({ac:F2} CPU s), python {b:F3}s ({bc:F2} CPU s), ratio {b / a:F2}x");
        }
        Console.WriteLine($"median: Measure-MLModel {Median(c):F3}s ({Median(cc):F2} CPU s), python {Median(py):F3}s ({Median(pyc):F2} CPU s)");
        Console.WriteLine($"median of per-run ratios python / Measure-MLModel: {Median(py.Zip(c, (x, y) => x / y).ToList()):F2}x wall (goal >= 4), " +
            $"{Median(pyc.Zip(cc, (x, y) => x / y).ToList()):F2}x CPU");
        if (opt.RssGb > 0)
        {
            var big = Path.Combine(opt.Work, $"labelled-{opt.RssGb:0.##}gb.csv");
            if (!File.Exists(big)) WriteLabelled(big, (int)(opt.RssGb * 1e9 / 100));
            var psi = new ProcessStartInfo("dotnet", ["pwsh", "-NoProfile", "-NonInteractive", "-Command",
                $"$ErrorActionPreference='Stop'; Import-Module '{module}'; $t = Measure-Command {{ $e = Measure-MLModel -Path '{modelDir}' -InputCsv '{big}' -Target y -ModelType Regressor 3>$null }}; " +
                "$h = (Get-Content /proc/self/status | Where-Object { $_ -like 'VmHWM*' }); \"$($e.RowCount) rows, $($t.TotalSeconds) s, $h\""])
            { RedirectStandardOutput = true, WorkingDirectory = repo };
            using var p = Process.Start(psi)!;
            var line = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            Console.WriteLine($"peak RSS of a fresh pwsh measuring a regressor on {new FileInfo(big).Length / 1e9:F2} GB of CSV: {line} (goal < 300 MB)");
        }
        return 0;
    }

    /// <summary>Where the time goes, in this process: the CSV read alone, read and scored, the whole evaluation, the hash alone.</summary>
    public static int Profile(string repo, Options opt)
    {
        var modelDir = Path.Combine(opt.Work, "model-linear-eval");
        var csv = Path.Combine(opt.Work, $"labelled-{opt.Rows}.csv");
        var model = MlModels.Core.Format.ModelStore.Load(modelDir);
        var scorer = MlModels.Core.Scoring.PredictionEngine.OnnxScorerFor(model);
        var planner = MlModels.Core.Evaluation.ModelEvaluator.Planner(scorer, "y", MlModels.Core.Evaluation.EvaluationModelType.Regressor, null);
        var options = new MlModels.Core.Evaluation.EvaluationOptions { ModelType = MlModels.Core.Evaluation.EvaluationModelType.Regressor, Target = "y", KeepSample = false };
        IEnumerable<MlModels.Core.Scoring.Frame> Read() =>
            MlModels.Core.Scoring.PredictionEngine.Prefetch(MlModels.Core.Scoring.CsvInput.Read(csv, planner, 10_000), 2, default);
        for (int run = 0; run < opt.Runs; run++)
        {
            var read = Time(() => { foreach (var _ in Read()) { } });
            var scored = Time(() =>
            {
                foreach (var f in Read())
                {
                    var features = new MlModels.Core.Scoring.Frame(f.Names.Take(10).ToList(), f.Columns.Take(10).ToList(), f.RowCount, f.FirstRow);
                    scorer.Predict(MlModels.Core.Scoring.PredictionEngine.Enforce(scorer, features, true), null).ToTable();
                }
            });
            var whole = Time(() => MlModels.Core.Evaluation.ModelEvaluator.Evaluate(scorer, null, Read(), options, null));
            var hash = Time(() => System.Security.Cryptography.SHA256.HashData(File.OpenRead(csv)));
            Console.WriteLine($"  read {read:F3}s, read+score {scored:F3}s, evaluate {whole:F3}s, sha256 {hash:F3}s");
        }
        return 0;
    }

    private static double Time(Action a)
    {
        var sw = Stopwatch.StartNew();
        a();
        return sw.Elapsed.TotalSeconds;
    }

    private static (double Wall, double Cpu, Dictionary<string, double> Metrics) Python(string repo, string onnx, string csv)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(repo, "bench/python_evaluate_limit.py"), onnx, csv, "y"]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var json = JsonDocument.Parse(p.StandardOutput.ReadToEnd());
        p.WaitForExit();
        var metrics = json.RootElement.GetProperty("metrics").EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetDouble());
        return (json.RootElement.GetProperty("wall").GetDouble(), json.RootElement.GetProperty("cpu").GetDouble(), metrics);
    }

    private static Dictionary<string, double> Metrics(string repo, string module, string modelDir, string csv)
    {
        var psi = new ProcessStartInfo("dotnet", ["pwsh", "-NoProfile", "-NonInteractive", "-Command",
            $"$ErrorActionPreference='Stop'; Import-Module '{module}'; (Measure-MLModel -Path '{modelDir}' -InputCsv '{csv}' -Target y -ModelType Regressor 3>$null).Metrics | ConvertTo-Json -Compress"])
        { RedirectStandardOutput = true, WorkingDirectory = repo };
        using var p = Process.Start(psi)!;
        var json = JsonDocument.Parse(p.StandardOutput.ReadToEnd());
        p.WaitForExit();
        return json.RootElement.EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetDouble());
    }

    private static void RunProcess(string exe, IEnumerable<string> arguments)
    {
        using var p = Process.Start(new ProcessStartInfo(exe, arguments) { RedirectStandardOutput = true })!;
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} exited with {p.ExitCode}");
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    /// <summary>10 float features and a target y that is a noisy linear function of them.</summary>
    private static void WriteLabelled(string path, int rows)
    {
        var rng = new Random(11);
        using var w = new StreamWriter(path, false, new System.Text.UTF8Encoding(false), 1 << 20);
        w.Write("f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,y\n");
        Span<char> buf = stackalloc char[32];
        for (int r = 0; r < rows; r++)
        {
            double y = 0.5;
            for (int c = 0; c < 10; c++)
            {
                if (c > 0) w.Write(',');
                var v = (float)(rng.NextDouble() * 10 - 5);
                y += v * (c % 3 - 1) * 0.3;
                v.TryFormat(buf, out var n, "F6", CultureInfo.InvariantCulture);
                w.Write(buf[..n]);
            }
            w.Write(',');
            (y + rng.NextDouble() - 0.5).TryFormat(buf, out var m, "F6", CultureInfo.InvariantCulture);
            w.Write(buf[..m]);
            w.Write('\n');
        }
    }
}
