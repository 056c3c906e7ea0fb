using System.Reflection;

namespace MlModels.Core;

/// <summary>
/// The module's version in full as MlModels.psd1 states it (ModuleVersion, then -Prerelease when there is one), read
/// from the informational version the build stamps; the assembly version alone would drop the prerelease suffix.
/// </summary>
public static class ModuleVersion
{
    public static string Full { get; } = Read();

    private static string Read()
    {
        var assembly = typeof(ModuleVersion).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational)) return assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        // Build metadata (+commit) is not part of the version a user installs.
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
