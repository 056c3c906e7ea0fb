using System.Globalization;
using System.Text;

namespace MlModels.Core.Serving;

/// <summary>
/// Request counts and latency for /metrics, in Prometheus text format. A request adds to two counters with
/// Interlocked (no locks, no allocation); the cumulative buckets Prometheus wants are summed when /metrics is read.
/// </summary>
public sealed class ServingMetrics
{
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    private static readonly long[] BucketTicks = Buckets.Select(b => (long)(b * TimeSpan.TicksPerSecond)).ToArray();
    // Per bucket, the requests that fell in it (not yet cumulative); the last slot is past the largest bound.
    private readonly long[] _inBucket = new long[Buckets.Length + 1];
    // HTTP statuses 100-599 by code.
    private readonly long[] _byStatus = new long[500];
    private long _sumTicks;

    public void Record(int status, TimeSpan elapsed)
    {
        if (status is >= 100 and < 600) Interlocked.Increment(ref _byStatus[status - 100]);
        Interlocked.Add(ref _sumTicks, elapsed.Ticks);
        int i = 0;
        while (i < BucketTicks.Length && elapsed.Ticks > BucketTicks[i]) i++;
        Interlocked.Increment(ref _inBucket[i]);
    }

    public string Render()
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append("# HELP mlmodels_requests_total Scoring requests by HTTP status.\n# TYPE mlmodels_requests_total counter\n");
        long errors = 0;
        for (int i = 0; i < _byStatus.Length; i++)
        {
            var n = Interlocked.Read(ref _byStatus[i]);
            if (n == 0) continue;
            sb.Append(inv, $"mlmodels_requests_total{{code=\"{i + 100}\"}} {n}\n");
            if (i + 100 >= 400) errors += n;
        }
        sb.Append("# HELP mlmodels_request_errors_total Scoring requests that did not succeed.\n# TYPE mlmodels_request_errors_total counter\n");
        sb.Append(inv, $"mlmodels_request_errors_total {errors}\n");
        sb.Append("# HELP mlmodels_request_duration_seconds Time to answer a scoring request.\n# TYPE mlmodels_request_duration_seconds histogram\n");
        long cumulative = 0;
        for (int i = 0; i < Buckets.Length; i++)
        {
            cumulative += Interlocked.Read(ref _inBucket[i]);
            sb.Append(inv, $"mlmodels_request_duration_seconds_bucket{{le=\"{Buckets[i]}\"}} {cumulative}\n");
        }
        var count = cumulative + Interlocked.Read(ref _inBucket[Buckets.Length]);
        sb.Append(inv, $"mlmodels_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n");
        sb.Append(inv, $"mlmodels_request_duration_seconds_sum {Interlocked.Read(ref _sumTicks) / (double)TimeSpan.TicksPerSecond}\n");
        sb.Append(inv, $"mlmodels_request_duration_seconds_count {count}\n");
        sb.Append("# HELP mlmodels_process_resident_bytes Resident memory of the server process.\n# TYPE mlmodels_process_resident_bytes gauge\n");
        sb.Append(inv, $"mlmodels_process_resident_bytes {Environment.WorkingSet}\n");
        return sb.ToString();
    }
}
