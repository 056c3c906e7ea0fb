using System.Text.RegularExpressions;

namespace MlModels.Core.Format;

public enum FindingSeverity { Info, Warning, Error }

/// <summary>One thing Test-MLModel found. <see cref="Code"/> is stable and scriptable.</summary>
public sealed record ValidationFinding(FindingSeverity Severity, string Code, string Message, string? Field = null, int? Line = null)
{
    public override string ToString() => $"{Severity} {Code}: {Message}";
}

public sealed class ValidationResult
{
    public ValidationResult(MLModel model, IReadOnlyList<ValidationFinding> findings)
    {
        Model = model;
        Findings = findings;
    }

    public MLModel Model { get; }
    public string? Path => Model.Path;
    public string Name => Model.Name;
    public IReadOnlyList<ValidationFinding> Findings { get; }
    public bool IsValid => Findings.All(f => f.Severity != FindingSeverity.Error);
    public bool IsLegacy => Findings.Any(f => f.Code.StartsWith("Legacy", StringComparison.Ordinal));
    public int ErrorCount => Findings.Count(f => f.Severity == FindingSeverity.Error);
    public int WarningCount => Findings.Count(f => f.Severity == FindingSeverity.Warning);
}

/// <summary>Checks a model the way a loader would meet it: files exist inside the folder, pyfunc can load, signature and example agree.</summary>
public static partial class ModelValidator
{
    /// <summary>Flavor attributes that name files or folders inside the model.</summary>
    public static readonly IReadOnlySet<string> PathAttributes = new HashSet<string>(StringComparer.Ordinal)
    {
        "data", "code", "model_path", "pickled_model", "model_data", "saved_model_dir", "model_binary", "model_file",
    };

    public static ValidationResult Validate(MLModel model)
    {
        var findings = new List<ValidationFinding>();
        void Add(FindingSeverity s, string code, string msg, string? field = null)
        {
            int? line = field != null && model.Positions.TryGetValue(field, out var m) ? (int)m.Line : null;
            findings.Add(new ValidationFinding(s, code, msg, field, line));
        }

        var flavors = model.Flavors;
        if (flavors.Count == 0) Add(FindingSeverity.Error, "NoFlavors", "The model has no flavors, so nothing can load it.", "flavors");

        foreach (var (name, flavor) in flavors)
        {
            foreach (var (key, value) in flavor.Attributes)
            {
                var field = $"flavors.{name}.{key}";
                if (PathAttributes.Contains(key) && value is string rel) CheckPath(model, rel, field, Add);
                else if (key == "env" && value is string envPath) CheckPath(model, envPath, field, Add, FindingSeverity.Warning);
                else if (key == "env" && value is IDictionary<string, object?> envMap)
                {
                    foreach (var (k, v) in envMap)
                        if (v is string p) CheckPath(model, p, $"{field}.{k}", Add, FindingSeverity.Warning);
                }
                else if (key == "artifacts" && value is IDictionary<string, object?> artifacts)
                {
                    foreach (var (an, a) in artifacts)
                        if (a is IDictionary<string, object?> ad && ad.TryGetValue("path", out var ap) && ap is string aps)
                            CheckPath(model, aps, $"{field}.{an}.path", Add);
                }
                else if (key == "model_code_path" && value is string mcp && Path.IsPathRooted(mcp))
                    Add(
                        FindingSeverity.Info,
                        "AbsoluteSourcePath",
                        $"{field} records where the model's code came from ({mcp}); it is not read.",
                        field);
            }
        }

        if (model.IsFirstPyfuncLayout)
            Add(FindingSeverity.Info, "LegacyPyfuncLayout",
                "The MLmodel is in MLflow's first pyfunc layout: python_function at the top level and no flavors map. It is read as a " +
                    "model whose one flavor is python_function" +
                (flavors.TryGetValue("python_function", out var first) && first.LoaderModule is { } lm ? $" (loader module '{lm}')" : "") +
                "; Save-MLModel writes the current layout.", "flavors.python_function");
        if (flavors.TryGetValue("python_function", out var pyfunc))
        {
            if (pyfunc.LoaderModule == null)
                Add(
                    FindingSeverity.Error,
                    "PyfuncNoLoaderModule",
                    "The python_function flavor names no loader_module, so mlflow.pyfunc cannot load the model.",
                    "flavors.python_function");
            if (pyfunc.Attributes.ContainsKey("main") && !pyfunc.Attributes.ContainsKey("loader_module"))
                Add(
                    FindingSeverity.Info,
                    "LegacyPyfuncMain",
                    "The python_function flavor uses the early 'main' key for its loader module.",
                    "flavors.python_function.main");
            if (pyfunc.Attributes.TryGetValue("python_version", out var pv) && pv is double)
                Add(
                    FindingSeverity.Warning,
                    "PythonVersionIsNumber",
                    $"python_version is an unquoted number ({pyfunc.PythonVersion}); YAML readers take 3.10 as 3.1. Quote it.",
                    "flavors.python_function.python_version");
            if (pyfunc.Env is { IsLegacyString: true })
                Add(
                    FindingSeverity.Info,
                    "LegacyEnvString",
                    "env is a single conda file path (MLflow 1.x form); MLflow 2 writes a map with conda and virtualenv.",
                    "flavors.python_function.env");
        }
        else if (flavors.Count > 0)
            Add(
                FindingSeverity.Info,
                "NoPyfuncFlavor",
                "The model has no python_function flavor; generic pyfunc tools and servers cannot score it.",
                "flavors");

        if (model.HasLegacyTimeCreated)
            Add(
                FindingSeverity.Info,
                "LegacyTimeCreated",
                "The model records time_created (MLflow 0.x); later versions write utc_time_created.",
                "time_created");
        if (model.ModelUuid == null) Add(
            FindingSeverity.Info,
            "NoModelUuid",
            "The model has no model_uuid (written before MLflow 1.x added it, or by another tool).");
        else if (!UuidPattern().IsMatch(model.ModelUuid))
            Add(
                FindingSeverity.Warning,
                "ModelUuidFormat",
                $"model_uuid '{model.ModelUuid}' is neither 32 hex digits nor an MLflow 3 'm-' id.",
                "model_uuid");
        if (model.MlflowVersion == null) Add(FindingSeverity.Info, "NoMlflowVersion", "The model does not say which MLflow version wrote it.");
        if (model.UtcTimeCreated == null) Add(FindingSeverity.Info, "NoCreatedTime", "The model does not record when it was created.");

        CheckSignatureAndExample(model, Add);
        return new ValidationResult(model, findings);
    }

