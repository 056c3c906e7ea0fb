namespace MlModels.Deploy;

/// <summary>
/// The one way long work is waited for (an endpoint reaching InService, an ARM operation, a container's /ping):
/// poll at the service's own interval, report progress, honour cancellation and an overall timeout.
/// </summary>
public static class LongWait
{
    /// <summary>
    /// Calls <paramref name="poll"/> until it returns a terminal result. Each poll returns the state and, where the
    /// service says so (Retry-After), when to ask next; otherwise <paramref name="interval"/> is used.
    /// Throws <see cref="TimeoutException"/> naming <paramref name="what"/> when <paramref name="timeout"/> passes.
    /// </summary>
    public static async Task<T> UntilAsync<T>(
        string what,
        Func<CancellationToken, Task<PollResult<T>>> poll,
        TimeSpan interval,
        TimeSpan timeout,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken,
        TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var started = time.GetTimestamp();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = await poll(cancellationToken).ConfigureAwait(false);
            progress?.Report(new DeploymentProgress(what, result.Status));
            if (result.Done) return result.Value!;
            var elapsed = time.GetElapsedTime(started);
            if (elapsed >= timeout)
                throw new TimeoutException($"{what} did not finish within {timeout.TotalSeconds:0} s (last status: {result.Status}).");
            var wait = result.RetryAfter ?? interval;
            var left = timeout - elapsed;
            await Task.Delay(wait < left ? wait : left, time, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>One poll's answer: its status text, whether it is terminal, the value when it is, and the service's Retry-After.</summary>
public readonly record struct PollResult<T>(bool Done, string Status, T? Value = default, TimeSpan? RetryAfter = null)
{
    public static PollResult<T> Pending(string status, TimeSpan? retryAfter = null) => new(false, status, default, retryAfter);
    public static PollResult<T> Finished(string status, T value) => new(true, status, value);
}
