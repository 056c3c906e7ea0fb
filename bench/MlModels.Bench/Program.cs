// Scoring benchmark: CSV -> ONNX model -> predictions CSV, against the limit (raw ONNX Runtime on in-memory tensors
// plus Sep parsing the same file) and against Python (pandas read_csv + numpy + to_csv), all measured in this run.
// Run: dotnet run -c Release --project bench/MlModels.Bench -- [--rows N] [--runs N] [--rss-gb G] [--pipeline-rows N] [--work DIR]
// The cmdlet in a pwsh beside the in-process path and pandas (needs out/MlModels): ... -- cmdlet [--rows N] [--runs N] [--skip-python]
// Start-up and whole commands against Python (needs out/MlModels): ... -- startup [--rows N] [--runs N]
// S3 downloads through the module's artifact stores against boto3 (needs moto): ... -- downloads [--mb N] [--files N] [--runs N]
// Open Inference over gRPC (typed and raw) against REST on one server (needs the server built): ... -- grpc [seconds] [rounds]
// MLflow's xgboost and pytorch flavors through the Python worker against their predict inside Python: ... -- flavors [--rows N] [--runs N] [--python-batch N]
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Onnx;
using nietras.SeparatedValues;

if (args.Length > 0 && args[0] == "rss") return Rss(args[1], args[2], args[3]);
if (args.Length > 0 && args[0] == "wrap") { OnnxPackager.Save(args[1], args[2]); return 0; }
if (args.Length > 0 && args[0] == "limit-server") return LimitServer.Run(int.Parse(args[1], CultureInfo.InvariantCulture), args[2]);
if (args.Length > 0 && args[0] == "cmdlet") return CmdletPath(new Options(args[1..]));
if (args.Length > 0 && args[0] == "startup") return Startup(new Options(args[1..]));
if (args.Length > 0 && args[0] == "flavors") return Flavors(new Options(args[1..]));
if (args.Length > 0 && args[0] == "downloads") return Downloads.Run(args[1..]);
if (args.Length > 0 && args[0] == "evaluate-profile") return EvaluateBench.Profile(FindRepo(), new Options(args[1..]));
if (args.Length > 0 && args[0] == "grpc") return GrpcBench.Run(FindRepo(), args[1..]);
if (args.Length > 0 && args[0] == "evaluate") return EvaluateBench.Run(FindRepo(), new Options(args[1..]));
// For a profiler (dotnet-trace collect -- ...): the in-process path alone, N times over.
if (args.Length > 0 && args[0] == "repeat")
{
    var me = Process.GetCurrentProcess();
    for (int i = 0; i < int.Parse(args[1], CultureInfo.InvariantCulture); i++)
    {
        me.Refresh();
        var cpu = me.TotalProcessorTime;
        var wall = Time(() => ScoreWithModule(args[2], args[3], args[4]));
        me.Refresh();
        Console.WriteLine($"{wall:F3}s {(me.TotalProcessorTime - cpu).TotalSeconds:F2} CPU s");
    }
    return 0;
}

var opt = new Options(args);
var repo = FindRepo();
Directory.CreateDirectory(opt.Work);
Console.WriteLine($"MlModels scoring benchmark: {opt.Rows:N0} rows x 10 float columns, median of {opt.Runs} runs, {Environment.ProcessorCount} cores, work dir {opt.Work}");

Run("/usr/bin/python3", [Path.Combine(repo, "bench/make_models.py"), opt.Work]);
var csv = Path.Combine(opt.Work, $"input-{opt.Rows}.csv");
if (!File.Exists(csv)) WriteCsv(csv, opt.Rows);
Console.WriteLine($"input: {csv} ({new FileInfo(csv).Length / 1e6:N0} MB)\n");

