using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Grpc.Net.Client;
using Inference;

/// <summary>
/// The Open Inference Protocol over gRPC against its REST form, on one server process (the linear ONNX model, tensor
/// input float32 [N, 10]): 1-row and 1,000-row requests, 16 calls in flight, in alternating rounds; gRPC with typed
/// contents (fp32_contents) and with raw contents. Goal: raw gRPC at 1,000 rows at least 2x REST's rows per second.
/// Run: bash bench/grpc-bench.sh [seconds-per-run] [rounds]   (builds the server and this project first)
/// </summary>
internal static class GrpcBench
{
    private const int Concurrency = 16;

    public static int Run(string repo, string[] args)
    {
        var secs = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        var work = Path.Combine(Path.GetTempPath(), "mlmodels-grpc-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(work);
        RunTool("/usr/bin/python3", [Path.Combine(repo, "bench/make_models.py"), work]);
        var model = Path.Combine(work, "model");
        MlModels.Core.Scoring.Onnx.OnnxPackager.Save(Path.Combine(work, "linear.onnx"), model);
        int port = FreePort(), grpcPort = FreePort();
        var server = Path.Combine(repo, "src/MlModels.Server/bin/Release/net8.0/MlModels.Server.dll");
        var psi = new ProcessStartInfo("dotnet", [server, "--model", model, "--port", Text(port), "--grpc-port", Text(grpcPort)])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["DOTNET_GCgen0size"] = "0x800000";
        using var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency })
            { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            WaitForPing(http);
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
            var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
            Console.WriteLine($"Open Inference: REST JSON vs gRPC (typed, raw), {Concurrency} calls in flight, {rounds} rounds of {secs:0.#} s " +
                $"(alternating), {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg")[..14]}, {DateTime.UtcNow:yyyy-MM-dd}");
            Console.WriteLine($"{"rows",5} {"transport",-10} {"requests/s",11} {"rows/s",11} {"p50 ms",8} {"p99 ms",8}");
            foreach (var rows in new[] { 1, 1000 })
            {
                var values = Enumerable.Range(0, rows * 10).Select(i => (float)(i % 97) / 10).ToArray();
                var json = Encoding.UTF8.GetBytes("{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [" + rows + ", 10], \"data\": [" +
                    string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]}]}");
                var typed = Request(rows);
                typed.Inputs[0].Contents = new InferTensorContents();
                typed.Inputs[0].Contents.Fp32Contents.AddRange(values);
                var raw = Request(rows);
                var bytes = new byte[values.Length * 4];
                Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
                raw.RawInputContents.Add(ByteString.CopyFrom(bytes));
                var modes = new (string Name, Func<Task> Call)[]
                {
                    ("REST", async () =>
                    {
                        using var content = new ByteArrayContent(json);
                        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                        using var r = await http.PostAsync("/v2/models/model/infer", content).ConfigureAwait(false);
                        await r.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"REST answered {(int)r.StatusCode}");
                    }),
                    ("gRPC", async () => await client.ModelInferAsync(typed)),
                    ("gRPC raw", async () => await client.ModelInferAsync(raw)),
                };
                foreach (var m in modes) Measure(m.Call, 1.5); // warm-up: JIT, connections
                var results = modes.ToDictionary(m => m.Name, _ => new List<(double Rps, double P50, double P99)>());
                for (int round = 0; round < rounds; round++)
                    foreach (var m in modes) results[m.Name].Add(Measure(m.Call, secs));
                foreach (var m in modes)
                {
                    var r = results[m.Name];
                    var rps = Median(r.Select(x => x.Rps));
                    Console.WriteLine($"{rows,5} {m.Name,-10} {rps,11:N0} {rps * rows,11:N0} {Median(r.Select(x => x.P50)),8:F2} {Median(r.Select(x => x.P99)),8:F2}");
                }
                var ratio = Median(Enumerable.Range(0, rounds).Select(i => results["gRPC raw"][i].Rps / results["REST"][i].Rps));
                var typedRatio = Median(Enumerable.Range(0, rounds).Select(i => results["gRPC"][i].Rps / results["REST"][i].Rps));
                Console.WriteLine($"{rows,5} median per-round ratio gRPC raw / REST: {ratio:F2}x, gRPC typed / REST: {typedRatio:F2}x" +
                    (rows == 1000 ? " (goal: raw >= 2x)" : ""));
            }
            return 0;
        }
        finally
        {
            try { process.Kill(); } catch (InvalidOperationException) { }
            Directory.Delete(work, true);
        }
    }

    private static ModelInferRequest Request(int rows)
    {
        var r = new ModelInferRequest { ModelName = "model" };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "input", Datatype = "FP32" };
        input.Shape.Add(rows);
        input.Shape.Add(10);
        r.Inputs.Add(input);
        return r;
    }

    /// <summary>Requests per second and latency percentiles of <see cref="Concurrency"/> loops calling for <paramref name="secs"/>.</summary>
    private static (double Rps, double P50, double P99) Measure(Func<Task> call, double secs)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(secs * Stopwatch.Frequency);
        var latencies = new List<double>[Concurrency];
        var sw = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, Concurrency).Select(i => Task.Run(async () =>
        {
            var mine = latencies[i] = [];
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var start = Stopwatch.GetTimestamp();
                await call().ConfigureAwait(false);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })).ToArray();
        Task.WaitAll(loops);
        var all = latencies.SelectMany(l => l).Order().ToList();
        return (all.Count / sw.Elapsed.TotalSeconds, all[all.Count / 2], all[(int)(all.Count * 0.99)]);
    }

    private static double Median(IEnumerable<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    private static void WaitForPing(HttpClient http)
    {
        for (int i = 0; i < 300; i++)
        {
            try
            {
                if (http.GetAsync("/ping").GetAwaiter().GetResult().IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            Thread.Sleep(100);
        }
        throw new InvalidOperationException("the server did not answer /ping");
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
    }

    private static void RunTool(string exe, string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(exe, args) { RedirectStandardOutput = true })!;
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} failed");
    }

    private static string Text(int v) => v.ToString(CultureInfo.InvariantCulture);
}
