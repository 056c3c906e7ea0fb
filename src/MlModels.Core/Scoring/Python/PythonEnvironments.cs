using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring.Python;

/// <summary>A model's prepared environment (Initialize-MLModelEnvironment): where it is and the Python that runs the model in it.</summary>
public sealed record PythonEnvironmentInfo(string ModelName, string ModelPath, EnvManager EnvManager, string BasePython, string Python,
    string Directory, bool Created);

/// <summary>Chooses the Python that runs a model and, for VirtualEnv and Conda, makes (and caches) its environment.</summary>
public static class PythonEnvironments
{
    /// <summary>
    /// MLflow's <c>prepare-env</c>: the model's environment made (or found in the cache) ahead of scoring or serving,
    /// which then reuse it; the Python is chosen as <see cref="ChooseForModel"/> chooses it.
    /// </summary>
    public static PythonEnvironmentInfo Initialize(MLModel model, string? pythonPath, EnvManager manager, IProgress<string>? progress,
        CancellationToken ct)
    {
        if (model.Path == null) throw new InvalidOperationException($"Save model '{model.Name}' before making its environment.");
        var basePython = ChooseForModel(model, pythonPath, manager);
        if (manager == EnvManager.Local) return new PythonEnvironmentInfo(model.Name, model.Path, manager, basePython, basePython, "", false);
        var (dir, ready) = Location(model, basePython, manager);
        var python = Prepare(model, basePython, manager, progress, ct);
        return new PythonEnvironmentInfo(model.Name, model.Path, manager, basePython, python, dir, !ready);
    }

    public const string PythonVariable = "MLMODELS_PYTHON";

    /// <summary>The Python given (a cmdlet's -PythonPath, the server's --python), then MLMODELS_PYTHON, then python3 or python on PATH.</summary>
    public static string ChoosePython(string? explicitPath)
    {
        if (!string.IsNullOrEmpty(explicitPath)) return explicitPath;
        var fromEnv = Environment.GetEnvironmentVariable(PythonVariable);
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        foreach (var name in OperatingSystem.IsWindows() ? new[] { "python.exe", "python3.exe" } : ["python3", "python"])
            if (FindOnPath(name) is string found) return found;
        throw new PythonWorkerException($"No Python found: install Python 3, put python3 on PATH, or name one in {PythonVariable}.",
            PythonWorkerFailure.PythonNotFound);
    }

    public static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>
    /// The base Python for a model. Local: the usual choice (<see cref="ChoosePython"/>); a version other than the
    /// model's is a warning later, as MLflow's local manager warns. VirtualEnv: an interpreter of the minor version
    /// python_env.yaml names, as MLflow's virtualenv manager installs that version: -PythonPath or MLMODELS_PYTHON if
    /// it is one, else python3.X on PATH, else the usual choice if it is one, else an error naming what was found.
    /// Conda: the usual choice; conda.yaml's own python pin decides the environment's version.
    /// </summary>
    public static string ChooseForModel(MLModel model, string? explicitPath, EnvManager manager)
    {
        if (manager != EnvManager.VirtualEnv || model.Path == null) return ChoosePython(explicitPath);
        string? wanted;
        try { wanted = EnvironmentFiles.Read(model).PythonVersion; }
        catch (Exception ex) when (ex is MLModelFormatException or IOException)
        {
            wanted = model.Flavors.GetValueOrDefault("python_function")?.PythonVersion;
        }
        if (wanted == null) return ChoosePython(explicitPath);
        var minor = Minor(wanted);
        var named = !string.IsNullOrEmpty(explicitPath) ? explicitPath : Environment.GetEnvironmentVariable(PythonVariable);
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(named)) candidates.Add(named);
        else
        {
            if (FindOnPath(OperatingSystem.IsWindows() ? $"python{minor}.exe" : $"python{minor}") is string exact) candidates.Add(exact);
            try { candidates.Add(ChoosePython(null)); } catch (PythonWorkerException) { }
        }
        var found = new List<string>();
        foreach (var python in candidates.Distinct())
        {
            var version = VersionOf(python);
            if (version == minor) return python;
            found.Add($"{python} ({(version == null ? "does not run" : "Python " + version)})");
        }
        throw new PythonWorkerException($"Model '{model.Name}' wants Python {wanted} (its python_env.yaml), and a virtual environment is made " +
            $"from an interpreter of that version; " +
            $"found {(found.Count == 0 ? "no Python" : string.Join(", ", found))}. Install Python {minor} (python{minor} on PATH) or name an " +
                $"interpreter of that version; " +
            "the Local environment manager runs the model on the Python at hand, with a warning.", PythonWorkerFailure.PythonVersionNotFound);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> Versions = new();

