using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MlModels.Core;
using MlModels.Core.Format;
using MlModels.Core.Serving;

namespace MlModels.Deploy.Docker;

/// <summary>What an image serves: an ONNX model on .NET alone, a python_function model (Python and .NET), or any mounted model.</summary>
public enum ImageKind { Onnx, Python, GenericOnnx, GenericPython }

/// <summary>Which build of the scoring server an image carries.</summary>
public enum ServerBuild
{
    /// <summary>The native server where the module carries it for the image's platform (linux-x64), else the framework-dependent one.</summary>
    Auto,
    /// <summary>The server compiled ahead of time (Native AOT): no .NET runtime in the image and no JIT at start; needs glibc
    /// 2.34 or later in the base.</summary>
    Native,
    /// <summary>The framework-dependent server on the ASP.NET Core runtime (the base's own, or copied from the .NET image).</summary>
    Framework,
}

/// <summary>Choices for a build context; every one has a default that works with the official images.</summary>
public sealed record DockerContextOptions
{
    /// <summary>
    /// The official ASP.NET Core runtime image: the base of ONNX images and where every image's .NET runtime comes from.
    /// The chiseled (distroless) flavour: no shell or package manager, the smallest official base with glibc and
    /// libstdc++; nothing in an ONNX image needs a shell (the HEALTHCHECK is the server's own command).
    /// </summary>
    public const string DefaultDotnetImage = "mcr.microsoft.com/dotnet/aspnet:8.0-noble-chiseled";

    /// <summary>
    /// The base of ONNX images that carry the native server: the official image made for self-contained and native .NET
    /// programs (glibc, libstdc++, certificates; chiseled, no .NET runtime).
    /// </summary>
    public const string DefaultNativeBaseImage = "mcr.microsoft.com/dotnet/runtime-deps:8.0-noble-chiseled";

    /// <summary>The final stage's base. Default: for ONNX models the runtime-deps image with the native server, the .NET
    /// image with the framework-dependent one; python:&lt;major.minor&gt;-slim for python_function models.</summary>
    public string? BaseImage { get; init; }

    /// <summary>The image the ASP.NET Core runtime is copied from (its /usr/share/dotnet) when the base is another image;
    /// unused with the native server.</summary>
    public string DotnetImage { get; init; } = DefaultDotnetImage;

    /// <summary>No model inside: the image serves whatever model is mounted at /opt/ml/model.</summary>
    public bool Generic { get; init; }

    /// <summary>For a generic image: the Python version to carry (python_function models), or null for ONNX alone.</summary>
    public string? PythonVersion { get; init; }

    /// <summary>The platform of the server's native libraries (linux-x64 or linux-arm64).</summary>
    public string Platform { get; init; } = "linux-x64";

    /// <summary>Which build of the server the image carries (default: the native one where the module has it).</summary>
    public ServerBuild Server { get; init; } = ServerBuild.Auto;

    /// <summary>Where the server's files come from; default the module's own dependencies folder.</summary>
    public string? ServerDirectory { get; init; }

    /// <summary>Replace an existing, non-empty output folder.</summary>
    public bool Force { get; init; }

    /// <summary>Install MLflow into the image even where the worker's own loader scores the model (MLflow's --install-mlflow).</summary>
    public bool InstallMlflow { get; init; }

    /// <summary>A folder of wheels the requirements are installed from, with no package index (pip --no-index --find-links).</summary>
    public string? Wheelhouse { get; init; }
}

/// <summary>How the image's Python worker loads a python_function model.</summary>
public enum PythonLoader
{
    /// <summary>The worker's own loader (sklearn, PythonModel, code models, xgboost, pytorch, statsmodels): no MLflow needed.</summary>
    Builtin,
    /// <summary>Another of MLflow's flavor modules: MLflow is installed into the image.</summary>
    Mlflow,
}