Console.WriteLine($"{"model",-8} {"this module",12} {"limit",10} {"  (ORT",8} {"+ Sep)",8} {"python",10} {"vs limit",9} {"python/this",12}");
foreach (var name in new[] { "linear", "mlp" })
{
    var onnx = Path.Combine(opt.Work, name + ".onnx");
    var modelDir = Path.Combine(opt.Work, "model-" + name);
    if (Directory.Exists(modelDir)) Directory.Delete(modelDir, true);
    OnnxPackager.Save(onnx, modelDir);
    ScoreWithModule(modelDir, csv, Path.Combine(opt.Work, "out-" + name + ".csv")); // warm-up: JIT and page cache
    var ours = new List<double>(); var ort = new List<double>(); var sep = new List<double>(); var py = new List<double>();
    for (int run = 0; run < opt.Runs; run++)
    {
        ours.Add(Time(() => ScoreWithModule(modelDir, csv, Path.Combine(opt.Work, "out-" + name + ".csv"))));
        var (parse, data) = TimeSepParse(csv);
        sep.Add(parse);
        ort.Add(TimeRawOrt(onnx, data, opt.Rows));
        if (!opt.SkipPython)
            py.Add(PythonBaseline(repo, onnx, csv, Path.Combine(opt.Work, "out-py.csv")).Wall);
    }
    double m = Median(ours), lim = Median(ort) + Median(sep), p = py.Count > 0 ? Median(py) : double.NaN;
    Console.WriteLine($"{name,-8} {m,11:F2}s {lim,9:F2}s {Median(ort),7:F2}s {Median(sep),7:F2}s {p,9:F2}s {m / lim,8:F2}x {p / m,11:F1}x");
}

if (!opt.SkipPython) PythonWorker(repo, opt, csv);
if (opt.PipelineRows > 0) PipelineRate(repo, opt);
if (opt.RssGb > 0) PeakRss(opt);
return 0;

static void ScoreWithModule(string modelDir, string csv, string output)
{
    var model = ModelStore.Load(modelDir);
    var scorer = PredictionEngine.OnnxScorerFor(model);
    using var writer = PredictionFileWriter.Create(output, PredictionFormat.Csv, includeInput: false, overwrite: true);
    foreach (var (input, result) in PredictionEngine.Prefetch(PredictionEngine.ScoreFrames(scorer, PredictionEngine.CsvFrames(scorer, csv, 10_000, null)), 2, default))
        writer.Write(input, result);
    writer.Commit();
}