    private static void CheckPath(
        MLModel model,
        string rel,
        string field,
        Action<FindingSeverity, string, string, string?> add,
        FindingSeverity missing = FindingSeverity.Error)
    {
        if (model.Path == null) return;
        string full;
        try { full = ModelFiles.ResolveInside(model.Path, rel, field); }
        catch (PathOutsideModelException ex)
        {
            add(FindingSeverity.Error, "PathOutsideModel", ex.Message + " It was not read.", field);
            return;
        }
        if (!File.Exists(full) && !Directory.Exists(full))
            add(missing, "MissingFile", $"{field} names '{rel}', which is not in the model folder.", field);
    }

    private static void CheckSignatureAndExample(MLModel model, Action<FindingSeverity, string, string, string?> add)
    {
        var sig = model.Signature;
        if (sig == null) add(FindingSeverity.Info, "NoSignature", "The model has no signature; inputs are not checked before scoring.", null);
        else if (sig.Inputs == null) add(FindingSeverity.Warning, "SignatureNoInputs", "The signature has no inputs.", "signature");

        var info = model.SavedInputExampleInfo;
        if (info == null) return;
        if (info.ArtifactPath == null)
        {
            add(FindingSeverity.Error, "InputExampleNoPath", "saved_input_example_info has no artifact_path.", "saved_input_example_info");
            return;
        }
        if (model.Path == null) return;
        InputExample example;
        try { example = InputExample.Read(model); }
        catch (PathOutsideModelException ex)
        {
            add(
            FindingSeverity.Error,
            "PathOutsideModel",
            ex.Message + " It was not read.",
            "saved_input_example_info.artifact_path"); return;
        }
        catch (FileNotFoundException)
        {
            add(
            FindingSeverity.Warning,
            "MissingFile",
            $"The input example file '{info.ArtifactPath}' is not in the model folder.",
            "saved_input_example_info.artifact_path"); return;
        }
        catch (MLModelFormatException ex) { add(FindingSeverity.Error, "InputExampleInvalid", ex.Message, "saved_input_example_info"); return; }

        if (sig?.Inputs is { IsTensorBased: false } inputs && inputs.HasNames && example.Columns != null)
        {
            var names = new HashSet<string>(example.Columns, StringComparer.Ordinal);
            foreach (var c in inputs.Columns.Where(c => c.Required && !names.Contains(c.Name!)))
                add(
                    FindingSeverity.Error,
                    "InputExampleMismatch",
                    $"The input example lacks the required signature column '{c.Name}'.",
                    "saved_input_example_info");
            var known = new HashSet<string>(inputs.Columns.Select(c => c.Name!), StringComparer.Ordinal);
            foreach (var extra in example.Columns.Where(n => !known.Contains(n)))
                add(
                    FindingSeverity.Warning,
                    "InputExampleExtraColumn",
                    $"The input example has column '{extra}', which the signature does not name.",
                    "saved_input_example_info");
        }
    }

    [GeneratedRegex(@"^([0-9a-f]{32}|m-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")]
    private static partial Regex UuidPattern();
}