    /// <summary>An interpreter's major.minor version, asked once per path; null when it does not run.</summary>
    public static string? VersionOf(string python) => Versions.GetOrAdd(python, p =>
    {
        try
        {
            using var proc = Process.Start(new ProcessStartInfo(p,
                ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
                UseShellExecute = false
            });
            if (proc == null) return null;
            var text = proc.StandardOutput.ReadToEnd().Trim();
            if (!proc.WaitForExit(30_000)) { proc.Kill(true); return null; }
            return proc.ExitCode == 0 && text.Length > 0 ? text : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    });

    private static string Minor(string v) => string.Join('.', v.Split('.').Take(2));

    /// <summary>Where the environment for this model, base Python and manager is cached, and whether it is ready.</summary>
    public static (string Directory, bool Ready) Location(MLModel model, string basePython, EnvManager manager)
    {
        var dir = Path.Combine(CacheRoot, $"{manager.ToString().ToLowerInvariant()}-{EnvironmentKey(model, basePython, manager)}");
        return (dir, File.Exists(Path.Combine(dir, ".mlmodels-ready")));
    }

    /// <summary>Warns when the model asks for another Python minor version than the worker runs.</summary>
    public static void WarnOnVersion(MLModel model, string? running, Action<string>? warn)
    {
        if (running == null || model.Path == null) return;
        string? wanted;
        try { wanted = EnvironmentFiles.Read(model).PythonVersion; }
        catch (Exception ex) when (ex is MLModelFormatException or IOException)
        {
            wanted = model.Flavors.GetValueOrDefault("python_function")?.PythonVersion;
        }
        if (wanted == null) return;
        if (Minor(wanted) != Minor(running))
            warn?.Invoke($"Model '{model.Name}' was saved with Python {wanted}, but it is running on Python {running}; pickled models may not " +
                $"load or may behave differently. Run it on a Python {Minor(wanted)}, or in an environment made from the model's requirements.");
    }

    /// <summary>The environment's key: what it is built from, so an unchanged model reuses it.</summary>
    public static string EnvironmentKey(MLModel model, string basePython, EnvManager manager)
    {
        var sb = new StringBuilder(manager.ToString()).Append('\n').Append(basePython).Append('\n');
        foreach (var f in new[] { "python_env.yaml", "requirements.txt", "conda.yaml" })
        {
            var p = Path.Combine(model.Path!, f);
            if (File.Exists(p)) sb.Append(f).Append('\n').Append(File.ReadAllText(p));
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..20].ToLowerInvariant();
    }

    public static string CacheRoot =>
        Environment.GetEnvironmentVariable("MLMODELS_ENV_CACHE")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "mlmodels", "envs");

    /// <summary>What preparing the environment would do (for -WhatIf).</summary>
    public static string Describe(MLModel model, string basePython, EnvManager manager)
    {
        if (manager == EnvManager.Local) return $"Use {basePython} as it is.";
        var dir = Path.Combine(CacheRoot, $"{manager.ToString().ToLowerInvariant()}-{EnvironmentKey(model, basePython, manager)}");
        if (Directory.Exists(dir)) return $"Reuse the cached environment {dir}.";
        var reqs = Requirements(model);
        return manager == EnvManager.Conda
            ? $"Create a conda environment at {dir} from {Path.Combine(model.Path!, "conda.yaml")}."
            : $"Create a virtual environment at {dir} from {basePython} and install: {(reqs.Count == 0 ? "nothing" : string.Join(", ", reqs))}.";
    }