// The cmdlet as a user runs it, in one pwsh kept open, alternating with the in-process path and pandas on the same
// file, so that the three are measured under the same load. CPU seconds (all threads) are given beside wall seconds:
// on a shared machine they show the work done, whatever the scheduler does.
static int CmdletPath(Options opt)
{
    var repo = FindRepo();
    var module = Path.Combine(repo, "out/MlModels");
    if (!File.Exists(Path.Combine(module, "MlModels.psd1"))) { Console.Error.WriteLine("run 'dotnet pwsh ./build.ps1 build' first"); return 2; }
    Directory.CreateDirectory(opt.Work);
    Run("/usr/bin/python3", [Path.Combine(repo, "bench/make_models.py"), opt.Work]);
    var csv = Path.Combine(opt.Work, $"input-{opt.Rows}.csv");
    if (!File.Exists(csv)) WriteCsv(csv, opt.Rows);
    var onnx = Path.Combine(opt.Work, "linear.onnx");
    var modelDir = Path.Combine(opt.Work, "model-linear");
    if (Directory.Exists(modelDir)) Directory.Delete(modelDir, true);
    OnnxPackager.Save(onnx, modelDir);
    string ours = Path.Combine(opt.Work, "out-inproc.csv"), viaCmdlet = Path.Combine(opt.Work, "out-cmdlet.csv"), viaPython = Path.Combine(opt.Work, "out-py.csv");
    Console.WriteLine($"cmdlet path: Invoke-MLModelPrediction -Path <linear model> -InputCsv <{opt.Rows:N0} rows x 10> -OutputPath x.csv -Force,");
    Console.WriteLine($"  in one pwsh, alternating with the same Core path in this process and with pandas; {opt.Runs} runs after a warm-up, {Environment.ProcessorCount} cores");

    const string command = "Invoke-MLModelPrediction -Path $model -InputCsv $csv -OutputPath $out -Force 3>$null";
    using var pwsh = PwshSession.Start(repo, $"Import-Module '{module}'; $model = '{modelDir}'; $csv = '{csv}'; $out = '{viaCmdlet}'", command);
    var self = Process.GetCurrentProcess();
    (double Wall, double Cpu) InProcess()
    {
        self.Refresh();
        var cpu = self.TotalProcessorTime;
        var wall = Time(() => ScoreWithModule(modelDir, csv, ours));
        self.Refresh();
        return (wall, (self.TotalProcessorTime - cpu).TotalSeconds);
    }
    InProcess(); pwsh.Time(); // warm-up: JIT on both sides, page cache
    if (!File.ReadAllBytes(ours).AsSpan().SequenceEqual(File.ReadAllBytes(viaCmdlet))) throw new InvalidOperationException("the cmdlet's predictions differ from the in-process path's");
    var w = new List<double>(); var wc = new List<double>(); var c = new List<double>(); var cc = new List<double>(); var py = new List<double>(); var pyc = new List<double>(); var first = new List<double>(); var firstc = new List<double>();
    for (int run = 0; run < opt.Runs; run++)
    {
        var (a, ac) = InProcess(); w.Add(a); wc.Add(ac);
        var (b, bc) = pwsh.Time(); c.Add(b); cc.Add(bc);
        if (!opt.SkipPython) { var (pw, pc) = PythonBaseline(repo, onnx, csv, viaPython); py.Add(pw); pyc.Add(pc); }
        // The first call of a fresh session, as a script run once pays it: JIT and tier-up of the whole path.
        using (var fresh = PwshSession.Start(repo, $"Import-Module '{module}'; $model = '{modelDir}'; $csv = '{csv}'; $out = '{viaCmdlet}'", command))
        { var (f, fc) = fresh.Time(); first.Add(f); firstc.Add(fc); }
        Console.WriteLine($"  run {run + 1}: in-process {a:F3}s ({ac:F2} CPU s), cmdlet {b:F3}s ({bc:F2} CPU s), cmdlet first call {first[^1]:F3}s ({firstc[^1]:F2} CPU s){(py.Count > 0 ? $", pandas {py[^1]:F3}s ({pyc[^1]:F2} CPU s)" : "")}");
    }
    double mw = Median(w), mc = Median(c), mp = py.Count > 0 ? Median(py) : double.NaN;
    Console.WriteLine($"median: in-process {mw:F3}s ({Median(wc):F2} CPU s), cmdlet {mc:F3}s ({Median(cc):F2} CPU s), pandas {mp:F3}s ({(pyc.Count > 0 ? Median(pyc) : double.NaN):F2} CPU s)");
    Console.WriteLine($"first call in a fresh pwsh: {Median(first):F3}s ({Median(firstc):F2} CPU s) = {Median(first) / mw:F2}x the in-process path");
    Console.WriteLine($"ratio of medians: cmdlet / in-process {mc / mw:F3}x wall (goal <= 1.10), {Median(cc) / Median(wc):F3}x CPU; pandas / cmdlet {mp / mc:F2}x (goal >= 5); pandas / in-process {mp / mw:F2}x");
    // Each run's pair ran back to back under the same load, so the median of the pairs' ratios is the steadier number here.
    static double PairRatio(List<double> a, List<double> b) => Median(a.Zip(b, (x, y) => x / y).ToList());
    Console.WriteLine($"median of per-run ratios: cmdlet / in-process {PairRatio(c, w):F3}x wall, {PairRatio(cc, wc):F3}x CPU" +
        (py.Count > 0 ? $"; pandas / cmdlet {PairRatio(py, c):F2}x wall, {PairRatio(pyc, cc):F2}x CPU" : ""));
    return 0;
}

