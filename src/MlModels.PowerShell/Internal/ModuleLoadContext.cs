using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// Loads MlModels.Core and every third-party assembly from the module's <c>dependencies</c> folder into a load
/// context of their own, so another module's YamlDotNet (or ONNX Runtime) in the same session never clashes with ours.
/// Only this assembly lives in the default context; it reaches Core through the Resolving hook below.
/// </summary>
internal sealed class ModuleLoadContext : AssemblyLoadContext
{
    private readonly string _dependencyDir;

    public ModuleLoadContext(string dependencyDir) : base("MlModels", isCollectible: false) => _dependencyDir = dependencyDir;

    public static string DependencyDir { get; } =
        Path.Combine(Path.GetDirectoryName(typeof(ModuleLoadContext).Assembly.Location)!, "dependencies");

    public static ModuleLoadContext Instance { get; } = new(DependencyDir);

    protected override Assembly? Load(AssemblyName name)
    {
        // A package's copy of a framework assembly (System.Text.Json from a NuGet dependency) would split types the
        // framework's own assemblies use (System.Net.Http.Json's JsonTypeInfo); the running framework's copy wins
        // where it is at least as new.
        if (FrameworkAssemblies.Provides(name)) return null;
        var candidate = Path.Combine(_dependencyDir, name.Name + ".dll");
        // Assemblies we do not ship (the framework, System.Management.Automation) come from the default context.
        return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        // Native libraries load by absolute path from the module's own folder, never a system copy.
        var path = NativeLibraries.Find(_dependencyDir, unmanagedDllName);
        return path != null ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}

internal static class NativeLibraries
{
    /// <summary>A native library by the name a DllImport gives, for this process's runtime identifier or another one.</summary>
    public static string? Find(string dependencyDir, string name, string? rid = null)
    {
        rid ??= RuntimeId();
        var native = Path.Combine(dependencyDir, "runtimes", rid, "native");
        if (!Directory.Exists(native)) return null;
        foreach (var candidate in Candidates(name, rid))
        {
            var p = Path.Combine(native, candidate);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    private static IEnumerable<string> Candidates(string name, string rid)
    {
        yield return name;
        if (rid.StartsWith("win-", StringComparison.Ordinal)) yield return name + ".dll";
        else if (rid.StartsWith("osx-", StringComparison.Ordinal)) { yield return "lib" + name + ".dylib"; yield return name + ".dylib"; }
        else { yield return "lib" + name + ".so"; yield return name + ".so"; }
    }

    public static string RuntimeId()
    {
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var arch = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        return $"{os}-{arch}";
    }
}

/// <summary>Hooks the default context so that MlModels.Core resolves into the module's own context.</summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static readonly HashSet<string> IsolatedAssemblies = new(StringComparer.OrdinalIgnoreCase) { "MlModels.Core", "MlModels.Deploy" };

    public void OnImport() => AssemblyLoadContext.Default.Resolving += Resolve;

    public void OnRemove(PSModuleInfo psModuleInfo) => AssemblyLoadContext.Default.Resolving -= Resolve;

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name)
    {
        if (name.Name == null || !IsolatedAssemblies.Contains(name.Name)) return null;
        // A module folder that lacks the assembly (a half-copied install) fails to load it with an error; asking our
        // context would fall back to the default one, whose Resolving event is this method, until the stack overflows.
        return File.Exists(Path.Combine(ModuleLoadContext.DependencyDir, name.Name + ".dll"))
            ? ModuleLoadContext.Instance.LoadFromAssemblyName(name)
            : null;
    }
}

/// <summary>Assemblies of the running .NET shared framework (not PowerShell's own), by name, with their versions.</summary>
internal static class FrameworkAssemblies
{
    private static readonly Lazy<Dictionary<string, Version?>> Versions = new(() =>
    {
        var frameworkDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var result = new Dictionary<string, Version?>(StringComparer.OrdinalIgnoreCase);
        foreach (var path in ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "").Split(
            Path.PathSeparator,
            StringSplitOptions.RemoveEmptyEntries))
        {
            if (!string.Equals(Path.GetDirectoryName(path), frameworkDir, StringComparison.Ordinal)) continue;
            try { result[Path.GetFileNameWithoutExtension(path)] = AssemblyName.GetAssemblyName(path).Version; }
            catch (BadImageFormatException) { }
            catch (IOException) { }
        }
        return result;
    });

    public static bool Provides(AssemblyName name) =>
        name.Name != null && Versions.Value.TryGetValue(name.Name, out var v) && (name.Version == null || v >= name.Version);
}
