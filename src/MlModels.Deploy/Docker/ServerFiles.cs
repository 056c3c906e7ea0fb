using System.Text.Json;
using MlModels.Core.Serving;

namespace MlModels.Deploy.Docker;

/// <summary>
/// The scoring server as the module ships it (framework-dependent, beside Core in the module's dependencies folder),
/// picked out file by file from its deps.json, so an image carries the server and nothing of the cmdlets or Deploy.
/// </summary>
public static class ServerFiles
{
    public const string Assembly = "MlModels.Server.dll";

    /// <summary>Platforms an image can be made for, as .NET runtime identifiers.</summary>
    public static readonly IReadOnlyList<string> Platforms = ["linux-x64", "linux-arm64"];

    /// <summary>The folder the module's server lives in (out/MlModels/dependencies).</summary>
    public static string DefaultDirectory => Path.GetDirectoryName(ServerLauncher.ServerAssembly())!;

    /// <summary>Whether a server file is ONNX Runtime's native library (which only ONNX scoring loads).</summary>
    public static bool IsOnnxRuntimeNative(string relativePath) =>
        relativePath.StartsWith("runtimes/", StringComparison.Ordinal)
        && Path.GetFileName(relativePath).Contains("onnxruntime", StringComparison.Ordinal);

    /// <summary>The native server's file name: one executable, compiled ahead of time (Native AOT) by build.ps1.</summary>
    public const string NativeExecutable = "MlModels.Server";

    /// <summary>The oldest glibc the native server runs on (the newest symbol version it links; build.ps1 checks it).</summary>
    public const string NativeGlibc = "2.34";

    /// <summary>Where the module keeps the native server for a platform: native-server/&lt;rid&gt;/ under its dependencies folder.</summary>
    public static string NativePath(string serverDirectory, string rid) => Path.Combine(serverDirectory, "native-server", rid, NativeExecutable);

    /// <summary>Whether the module carries the native server for <paramref name="rid"/>.</summary>
    public static bool HasNative(string serverDirectory, string rid) => File.Exists(NativePath(serverDirectory, rid));

    /// <summary>
    /// The native server's files as (source under <paramref name="serverDirectory"/>, name in the image's server folder):
    /// the executable, and ONNX Runtime's library beside it where <paramref name="withOnnxRuntime"/> (the executable finds it there).
    /// </summary>
    public static IReadOnlyList<(string Source, string Target)> NativeList(string serverDirectory, string rid, bool withOnnxRuntime)
    {
        DockerPlatform(rid);
        var exe = NativePath(serverDirectory, rid);
        if (!File.Exists(exe))
            throw new FileNotFoundException(
                $"The module has no native server for {rid} ({exe}); build.ps1 makes it on linux-x64 with a C toolchain. " +
                "Use the framework-dependent server (-ServerBuild Framework) instead.",
                exe);
        var files = new List<(string, string)> { (Path.GetRelativePath(serverDirectory, exe), NativeExecutable) };
        if (withOnnxRuntime)
        {
            var ort = Core.Scoring.Onnx.OnnxRuntimeLoader.LibraryPath(serverDirectory, rid);
            if (!File.Exists(ort))
                throw new FileNotFoundException($"The server needs {ort}, which is missing; rebuild the module with build.ps1.", ort);
            files.Add((Path.GetRelativePath(serverDirectory, ort), Path.GetFileName(ort)));
        }
        return files;
    }

    /// <summary>The Docker platform string ("linux/amd64") for a runtime identifier.</summary>
    public static string DockerPlatform(string rid) => rid switch
    {
        "linux-x64" => "linux/amd64",
        "linux-arm64" => "linux/arm64",
        _ => throw new ArgumentException($"Images can be made for {string.Join(" and ", Platforms)}, not '{rid}'.", nameof(rid)),
    };

    /// <summary>
    /// The server's files relative to <paramref name="serverDirectory"/>: its assemblies, deps.json, runtimeconfig.json,
    /// and the native libraries for <paramref name="rid"/>. A file the deps.json names but the folder lacks is an error.
    /// </summary>
    public static IReadOnlyList<string> List(string serverDirectory, string rid)
    {
        DockerPlatform(rid);
        var depsFile = Path.Combine(serverDirectory, "MlModels.Server.deps.json");
        if (!File.Exists(Path.Combine(serverDirectory, Assembly)) || !File.Exists(depsFile))
            throw new FileNotFoundException(
                $"The scoring server ({Path.Combine(serverDirectory, Assembly)} and its deps.json) is missing; rebuild the module with build.ps1.",
                depsFile);
        var files = new List<string> { Assembly, "MlModels.Server.deps.json", "MlModels.Server.runtimeconfig.json" };
        using var deps = JsonDocument.Parse(File.ReadAllBytes(depsFile));
        var targetName = deps.RootElement.GetProperty("runtimeTarget").GetProperty("name").GetString()!;
        foreach (var lib in deps.RootElement.GetProperty("targets").GetProperty(targetName).EnumerateObject())
        {
            if (lib.Value.TryGetProperty("runtime", out var runtime))
                foreach (var asm in runtime.EnumerateObject())
                    files.Add(Path.GetFileName(asm.Name));
            if (lib.Value.TryGetProperty("runtimeTargets", out var targets))
                foreach (var t in targets.EnumerateObject())
                    if (t.Value.TryGetProperty("rid", out var r) && r.GetString() == rid && t.Value.GetProperty("assetType").GetString() == "native")
                        files.Add(t.Name);
        }
        var result = files.Distinct(StringComparer.Ordinal).ToList();
        foreach (var f in result)
            if (!File.Exists(Path.Combine(serverDirectory, f)))
                throw new FileNotFoundException(
                    $"The server needs {f}, which is missing from {serverDirectory}; rebuild the module with build.ps1.",
                    Path.Combine(serverDirectory, f));
        return result;
    }
}