// Start-up: module import, Get-MLModel on a model not loaded before, the server from launch to its first /ping, a
// Python worker from start to its first prediction, and whole commands (`pwsh -c "Get-MLModel m | Invoke-MLModelPrediction
// ..."`, the module found through PSModulePath as a user's would be) against bench/python_predict_cli.py, which does
// what `mlflow models predict` does. Each run starts fresh processes, alternating between the sides.
static int Startup(Options opt)
{
    var repo = FindRepo();
    var module = Path.Combine(repo, "out/MlModels");
    if (!File.Exists(Path.Combine(module, "MlModels.psd1"))) { Console.Error.WriteLine("run 'dotnet pwsh ./build.ps1 build' first"); return 2; }
    Directory.CreateDirectory(opt.Work);
    Run("/usr/bin/python3", [Path.Combine(repo, "bench/make_models.py"), opt.Work]);
    var sklearn = Path.Combine(opt.Work, "model-sklearn-linear");
    Run("/usr/bin/python3", [Path.Combine(repo, "bench/make_sklearn_model.py"), sklearn, "linear"]);
    var onnxModel = Path.Combine(opt.Work, "model-linear");
    if (Directory.Exists(onnxModel)) Directory.Delete(onnxModel, true);
    OnnxPackager.Save(Path.Combine(opt.Work, "linear.onnx"), onnxModel);
    var small = Path.Combine(opt.Work, "input-10.csv");
    if (!File.Exists(small)) WriteCsv(small, 10);
    var big = Path.Combine(opt.Work, $"input-{opt.Rows}.csv");
    if (!File.Exists(big)) WriteCsv(big, opt.Rows);
    Console.WriteLine($"start-up and whole commands, {opt.Runs} runs (fresh processes each), {Environment.ProcessorCount} cores; pwsh is 'dotnet pwsh' (the repository's local tool)");

    // The Python with scikit-learn (Debian's), as MLMODELS_PYTHON names it for the cmdlets and the server.
    var env = new Dictionary<string, string>
    {
        ["PSModulePath"] = Path.Combine(repo, "out") + Path.PathSeparator + Environment.GetEnvironmentVariable("PSModulePath"),
        ["MLMODELS_PYTHON"] = "/usr/bin/python3",
    };
    string[] Pwsh(string script) => ["pwsh", "-NoProfile", "-NonInteractive", "-Command", script];
    var results = new Dictionary<string, List<double>>();
    void Add(string key, double v) { if (!results.TryGetValue(key, out var l)) results[key] = l = []; l.Add(v); }
    for (int run = 0; run < opt.Runs; run++)
    {
        Add("pwsh -c exit", TimeProcess("dotnet", Pwsh("exit"), repo, env));
        var inside = Run("dotnet", Pwsh($"$i = Measure-Command {{ Import-Module '{module}' }}; $g = Measure-Command {{ $null = Get-MLModel '{sklearn}' }}; " +
            "[string]::Format([cultureinfo]::InvariantCulture, '{0} {1}', $i.TotalSeconds, $g.TotalSeconds)"), repo).Trim().Split(' ');
        Add("Import-Module", double.Parse(inside[0], CultureInfo.InvariantCulture));
        Add("Get-MLModel, first in the session", double.Parse(inside[1], CultureInfo.InvariantCulture));
        Add("server start to first /ping (onnx)", ServerToPing(module, onnxModel, env));
        Add("server start to first /ping (sklearn)", ServerToPing(module, sklearn, env));
        Add("Python worker start to first prediction", Time(() =>
        {
            var model = ModelStore.Load(sklearn);
            using var scorer = MlModels.Core.Scoring.Python.PythonScorer.Start(model, new MlModels.Core.Scoring.Python.PythonOptions("/usr/bin/python3"));
            scorer.Predict(new FrameInput(CsvInput.Read(small, names => scorer.PlanColumns(names, null), 10).First()), null);
        }));
        foreach (var (label, csv) in new[] { ("10 rows", small), ($"{opt.Rows:N0} rows", big) })
        {
            var ours = Path.Combine(opt.Work, "whole-ours.json");
            var theirs = Path.Combine(opt.Work, "whole-python.json");
            Add($"whole command, sklearn, {label}: pwsh", TimeProcess("dotnet", Pwsh($"Get-MLModel '{sklearn}' | Invoke-MLModelPrediction -InputCsv '{csv}' -OutputPath '{ours}' -Force"), repo, env));
            Add($"whole command, sklearn, {label}: python", TimeProcess("/usr/bin/python3", [Path.Combine(repo, "bench/python_predict_cli.py"), sklearn, csv, theirs], repo, null));
        }
        Console.WriteLine($"  run {run + 1} done");
    }
    Console.WriteLine();
    foreach (var (key, values) in results) Console.WriteLine($"{key,-48} median {Median(values),7:F3}s  (runs: {string.Join(" ", values.Select(v => v.ToString("F2", CultureInfo.InvariantCulture)))})");
    foreach (var label in new[] { "10 rows", $"{opt.Rows:N0} rows" })
    {
        double p = Median(results[$"whole command, sklearn, {label}: pwsh"]), y = Median(results[$"whole command, sklearn, {label}: python"]);
        Console.WriteLine($"whole command, sklearn, {label}: python / pwsh = {y / p:F2}x");
    }
    return 0;
}