    /// <summary>Returns the Python to run: the base one (Local) or the cached environment's, creating it if needed.</summary>
    public static string Prepare(MLModel model, string basePython, EnvManager manager, IProgress<string>? progress, CancellationToken ct)
    {
        if (manager == EnvManager.Local) return basePython;
        var dir = Path.Combine(CacheRoot, $"{manager.ToString().ToLowerInvariant()}-{EnvironmentKey(model, basePython, manager)}");
        var python = OperatingSystem.IsWindows() ? Path.Combine(dir, "Scripts", "python.exe") : Path.Combine(dir, "bin", "python");
        if (File.Exists(Path.Combine(dir, ".mlmodels-ready"))) return python;
        var staging = dir + ".creating-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        try
        {
            if (manager == EnvManager.Conda)
            {
                var conda = FindOnPath(OperatingSystem.IsWindows() ? "conda.exe" : "conda")
                    ?? throw new PythonWorkerException("A conda environment needs conda on PATH; install Miniconda, or make a virtual environment " +
                        "instead.", PythonWorkerFailure.CondaNotFound);
                var condaYaml = Path.Combine(model.Path!, "conda.yaml");
                if (!File.Exists(condaYaml)) throw new PythonWorkerException($"Model '{model.Name}' has no conda.yaml to build a conda " +
                    $"environment from.", PythonWorkerFailure.EnvironmentFileMissing);
                progress?.Report($"Creating conda environment {dir}");
                Run(conda, ["env", "create", "--quiet", "-p", staging, "-f", condaYaml], progress, ct);
                python = OperatingSystem.IsWindows() ? Path.Combine(dir, "python.exe") : python;
            }
            else
            {
                progress?.Report($"Creating virtual environment {dir}");
                // System site-packages let requirements the machine already satisfies resolve offline.
                Run(basePython, ["-m", "venv", "--system-site-packages", staging], progress, ct);
                var reqs = Requirements(model);
                if (reqs.Count > 0)
                {
                    var reqFile = Path.Combine(staging, "mlmodels-requirements.txt");
                    File.WriteAllLines(reqFile, reqs);
                    var stagedPython = OperatingSystem.IsWindows() ? Path.Combine(staging, "Scripts", "python.exe") : Path.Combine(staging,
                        "bin", "python");
                    progress?.Report($"Installing {reqs.Count} requirements");
                    Run(stagedPython, ["-m", "pip", "install", "--disable-pip-version-check", "-r", reqFile], progress, ct);
                }
            }
            File.WriteAllText(Path.Combine(staging, ".mlmodels-ready"), DateTime.UtcNow.ToString("O"));
            Directory.Move(staging, dir);
            return python;
        }
        catch
        {
            try { if (Directory.Exists(staging)) Directory.Delete(staging, true); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>The model's pip requirements, without MLflow itself (the worker does not need it) and without -r lines.</summary>
    public static IReadOnlyList<string> Requirements(MLModel model)
    {
        var file = Path.Combine(model.Path!, "requirements.txt");
        if (!File.Exists(file)) return [];
        return EnvironmentFiles.ReadRequirements(file)
            .Where(r => !r.StartsWith('-') && !System.Text.RegularExpressions.Regex.IsMatch(r, @"^mlflow(\s|[<>=!~\[;]|$)"))
            .ToList();
    }

    private static void Run(string exe, IEnumerable<string> args, IProgress<string>? progress, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new PythonWorkerException($"Cannot start {exe}.", PythonWorkerFailure.EnvironmentFailed);
        var err = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data != null) progress?.Report(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (err) err.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        while (!p.WaitForExit(200))
        {
            if (ct.IsCancellationRequested) { p.Kill(true); ct.ThrowIfCancellationRequested(); }
        }
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new PythonWorkerException($"'{exe} {string.Join(' ', psi.ArgumentList)}' failed (exit code {p.ExitCode}): " +
                $"{err.ToString().Trim().Split('\n').LastOrDefault()}", PythonWorkerFailure.EnvironmentFailed);
    }
}
