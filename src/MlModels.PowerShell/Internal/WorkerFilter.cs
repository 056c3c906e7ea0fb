using System.Management.Automation;
using MlModels.Core.Scoring.Python;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// Selects warm workers by model folder: -Path as a wildcard pattern over the folder's full path, -LiteralPath as
/// the folder itself. The folder need not exist any more (a deleted model's worker can still be found and stopped).
/// </summary>
internal static class WorkerFilter
{
    public static Func<CachedPythonWorker, bool> For(PSCmdlet cmdlet, string[]? path, string[]? literalPath)
    {
        if (path == null && literalPath == null) return _ => true;
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var patterns = (path ?? []).Select(
            p => WildcardPattern.Get(Full(cmdlet, p), OperatingSystem.IsWindows() ? WildcardOptions.IgnoreCase : WildcardOptions.None)).ToList();
        var literals = (literalPath ?? []).Select(p => Full(cmdlet, p)).ToList();
        return w =>
        {
            var folder = Path.TrimEndingDirectorySeparator(w.ModelPath);
            return patterns.Any(p => p.IsMatch(folder)) || literals.Any(l => string.Equals(l, folder, comparison));
        };
    }

    private static string Full(PSCmdlet cmdlet, string path) =>
        Path.TrimEndingDirectorySeparator(cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path));
}