static double TimeProcess(string exe, IEnumerable<string> arguments, string cwd, IReadOnlyDictionary<string, string>? env)
{
    var psi = new ProcessStartInfo(exe, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = cwd };
    if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
    var sw = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    var stdout = p.StandardOutput.ReadToEndAsync();
    var stderr = p.StandardError.ReadToEnd();
    p.WaitForExit();
    sw.Stop();
    if (p.ExitCode != 0 || stderr.Length > 0) throw new InvalidOperationException($"{exe} {string.Join(' ', arguments)} failed ({p.ExitCode}): {stderr}{stdout.Result}");
    return sw.Elapsed.TotalSeconds;
}

// The server as Start-MLModelServer runs it (dotnet dependencies/MlModels.Server.dll), from launch to a 200 from /ping.
static double ServerToPing(string module, string modelDir, IReadOnlyDictionary<string, string> env)
{
    int port;
    using (var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0)) { l.Start(); port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port; }
    var psi = new ProcessStartInfo("dotnet", [Path.Combine(module, "dependencies/MlModels.Server.dll"), "--model", modelDir, "--port", port.ToString(CultureInfo.InvariantCulture)])
    { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
    foreach (var (k, v) in env) psi.Environment[k] = v;
    using var http = new System.Net.Http.HttpClient { Timeout = TimeSpan.FromSeconds(2) };
    var sw = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    p.OutputDataReceived += (_, _) => { };
    p.ErrorDataReceived += (_, _) => { };
    p.BeginOutputReadLine();
    p.BeginErrorReadLine();
    try
    {
        while (sw.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (p.HasExited) throw new InvalidOperationException($"the server exited ({p.ExitCode})");
            try
            {
                using var response = http.GetAsync($"http://127.0.0.1:{port}/ping").GetAwaiter().GetResult();
                if (response.IsSuccessStatusCode) return sw.Elapsed.TotalSeconds;
            }
            catch (System.Net.Http.HttpRequestException) { }
            catch (TaskCanceledException) { }
            Thread.Sleep(5);
        }
        throw new TimeoutException("the server did not answer /ping in 120 s");
    }
    finally
    {
        try { p.Kill(entireProcessTree: true); p.WaitForExit(); } catch (InvalidOperationException) { }
    }
}

// bench/python_baseline.py prints its wall and CPU seconds.
static (double Wall, double Cpu) PythonBaseline(string repo, string onnx, string csv, string output)
{
    var parts = Run("/usr/bin/python3", [Path.Combine(repo, "bench/python_baseline.py"), onnx, csv, output]).Trim().Split(' ');
    return (double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
}

static (double Seconds, float[] Data) TimeSepParse(string csv)
{
    var sw = Stopwatch.StartNew();
    var list = new List<float>(10_000_000);
    using (var reader = Sep.Reader().FromFile(csv))
        foreach (var row in reader)
            for (int c = 0; c < 10; c++) list.Add(row[c].Parse<float>());
    sw.Stop();
    return (sw.Elapsed.TotalSeconds, list.ToArray());
}

static double TimeRawOrt(string onnx, float[] data, int rows)
{
    using var session = new InferenceSession(onnx);
    const int batch = 10_000;
    var sw = Stopwatch.StartNew();
    for (int start = 0; start < rows; start += batch)
    {
        int n = Math.Min(batch, rows - start);
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data.AsMemory(start * 10, n * 10), new long[] { n, 10 });
        using var outputs = session.Run(new RunOptions(), ["input"], [input], ["output"]);
        _ = outputs[0].GetTensorDataAsSpan<float>()[0];
    }
    return sw.Elapsed.TotalSeconds;
}