/// <summary>A written build context: its folder and what the Dockerfile in it makes.</summary>
public sealed record DockerContext(
    string Path,
    ImageKind Kind,
    string BaseImage,
    string DotnetImage,
    string Platform,
    IReadOnlyDictionary<string, string> Labels)
{
    /// <summary>For a python_function image: whether the worker's own loader or MLflow loads the model; else null.</summary>
    public PythonLoader? Loader { get; init; }
    /// <summary>What the image's pip step installs (the model's requirements, MLflow added or left out).</summary>
    public IReadOnlyList<string> Requirements { get; init; } = [];
    /// <summary>Why the loader was chosen, for the cmdlets' verbose output.</summary>
    public string? LoaderReason { get; init; }
    /// <summary>The server build the image carries: <see cref="ServerBuild.Native"/> or <see cref="ServerBuild.Framework"/>.</summary>
    public ServerBuild Server { get; init; } = ServerBuild.Framework;

    public string Dockerfile => System.IO.Path.Combine(Path, "Dockerfile");
    public string? ModelName => Labels.GetValueOrDefault(DockerContextWriter.LabelPrefix + "model.name");
}

/// <summary>
/// Writes a build context folder (MLflow's <c>generate-dockerfile</c>): a Dockerfile, the module's server and the model
/// (none for a generic image), and nothing else. Every image keeps SageMaker's serving contract: the entrypoint takes
/// <c>serve</c>, the model lives at /opt/ml/model, the server listens on 8080; it runs as a non-root user and has a
/// HEALTHCHECK on /ping (the server's own <c>healthcheck</c> command, so no shell or curl is needed in the base).
/// </summary>
public static partial class DockerContextWriter
{
    public const string LabelPrefix = "mlmodels.";
    public const string ModelDir = ServerCommandLine.SageMakerModelPath;
    public const string ServerDir = "/opt/mlmodels/server";
    public const string DotnetRoot = "/usr/share/dotnet";
    public const string VenvDir = "/opt/mlmodels/venv";
    public const string WheelhouseDir = "/opt/mlmodels/wheelhouse";
    public const int Port = 8080;

    /// <summary>The Open Inference Protocol's gRPC port, beside the HTTP one (as KServe's V2 images serve it).</summary>
    public const int GrpcPort = ServerCommandLine.ServeGrpcPort;

    /// <summary>Azure ML's inference port (liveness GET /, POST /score): the server's port when run with MLMODELS_SERVE_PORT=5001.</summary>
    public const int AzureMLPort = 5001;

    /// <summary>The official .NET images' non-root user (app, 1654); numeric so bases without that user work too.</summary>
    public const string User = "1654:1654";

    /// <summary>The container's command line: the native server's executable, or the server assembly on the image's
    /// dotnet; its arguments (CMD) are ServerCommandLine's <c>serve</c>.</summary>
    public static IReadOnlyList<string> Entrypoint(bool native) => native
        ? [$"{ServerDir}/{ServerFiles.NativeExecutable}"]
        : [$"{DotnetRoot}/dotnet", $"{ServerDir}/{ServerFiles.Assembly}"];

