using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace MlModels.Core.Scoring.Onnx;

/// <summary>Loads ONNX Runtime's native library from the module's own folder by absolute path, before ORT looks for it.</summary>
public static class OnnxRuntimeLoader
{
    private static readonly object Gate = new();
    private static bool _loaded;

    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "An empty location falls back to the executable's folder.")]
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded) return;
            // A native (ahead-of-time compiled) server has no assembly files: its folder is the executable's.
            var location = typeof(InferenceSession).Assembly.Location;
            var baseDir = string.IsNullOrEmpty(location) ? AppContext.BaseDirectory : Path.GetDirectoryName(location)!;
            var native = LibraryPath(baseDir, RuntimeId);
            foreach (var candidate in new[] { native, Path.Combine(baseDir, Path.GetFileName(native)) })
            {
                // Loading by full path first means a system copy (Windows ships an old one in System32) is never used.
                if (System.IO.File.Exists(candidate)) { NativeLibrary.Load(candidate); break; }
            }
            OnnxRuntimeEnvironment.Create(); // ORT's log goes to OnnxRuntimeLog, not the console
            _loaded = true;
        }
    }

    /// <summary>The runtime identifier whose native library this process loads: linux-x64, osx-arm64, win-arm64, ...</summary>
    public static string RuntimeId { get; } =
        (OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux") + "-" +
        RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();

    /// <summary>Where ONNX Runtime's library for a runtime identifier lies under a dependencies folder (the package's layout).</summary>
    public static string LibraryPath(string baseDir, string runtimeId)
    {
        var file = runtimeId.StartsWith("win-", StringComparison.Ordinal) ? "onnxruntime.dll"
            : runtimeId.StartsWith("osx-", StringComparison.Ordinal) ? "libonnxruntime.dylib"
            : "libonnxruntime.so";
        return Path.Combine(baseDir, "runtimes", runtimeId, "native", file);
    }
}