static void PythonWorker(string repo, Options opt, string csv)
{
    foreach (var kind in new[] { "linear", "forest" })
    {
        var dir = Path.Combine(opt.Work, "model-sklearn-" + kind);
        Run("/usr/bin/python3", [Path.Combine(repo, "bench/make_sklearn_model.py"), dir, kind]);
        var model = ModelStore.Load(dir);
        using var scorer = MlModels.Core.Scoring.Python.PythonScorer.Start(model, new MlModels.Core.Scoring.Python.PythonOptions("/usr/bin/python3"));
        // The same rows, already parsed and in memory on both sides: only the worker's transfer and framing differ.
        var frames = CsvInput.Read(csv, names => scorer.PlanColumns(names, null), opt.PythonBatch).ToList();
        scorer.Predict(new FrameInput(frames[0]), null);
        var ours = new List<double>(); var limit = new List<double>();
        for (int run = 0; run < opt.Runs; run++)
        {
            ours.Add(Time(() => { foreach (var f in frames) scorer.Predict(new FrameInput(f), null); }));
            limit.Add(double.Parse(Run("/usr/bin/python3", [Path.Combine(repo, "bench/python_predict_limit.py"), dir, csv]).Trim(), CultureInfo.InvariantCulture));
        }
        Console.WriteLine($"\npython worker, sklearn {kind}, {opt.Rows:N0} rows in batches of {opt.PythonBatch:N0}: {Median(ours):F2}s vs the model's predict inside Python {Median(limit):F2}s = {Median(ours) / Median(limit):F2}x the limit");
        if (kind != "linear") continue;
        var one = new Frame(frames[0].Names, frames[0].Columns.Select(c => { var a = ElementKinds.NewArray(c.Kind, 1); Array.Copy(c.Values, a, 1); return new ColumnData(c.Kind, a); }).ToList(), 1);
        for (int i = 0; i < 50; i++) scorer.Predict(new FrameInput(one), null);
        var single = new List<double>();
        for (int i = 0; i < 1000; i++) single.Add(Time(() => scorer.Predict(new FrameInput(one), null)) * 1000);
        Console.WriteLine($"python worker warm 1-row call: median {Median(single):F3} ms, p99 {single.Order().ElementAt(989):F3} ms over 1,000 calls");
    }
}

// The worker's own loaders for MLflow's xgboost and pytorch flavors: the same rows, parsed and in memory on both sides,
// through the worker in the cmdlet's batches against the predict MLflow's wrapper runs inside Python (one call on all
// the rows, as the sklearn comparison above, and in the same batches, which isolates the transfer). CPU seconds (the
// worker's, all threads) are given beside wall seconds: on a shared machine they show the work done, whatever the
// scheduler does. Then a warm 10-row call, as a server or a pipeline of small batches pays it.
static int Flavors(Options opt)
{
    var repo = FindRepo();
    Directory.CreateDirectory(opt.Work);
    Run("/usr/bin/python3", [Path.Combine(repo, "bench/make_flavor_models.py"), opt.Work]);
    var csv = Path.Combine(opt.Work, $"input-{opt.Rows}.csv");
    if (!File.Exists(csv)) WriteCsv(csv, opt.Rows);
    Console.WriteLine($"flavors: {opt.Rows:N0} rows x 10 float64 columns in memory, Python worker in batches of {opt.PythonBatch:N0} vs the same predict inside Python;");
    Console.WriteLine($"  {opt.Runs} runs after a warm-up, alternating, {Environment.ProcessorCount} cores");
    foreach (var kind in new[] { "xgb", "torch" })
    {
        var dir = Path.Combine(opt.Work, "model-" + kind);
        using var scorer = MlModels.Core.Scoring.Python.PythonScorer.Start(ModelStore.Load(dir), new MlModels.Core.Scoring.Python.PythonOptions("/usr/bin/python3"));
        var frames = CsvInput.Read(csv, names => scorer.PlanColumns(names, null), opt.PythonBatch).ToList();
        // The signature says double: the worker must get float64 columns, as the Python side has them.
        if (frames[0].Columns.Any(c => c.Kind != ElementKind.Float64)) throw new InvalidOperationException("the columns are not read as float64");
        scorer.Predict(new FrameInput(frames[0]), null);
        Console.WriteLine($"{kind}: loaded via {scorer.Worker.LoadedBy}");
        using var worker = Process.GetProcessById(scorer.Worker.ProcessId);
        var ours = new List<double>(); var oursCpu = new List<double>(); var py = new List<double>(); var pyCpu = new List<double>(); var pyBatched = new List<double>();
        for (int run = 0; run < opt.Runs; run++)
        {
            worker.Refresh();
            var cpu = worker.TotalProcessorTime;
            ours.Add(Time(() => { foreach (var f in frames) scorer.Predict(new FrameInput(f), null); }));
            worker.Refresh();
            oursCpu.Add((worker.TotalProcessorTime - cpu).TotalSeconds);
            var parts = Run("/usr/bin/python3", [Path.Combine(repo, "bench/python_flavor_limit.py"), kind, dir, csv, opt.PythonBatch.ToString(CultureInfo.InvariantCulture)]).Trim().Split(' ');
            py.Add(double.Parse(parts[0], CultureInfo.InvariantCulture)); pyCpu.Add(double.Parse(parts[1], CultureInfo.InvariantCulture)); pyBatched.Add(double.Parse(parts[2], CultureInfo.InvariantCulture));
            Console.WriteLine($"  {kind} run {run + 1}: worker {ours[^1]:F3}s ({oursCpu[^1]:F2} CPU s in Python), inside Python {py[^1]:F3}s ({pyCpu[^1]:F2} CPU s), inside Python in batches {pyBatched[^1]:F3}s");
        }
        double m = Median(ours), p = Median(py), pb = Median(pyBatched);
        Console.WriteLine($"{kind}: worker {m:F3}s ({Median(oursCpu):F2} CPU s) vs inside Python {p:F3}s ({Median(pyCpu):F2} CPU s) = {m / p:F2}x (goal <= 1.30); " +
            $"median of per-run ratios {Median(ours.Zip(py, (a, b) => a / b).ToList()):F2}x; vs inside Python in the same batches {pb:F3}s = {m / pb:F2}x");
        // Ten rows, warm: the round trip and the per-call costs of the worker and of the model's predict.
        var ten = new Frame(frames[0].Names, frames[0].Columns.Select(c => { var a = ElementKinds.NewArray(c.Kind, 10); Array.Copy(c.Values, a, 10); return new ColumnData(c.Kind, a); }).ToList(), 10);
        for (int i = 0; i < 20; i++) scorer.Predict(new FrameInput(ten), null);
        var small = new List<double>();
        for (int i = 0; i < 200; i++) small.Add(Time(() => scorer.Predict(new FrameInput(ten), null)) * 1000);
        Console.WriteLine($"{kind}: warm 10-row call through the worker: median {Median(small):F3} ms, p99 {small.Order().ElementAt(197):F3} ms over 200 calls (goal < 50 ms)\n");
    }
    return 0;
}

