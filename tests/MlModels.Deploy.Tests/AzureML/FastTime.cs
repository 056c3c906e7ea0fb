namespace MlModels.Deploy.Tests.AzureML;

/// <summary>Runs every delay a thousand times faster and records what was asked for, so Retry-After can be checked without waiting.</summary>
public sealed class FastTime : TimeProvider
{
    public List<TimeSpan> Delays { get; } = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan) lock (Delays) Delays.Add(dueTime);
        var scaled = dueTime == Timeout.InfiniteTimeSpan ? dueTime : TimeSpan.FromTicks(dueTime.Ticks / 1000);
        return base.CreateTimer(callback, state, scaled, period);
    }
}