    private const UnixFileMode ExecuteBits = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public static DockerContext Write(MLModel? model, string outputPath, DockerContextOptions options, CancellationToken cancellationToken = default)
    {
        if (model == null && !options.Generic) throw new ArgumentException("Give a model, or ask for a generic image.");
        if (model != null && options.Generic) throw new ArgumentException("A generic image carries no model; give either a model or -Generic.");
        if (model is { Path: null }) throw new InvalidOperationException($"Save model '{model.Name}' before building an image of it.");
        ValidateImage(options.DotnetImage, "the .NET image");
        if (options.BaseImage != null) ValidateImage(options.BaseImage, "the base image");
        ServerFiles.DockerPlatform(options.Platform);

        var kind = KindOf(model, options);
        string? pythonVersion = null;
        IReadOnlyList<string> requirements = [];
        PythonLoader? loader = null;
        string? reason = null;
        if (kind == ImageKind.Python)
        {
            var env = EnvironmentFiles.Read(model!);
            pythonVersion = env.PythonVersion;
            (loader, reason) = LoaderOf(model!, options.InstallMlflow);
            requirements = Requirements(env, loader == PythonLoader.Mlflow, model!.MlflowVersion);
            if (options.BaseImage == null) RequireFlavorLibrary(model, requirements);
        }
        string? wheelhouse = null;
        if (options.Wheelhouse != null)
        {
            wheelhouse = Path.GetFullPath(options.Wheelhouse);
            if (!Directory.Exists(wheelhouse)) throw new DirectoryNotFoundException(
                $"The wheelhouse '{wheelhouse}' is not a folder; give a folder of wheels (pip download -r requirements.txt -d <folder>).");
            if (requirements.Count == 0) wheelhouse = null; // nothing to install
        }
        else if (kind == ImageKind.GenericPython)
        {
            pythonVersion = options.PythonVersion;
            // A generic image's models arrive at run time; MLflow goes in only when asked, for the loaders the worker lacks.
            loader = options.InstallMlflow ? PythonLoader.Mlflow : PythonLoader.Builtin;
            if (options.InstallMlflow) requirements = ["mlflow"];
        }
        var serverDir = options.ServerDirectory ?? ServerFiles.DefaultDirectory;
        var native = options.Server switch
        {
            ServerBuild.Native => true,
            ServerBuild.Framework => false,
            _ => ServerFiles.HasNative(serverDir, options.Platform),
        };
        // A .NET image named by the caller stays the ONNX image's base with either server (a mirror, a pinned digest);
        // only the default one gives way to the smaller runtime-deps image under the native server.
        var baseImage = options.BaseImage ?? (kind is ImageKind.Python or ImageKind.GenericPython
            ? $"python:{PythonMinor(pythonVersion)}-slim"
            : native && options.DotnetImage == DockerContextOptions.DefaultDotnetImage ? DockerContextOptions.DefaultNativeBaseImage
            : options.DotnetImage);

        var target = Path.GetFullPath(outputPath);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            if (!options.Force) throw new TargetExistsException($"The folder '{target}' is not empty, and replacing it was not asked for.", target);
            if (model != null && ModelFiles.IsUnder(target, Path.GetFullPath(model.Path!))
                || model != null && ModelFiles.IsUnder(Path.GetFullPath(model.Path!), target))
                throw new IOException($"The build context '{target}' and the model folder '{model.Path}' overlap; write the context elsewhere.");
        }
        if (File.Exists(target)) throw new IOException($"'{target}' is a file; the build context needs a folder.");