static void PipelineRate(string repo, Options opt)
{
    var module = Path.Combine(repo, "out/MlModels");
    if (!Directory.Exists(module)) { Console.WriteLine("\npipeline: skipped (run 'dotnet pwsh ./build.ps1 build' first)"); return; }
    var small = Path.Combine(opt.Work, $"input-{opt.PipelineRows}.csv");
    if (!File.Exists(small)) WriteCsv(small, opt.PipelineRows);
    var script = $"Import-Module '{module}'; $m = Get-MLModel '{Path.Combine(opt.Work, "model-linear")}'; $null = $m | Invoke-MLModelPrediction -InputCsv '{small}' 3>$null; " +
                 $"$t = [Diagnostics.Stopwatch]::StartNew(); $n = ($m | Invoke-MLModelPrediction -InputCsv '{small}' 3>$null | Measure-Object).Count; '{{0}} {{1}}' -f $n, $t.Elapsed.TotalSeconds";
    var output = Run("dotnet", ["pwsh", "-NoProfile", "-NonInteractive", "-Command", script], repo).Trim().Split(' ');
    var rows = long.Parse(output[0], CultureInfo.InvariantCulture);
    var secs = double.Parse(output[1], CultureInfo.InvariantCulture);
    Console.WriteLine($"\npipeline: {rows:N0} predictions as PowerShell objects in {secs:F2}s = {rows / secs:N0} rows/s (linear model, Measure-Object at the end)");
}

static void PeakRss(Options opt)
{
    var rows = (int)(opt.RssGb * 1e9 / 100);
    var big = Path.Combine(opt.Work, $"input-{rows}.csv");
    if (!File.Exists(big)) WriteCsv(big, rows);
    var self = Environment.ProcessPath!;
    var dll = typeof(Options).Assembly.Location;
    var argsList = self.EndsWith("dotnet") ? new List<string> { dll } : [];
    argsList.AddRange(["rss", Path.Combine(opt.Work, "model-mlp"), big, Path.Combine(opt.Work, "out-big.csv")]);
    var output = Run(self, argsList).Trim();
    Console.WriteLine($"\npeak RSS scoring {new FileInfo(big).Length / 1e9:F2} GB CSV ({rows:N0} rows, mlp) in a fresh process: {output}");
}

static int Rss(string modelDir, string csv, string output)
{
    var sw = Stopwatch.StartNew();
    ScoreWithModule(modelDir, csv, output);
    var hwm = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:"))?.Split(':')[1].Trim() ?? "unknown";
    Console.WriteLine($"{hwm} (VmHWM), {sw.Elapsed.TotalSeconds:F1}s");
    return 0;
}

