namespace MlModels.PowerShell.Internal;

/// <summary>
/// Reports on the caller's thread (System.Progress would post to a thread pool).
/// Top-level and internal on purpose: PowerShell enumerates this assembly's exported types before the module's
/// load context is hooked up, so no public type here may hold a Core type in its base types, interfaces or value-type fields.
/// </summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
