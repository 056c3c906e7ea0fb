// Downloads from S3 (moto on loopback): a model folder of N files through the module's downloader, its files several at
// once and one at a time, against boto3's download_file (TransferConfig(max_concurrency=10)) over the same files.
// Run (moto started, e.g. `eval "$(bash .ci/services/moto.sh start)"`):
//   dotnet run -c Release --project bench/MlModels.Bench -- downloads [--mb 500] [--files 50] [--runs 3]
using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Amazon.S3.Model;
using MlModels.Core.Artifacts;
using MlModels.Core.Tracking;
using MlModels.Deploy.Artifacts;
using MlModels.Deploy.Aws;

internal static class Downloads
{
    public static int Run(string[] args)
    {
        int mb = 500, files = 50, runs = 3;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--mb": mb = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--files": files = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown option {args[i]}.");
            }
        }
        var moto = Environment.GetEnvironmentVariable("MLMODELS_TEST_MOTO_URL")
            ?? throw new InvalidOperationException("Start moto first: eval \"$(bash .ci/services/moto.sh start)\" (sets MLMODELS_TEST_MOTO_URL).");
        using var connection = AwsConnection.Open(new AwsConnectionOptions
        {
            Credentials = new BasicAWSCredentials("testing", "testing"), Region = "us-east-1", EndpointUrl = moto,
        });
        var bucket = "bench-" + Guid.NewGuid().ToString("N")[..10];
        const string prefix = "mlartifacts/1/run/artifacts/model";
        using (var s3 = connection.CreateS3Client())
        {
            s3.PutBucketAsync(bucket).GetAwaiter().GetResult();
            s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = prefix + "/MLmodel", ContentBody = "flavors: {}\n" }).GetAwaiter().GetResult();
            var size = mb * 1_000_000 / files;
            var bytes = new byte[size];
            new Random(1).NextBytes(bytes);
            for (int f = 0; f < files; f++)
            {
                s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = $"{prefix}/data/part-{f:D3}.bin", InputStream = new MemoryStream(bytes) })
                    .GetAwaiter().GetResult();
            }
        }
        var work = Path.Combine(Path.GetTempPath(), "mlmodels-bench-downloads-" + Guid.NewGuid().ToString("N")[..8]);
        Console.WriteLine($"Downloads from moto's S3: {files} files, {mb} MB, median of {runs} runs, {Environment.ProcessorCount} cores, " +
            $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        var parallel = new List<double>();
        var sequential = new List<double>();
        var boto = new List<double>();
        var uri = $"s3://{bucket}/{prefix}";
        for (int run = 0; run < runs; run++)
        {
            // Alternating order, so that a noisy neighbour weighs on each the same.
            foreach (var which in run % 2 == 0 ? new[] { 0, 1, 2 } : new[] { 2, 1, 0 })
            {
                var dest = Path.Combine(work, $"{run}-{which}");
                switch (which)
                {
                    case 0: parallel.Add(Time(() => Download(connection, uri, dest, parallelism: null))); break;
                    case 1: sequential.Add(Time(() => Download(connection, uri, dest, parallelism: 1))); break;
                    default: boto.Add(Boto(moto, bucket, prefix, dest)); break;
                }
                Directory.Delete(dest, recursive: true);
            }
        }
        double p = Median(parallel), s = Median(sequential), b = Median(boto);
        Console.WriteLine($"this module, files at once ({Math.Min(Environment.ProcessorCount * 2, 20)}): {p:F2}s  one at a time: {s:F2}s  " +
            $"boto3 download_file: {b:F2}s");
        Console.WriteLine($"one at a time / at once = {s / p:F2}x (goal >= 2); this module / boto3 = {p / b:F2}x (goal <= 1.5)");
        Directory.Delete(work, recursive: true);
        return 0;
    }

    private static void Download(AwsConnection connection, string uri, string cache, int? parallelism)
    {
        var downloader = new ModelDownloader(null, cache)
        {
            Repositories = new ArtifactRepositories().Register("s3", root => new S3ArtifactRepository(root, connection)),
            Parallelism = parallelism ?? Math.Min(Environment.ProcessorCount * 2, 20),
        };
        downloader.DownloadAsync(uri, force: true).GetAwaiter().GetResult();
    }

    private static double Boto(string moto, string bucket, string prefix, string dest)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "s3_download_baseline.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", [Path.GetFullPath(script), moto, bucket, prefix, dest]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("boto3 baseline failed");
        return double.Parse(output.Trim(), CultureInfo.InvariantCulture);
    }

    private static double Time(Action a)
    {
        var sw = Stopwatch.StartNew();
        a();
        return sw.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
