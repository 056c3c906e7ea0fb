using MlModels.Core.Serving;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// The servers this session started (stopped gracefully through their standard input), shared by every cmdlet of the module.
/// </summary>
internal static class ServerSessions
{
    public static readonly ServerLauncher Launcher = new();
}