static void WriteCsv(string path, int rows)
{
    var rng = new Random(7);
    using var w = new StreamWriter(path, false, new System.Text.UTF8Encoding(false), 1 << 20);
    w.Write("f0,f1,f2,f3,f4,f5,f6,f7,f8,f9\n");
    Span<char> buf = stackalloc char[32];
    for (int r = 0; r < rows; r++)
    {
        for (int c = 0; c < 10; c++)
        {
            if (c > 0) w.Write(',');
            var v = (float)(rng.NextDouble() * 10 - 5);
            v.TryFormat(buf, out var n, "F6", CultureInfo.InvariantCulture);
            w.Write(buf[..n]);
        }
        w.Write('\n');
    }
}

static double Time(Action a) { var sw = Stopwatch.StartNew(); a(); return sw.Elapsed.TotalSeconds; }

static double Median(List<double> xs) { var s = xs.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }

static string Run(string exe, IEnumerable<string> arguments, string? cwd = null)
{
    var psi = new ProcessStartInfo(exe, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = cwd ?? Environment.CurrentDirectory };
    using var p = Process.Start(psi)!;
    var stdout = p.StandardOutput.ReadToEndAsync();
    var stderr = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} failed ({p.ExitCode}): {stderr}");
    return stdout.Result;
}

static string FindRepo()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir != null && !File.Exists(Path.Combine(dir.FullName, "MlModels.PowerShell.sln"))) dir = dir.Parent;
    return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
}

/// <summary>
/// One pwsh kept open: <c>Time()</c> runs the command once inside it, timed there with Measure-Command, and reads back
/// its wall seconds and the CPU seconds pwsh spent meanwhile (as a local tool, pwsh is a child of the dotnet muxer).
/// </summary>
sealed class PwshSession : IDisposable
{
    private readonly Process _p;

    private PwshSession(Process p) => _p = p;

    public static PwshSession Start(string repo, string setup, string command)
    {
        // One line per request on stdin, one number per answer on stdout: the command runs exactly as a user types it.
        var script = $"$ErrorActionPreference = 'Stop'; {setup}; [Console]::Out.WriteLine('ready'); " +
                     "$self = [Diagnostics.Process]::GetCurrentProcess(); " +
                     $"while ($null -ne [Console]::In.ReadLine()) {{ $self.Refresh(); $cpu = $self.TotalProcessorTime; $t = Measure-Command {{ {command} }}; $self.Refresh(); " +
                     "[Console]::Out.WriteLine([string]::Format([cultureinfo]::InvariantCulture, '{0} {1}', $t.TotalSeconds, ($self.TotalProcessorTime - $cpu).TotalSeconds)) }";
        var psi = new ProcessStartInfo("dotnet", ["pwsh", "-NoProfile", "-NonInteractive", "-Command", script])
        { RedirectStandardInput = true, RedirectStandardOutput = true, WorkingDirectory = repo };
        var p = Process.Start(psi)!;
        var session = new PwshSession(p);
        session.ReadLine();
        return session;
    }

    public (double Wall, double Cpu) Time()
    {
        _p.StandardInput.WriteLine("go");
        var answer = ReadLine().Split(' ');
        return (double.Parse(answer[0], CultureInfo.InvariantCulture), double.Parse(answer[1], CultureInfo.InvariantCulture));
    }

    private string ReadLine() => _p.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"pwsh exited ({(_p.WaitForExit(5000) ? _p.ExitCode : -1)}); see its error output above");

    public void Dispose()
    {
        try { _p.StandardInput.Close(); if (!_p.WaitForExit(10_000)) _p.Kill(); } catch (InvalidOperationException) { }
        _p.Dispose();
    }
}

sealed class Options
{
    public int Rows = 1_000_000, Runs = 3, PipelineRows = 100_000, PythonBatch = 50_000;
    public double RssGb = 1;
    public bool SkipPython;
    public string Work = Path.Combine(Path.GetTempPath(), "mlmodels-bench");

    public Options(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rows": Rows = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": Runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rss-gb": RssGb = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--pipeline-rows": PipelineRows = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--work": Work = args[++i]; break;
                case "--python-batch": PythonBatch = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--skip-python": SkipPython = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
    }
}