        // Written beside the target and renamed into place, so a failure leaves no half-made context.
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, "." + Path.GetFileName(target) + ".mlmodels-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Directory.CreateDirectory(staging);
            // A python_function image scores through its Python worker only: ONNX Runtime's library (29 MB) stays out.
            // A generic Python image keeps it, since a model mounted at run time may be an ONNX one.
            var files = native
                ? ServerFiles.NativeList(serverDir, options.Platform, withOnnxRuntime: kind != ImageKind.Python)
                : ServerFiles.List(serverDir, options.Platform)
                    .Where(f => kind != ImageKind.Python || !ServerFiles.IsOnnxRuntimeNative(f)).Select(f => (f, f)).ToList();
            foreach (var (source, rel) in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var dest = Path.Combine(staging, "server", rel);
                Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
                File.Copy(Path.Combine(serverDir, source), dest);
                // A package (a zip) keeps no Unix mode, so an installed module's native server may have lost its
                // execute bit; the image's copy must have it (the tar of the context carries the mode).
                if (native && rel == ServerFiles.NativeExecutable && !OperatingSystem.IsWindows())
                    File.SetUnixFileMode(dest, File.GetUnixFileMode(dest) | ExecuteBits);
            }
            if (model != null)
            {
                var modelTarget = Path.Combine(staging, "model");
                Directory.CreateDirectory(modelTarget);
                ModelFiles.CopyModelFiles(model.Path!, modelTarget, null, null, cancellationToken);
                File.Copy(model.MLmodelFile ?? Path.Combine(model.Path!, "MLmodel"), Path.Combine(modelTarget, "MLmodel"));
            }
            if (requirements.Count > 0)
                File.WriteAllText(Path.Combine(staging, "requirements.txt"), string.Join('\n', requirements) + "\n");
            if (wheelhouse != null)
            {
                var dest = Path.Combine(staging, "wheelhouse");
                Directory.CreateDirectory(dest);
                foreach (var file in Directory.EnumerateFiles(wheelhouse))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    File.Copy(file, Path.Combine(dest, Path.GetFileName(file)));
                }
            }

            var labels = Labels(model, kind, loader, native);
            File.WriteAllText(
                Path.Combine(staging, "Dockerfile"),
                Dockerfile(kind, baseImage, options.DotnetImage, requirements.Count > 0, labels, wheelhouse != null, native));

            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(staging, target);
            return new DockerContext(target, kind, baseImage, options.DotnetImage, options.Platform, labels)
            {
                Loader = loader,
                Requirements = requirements,
                LoaderReason = reason,
                Server = native ? ServerBuild.Native : ServerBuild.Framework,
            };
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>ONNX wherever the model has an onnx flavor (the server scores it without Python); else python_function.</summary>
    public static ImageKind KindOf(MLModel? model, DockerContextOptions options)
    {
        if (model == null) return options.PythonVersion != null ? ImageKind.GenericPython : ImageKind.GenericOnnx;
        if (model.Flavors.ContainsKey("onnx")) return ImageKind.Onnx;
        if (model.Flavors.ContainsKey("python_function")) return ImageKind.Python;
        throw new ArgumentException($"Model '{model.Name}' has neither an onnx nor a python_function flavor " +
            $"({string.Join(", ", model.FlavorNames)}), so no server can score it.");
    }

    /// <summary>The loader modules the worker carries its own loader for; any other mlflow.* module needs MLflow.</summary>
    public static readonly IReadOnlySet<string> BuiltinLoaders = new HashSet<string>(StringComparer.Ordinal)
    {
        "mlflow.sklearn", "mlflow.pyfunc.model", "mlflow.xgboost", "mlflow.pytorch", "mlflow.statsmodels",
    };

    /// <summary>
    /// Who loads the model in the image: the worker's own loader for the flavors it carries and for code models (a
    /// loader module of the model's own), MLflow for its other flavor modules or when asked (<paramref name="installMlflow"/>).
    /// </summary>
    public static (PythonLoader Loader, string Reason) LoaderOf(MLModel model, bool installMlflow)
    {
        var conf = model.Flavors.TryGetValue("python_function", out var f) ? f : null;
        var module = conf?["loader_module"] as string ?? conf?["main"] as string;
        if (installMlflow) return (PythonLoader.Mlflow, $"MLflow is installed as asked (-InstallMlflow); the model's loader is " +
            $"{module ?? "(none)"}.");
        if (module == null || !module.StartsWith("mlflow.", StringComparison.Ordinal))
            return (PythonLoader.Builtin, $"the model's own loader module {(module == null ? "(none named)" : $"'{module}'")} is " +
                $"imported by the worker; MLflow is left out.");
        if (BuiltinLoaders.Contains(
            module)) return (PythonLoader.Builtin, $"the worker's own loader for {module} scores it as MLflow does; MLflow is left out.");
        return (PythonLoader.Mlflow, $"{module} has no loader in the worker, so MLflow is installed to load it.");
    }

    /// <summary>The flavor library each built-in loader imports: its pip distribution, and where the MLmodel records the version saved.</summary>
    private static readonly Dictionary<string, (string Distribution, string Flavor, string VersionKey)> FlavorLibraries = new(StringComparer.Ordinal)
    {
        ["mlflow.xgboost"] = ("xgboost", "xgboost", "xgb_version"),
        ["mlflow.pytorch"] = ("torch", "pytorch", "pytorch_version"),
        ["mlflow.statsmodels"] = ("statsmodels", "statsmodels", "statsmodels_version"),
        ["mlflow.sklearn"] = ("scikit-learn", "sklearn", "sklearn_version"),
    };

    /// <summary>
    /// On the default base (which has only Python), the model's requirements are all the image gets: a flavor library
    /// they leave out would fail only when the container starts, so the build is refused now, naming the fix.
    /// </summary>
    public static void RequireFlavorLibrary(MLModel model, IReadOnlyList<string> requirements)
    {
        var module = model.Flavors.TryGetValue("python_function", out var f) ? f["loader_module"] as string : null;
        if (module == null || !FlavorLibraries.TryGetValue(module, out var lib) || requirements.Count == 0) return;
        if (requirements.Any(r => Normalize(RequirementName().Match(r).Value) == Normalize(lib.Distribution))) return;
        var version = model.Flavors.TryGetValue(lib.Flavor, out var fl) ? fl[lib.VersionKey]?.ToString()?.Split('+')[0] : null;
        var pin = version == null ? lib.Distribution : $"{lib.Distribution}=={version}";
        throw new ArgumentException($"Model '{model.Name}' is loaded by {module}, which needs the {lib.Distribution} distribution, but " +
            $"the model's requirements do not list it, " +
            $"so its image would build and then fail at start. Add " +
                $"\"{pin}\"{(version == null ? "" : " (the version the model was saved with)")} to the model's requirements.txt, or " +
                    $"give a -BaseImage that has it.");
    }

    private static string Normalize(string name) => Regex.Replace(name, "[-_.]+", "-").ToLowerInvariant();

    /// <summary>
    /// The model's pip requirements. MLflow itself is left out (the image's server speaks MLflow's protocol) unless
    /// <paramref name="keepMlflow"/>: then the model's own pin stays, or MLflow at the version that saved it is added.
    /// </summary>
    public static IReadOnlyList<string> Requirements(ModelEnvironment env, bool keepMlflow = false, string? mlflowVersion = null)
    {
        var lines = env.Requirements
            ?? env.PythonEnv?.Dependencies.Where(d => !d.StartsWith("-r", StringComparison.Ordinal)).ToList() ?? env.Conda?.PipDependencies ?? [];
        var result = new List<string>();
        foreach (var line in lines)
        {
            if (line.StartsWith('-'))
            {
                // Options and references to other files (-r, -c) point into the model folder, which the image holds at /opt/ml/model.
                var m = FileOption().Match(line);
                result.Add(m.Success ? $"{m.Groups[1].Value} {ModelDir}/{m.Groups[2].Value.Trim()}" : line);
                continue;
            }
            if (IsMlflow(line) && !keepMlflow) continue;
            result.Add(line);
        }
        if (keepMlflow && !result.Any(IsMlflow)) result.Add(
            mlflowVersion is string v && Regex.IsMatch(v, @"^\d+(\.\d+)*$") ? $"mlflow=={v}" : "mlflow");
        return result;
    }

    private static bool IsMlflow(string requirement)
    {
        var name = RequirementName().Match(requirement).Value.ToLowerInvariant().Replace('_', '-');
        return name is "mlflow" or "mlflow-skinny";
    }

    private static string PythonMinor(string? version)
    {
        if (version == null) return "3.11";
        var parts = version.Split('.');
        return parts.Length >= 2 ? $"{parts[0]}.{parts[1]}" : version;
    }

    private static void ValidateImage(string image, string what)
    {
        if (!ImageReference.TryParse(image, out _, out var error)) throw new ArgumentException($"{what[..1].ToUpperInvariant()}{what[1..]}: {error}");
    }

    public static IReadOnlyDictionary<string, string> Labels(MLModel? model, ImageKind kind, PythonLoader? loader = null, bool native = false)
    {
        var version = ModuleVersion.Full;
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["org.opencontainers.image.title"] = model != null ? $"MLflow model {model.Name}" : "MLflow model server",
            ["org.opencontainers.image.description"] =
                "Serves MLflow's scoring protocol (/ping, /invocations) and the Open Inference Protocol (V2 REST, /v2) on port 8080, V2 gRPC " +
                "on 8081; SageMaker's 'serve' contract with the model at /opt/ml/model.",
            ["org.opencontainers.image.version"] = version,
            [LabelPrefix + "version"] = version,
            [LabelPrefix + "protocols"] = "mlflow,azureml,v2-rest,v2-grpc",
            [LabelPrefix + "grpc.port"] = GrpcPort.ToString(CultureInfo.InvariantCulture),
            [LabelPrefix + "server"] = native ? "native" : "framework",
            [LabelPrefix + "kind"] = kind switch
            {
                ImageKind.Onnx => "onnx",
                ImageKind.Python => "python",
                ImageKind.GenericOnnx => "generic-onnx",
                _ => "generic-python",
            },
        };
        if (model != null)
        {
            labels[LabelPrefix + "model.name"] = model.Name;
            labels[LabelPrefix + "model.flavors"] = string.Join(",", model.FlavorNames);
            if (model.ModelUuid != null) labels[LabelPrefix + "model.uuid"] = model.ModelUuid;
            if (model.RunId != null) labels[LabelPrefix + "model.run_id"] = model.RunId;
            if (model.MlflowVersion != null) labels[LabelPrefix + "model.mlflow_version"] = model.MlflowVersion;
            if (model.Origin?.Version is { Length: > 0 } registryVersion) labels[LabelPrefix + "model.version"] = registryVersion;
        }
        if (loader != null) labels[LabelPrefix + "python.loader"] = loader == PythonLoader.Mlflow ? "mlflow" : "builtin";
        return labels;
    }

    /// <summary>
    /// The Dockerfile. What is the same for every model comes first (environment, port, health check, entrypoint,
    /// runtime, Python packages), so the engine's cache serves it to the next model; the server, the model and its
    /// labels come last. Metadata steps are few because each one is a container commit.
    /// </summary>
    public static string Dockerfile(
        ImageKind kind,
        string baseImage,
        string dotnetImage,
        bool hasRequirements,
        IReadOnlyDictionary<string, string> labels,
        bool wheelhouse = false,
        bool native = false)
    {
        var python = kind is ImageKind.Python or ImageKind.GenericPython;
        var sb = new StringBuilder();
        sb.Append("# Made by MlModels (New-MLModelDockerfile). Serves MLflow's scoring protocol and the Open Inference Protocol (V2 REST) ")
            .Append("on port ").Append(Port).Append(", V2 gRPC on ").Append(GrpcPort).Append("; run with 'serve' (the default).\n");
        // The native server needs no .NET runtime; the framework-dependent one takes it from the .NET image unless the base is that image.
        var copyRuntime = !native && !string.Equals(baseImage, dotnetImage, StringComparison.Ordinal);
        if (copyRuntime) sb.Append("FROM ").Append(dotnetImage).Append(" AS dotnet\n");
        sb.Append("FROM ").Append(baseImage).Append('\n');
        sb.Append("ENV HOME=/tmp DOTNET_RUNNING_IN_CONTAINER=true DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 ")
            .Append(ServerCommandLine.Gen0SizeVariable).Append('=').Append(ServerCommandLine.Gen0Size);
        if (python) sb.Append(" MLMODELS_PYTHON=").Append(VenvDir).Append("/bin/python");
        // A generic image installs what a mounted model needs and the image lacks at start, into a cached environment.
        if (kind == ImageKind.GenericPython)
            sb.Append(' ').Append(ServerCommandLine.ServeEnvManagerVariable).Append("=virtualenv MLMODELS_ENV_CACHE=/tmp/mlmodels-envs");
        sb.Append('\n');
        // 5001 is Azure ML's inference port, where the server listens with MLMODELS_SERVE_PORT=5001 (Publish-MLModelAzureML -Local).
        sb.Append("EXPOSE ").Append(Port.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(GrpcPort.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(AzureMLPort.ToString(CultureInfo.InvariantCulture))
            .Append('\n');
        sb.Append("HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ").Append(Exec([.. Entrypoint(native), "healthcheck"]))
            .Append('\n');
        sb.Append("ENTRYPOINT ").Append(Exec(Entrypoint(native))).Append('\n');
        sb.Append("CMD ").Append(Exec([ServerCommandLine.Serve])).Append('\n');
        if (copyRuntime) sb.Append("COPY --from=dotnet ").Append(DotnetRoot).Append(' ').Append(DotnetRoot).Append('\n');
        if (python)
        {
            // A venv over the base's own packages: what the base already has is not downloaded again. One RUN, since
            // each step is a layer commit.
            if (hasRequirements)
            {
                // The model comes first here: its requirements may name other files in it (-r, -c).
                if (kind == ImageKind.Python) sb.Append("COPY model ").Append(ModelDir).Append('\n');
                sb.Append("COPY requirements.txt /opt/mlmodels/requirements.txt\n");
                if (wheelhouse) sb.Append("COPY wheelhouse ").Append(WheelhouseDir).Append('\n');
                // An index for pip, given to the build as arguments (they are not kept in the image's environment).
                sb.Append("ARG PIP_INDEX_URL\nARG PIP_EXTRA_INDEX_URL\nARG PIP_TRUSTED_HOST\n");
            }
            // pip stays in the venv only where a model's requirements are installed at start (a generic image); a
            // model image needs it for the build alone, and a venv made without requirements needs none.
            sb.Append("RUN python3 -m venv --system-site-packages ");
            if (!hasRequirements && kind == ImageKind.Python) sb.Append("--without-pip ");
            sb.Append(VenvDir);
            if (hasRequirements)
            {
                sb.Append(" && ").Append(VenvDir).Append("/bin/python -m pip install --no-cache-dir --disable-pip-version-check");
                if (wheelhouse) sb.Append(" --no-index --find-links ").Append(WheelhouseDir);
                sb.Append(" -r /opt/mlmodels/requirements.txt");
                if (kind == ImageKind.Python)
                    sb.Append(" && ").Append(VenvDir).Append("/bin/python -m pip uninstall --yes --quiet pip");
            }
            sb.Append('\n');
        }
        sb.Append("USER ").Append(User).Append('\n');
        sb.Append("COPY server ").Append(ServerDir).Append('\n');
        if (kind is ImageKind.Onnx || kind is ImageKind.Python && !hasRequirements) sb.Append("COPY model ").Append(ModelDir).Append('\n');
        // The model's name and version on the V2 endpoints: in the image the folder is always /opt/ml/model, so the image
        // records the ones it was built with (docker run -e overrides them). Last, with the labels, so that the layers
        // every model shares stay cached.
        if (labels.TryGetValue(LabelPrefix + "model.name", out var modelName))
        {
            sb.Append("ENV ").Append(ServerCommandLine.ModelNameVariable).Append('=').Append(Quote(modelName));
            if (labels.TryGetValue(LabelPrefix + "model.version", out var modelVersion))
                sb.Append(' ').Append(ServerCommandLine.ModelVersionVariable).Append('=').Append(Quote(modelVersion));
            sb.Append('\n');
        }
        sb.Append("LABEL");
        foreach (var (k, v) in labels) sb.Append(" \\\n    ").Append(k).Append('=').Append(Quote(v));
        sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>A double-quoted Dockerfile word: backslash, quote and $ escaped (LABEL substitutes variables), one line.</summary>
    private static string Quote(string v) =>
        "\"" + v.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("$", "\\$").Replace('\n', ' ').Replace('\r', ' ') + "\"";

    private static string Exec(IEnumerable<string> args) => "[" + string.Join(", ", args.Select(a => JsonSerializer.Serialize(a))) + "]";

    [GeneratedRegex(@"^(-r|-c|--requirement|--constraint)[ =]?(.+)$")]
    private static partial Regex FileOption();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*")]
    private static partial Regex RequirementName();
}
