using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace MlModels.Core.Scoring.Onnx;

/// <summary>Loads ONNX Runtime's native library from the module's own folder by absolute path, before ORT looks for it.</summary>
public static class OnnxRuntimeLoader
{
    private static readonly object Gate = new();
    private static bool _loaded;

    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded) return;
            var baseDir = Path.GetDirectoryName(typeof(InferenceSession).Assembly.Location)!;
            var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
            var file = OperatingSystem.IsWindows() ? "onnxruntime.dll" : OperatingSystem.IsMacOS() ? "libonnxruntime.dylib" : "libonnxruntime.so";
            foreach (var candidate in new[] { Path.Combine(baseDir, "runtimes", $"{os}-{arch}", "native", file), Path.Combine(baseDir, file) })
            {
                // Loading by full path first means a system copy (Windows ships an old one in System32) is never used.
                if (System.IO.File.Exists(candidate)) { NativeLibrary.Load(candidate); break; }
            }
            OnnxRuntimeEnvironment.Create(); // ORT's log goes to OnnxRuntimeLog, not the console
            _loaded = true;
        }
    }
}
