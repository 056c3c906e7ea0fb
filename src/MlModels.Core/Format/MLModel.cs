using System.Collections.ObjectModel;
using System.Globalization;
using MlModels.Core.Format.Yaml;

namespace MlModels.Core.Format;

/// <summary>
/// An MLflow model: the contents of its MLmodel file plus where it lives.
/// The parsed YAML tree is the source of truth, so fields this type does not know survive a save;
/// the typed properties read and write that tree.
/// </summary>
public sealed class MLModel
{
    public static readonly IReadOnlyList<string> KnownFields =
    [
        "artifact_path", "flavors", "run_id", "time_created", "utc_time_created", "model_uuid", "model_id", "mlflow_version",
        "signature", "is_signature_from_type_hint", "type_hint_from_example", "saved_input_example_info", "databricks_runtime",
        "metadata", "model_size_bytes", "prompts", "resources", "auth_policy", "env_vars",
    ];

    private ModelSignature? _signature;
    private bool _signatureParsed;
    private long? _folderSize;

    internal Dictionary<string, object?> Fields { get; }

    // Scoring state (an ONNX session) kept with the loaded model so repeated calls reuse it.
    internal readonly object ScorerGate = new();
    internal IDisposable? Scorer;
    internal IReadOnlyDictionary<string, YamlDotNet.Core.Mark> Positions { get; init; } = new Dictionary<string, YamlDotNet.Core.Mark>();

    internal MLModel(Dictionary<string, object?> fields, string? path, string? file)
    {
        Fields = fields;
        Path = path;
        MLmodelFile = file;
    }

    /// <summary>A new in-memory model, stamped like MLflow stamps one: creation time and a 32-hex-digit uuid.</summary>
    public static MLModel Create(
        string? runId = null,
        string? artifactPath = null,
        IDictionary<string, object?>? metadata = null,
        DateTime? createdUtc = null)
    {
        var m = new MLModel(
            new Dictionary<string, object?>(StringComparer.Ordinal) { ["flavors"] = new Dictionary<string, object?>(StringComparer.Ordinal) },
            null,
            null);
        m.UtcTimeCreated = createdUtc ?? DateTime.UtcNow;
        m.ModelUuid = Guid.NewGuid().ToString("N");
        if (runId != null) m.RunId = runId;
        if (artifactPath != null) m.ArtifactPath = artifactPath;
        if (metadata != null) m.Metadata = metadata;
        return m;
    }

    /// <summary>The model folder; null for a model that has not been saved.</summary>
    public string? Path { get; internal set; }
    /// <summary>The MLmodel file the model was read from.</summary>
    public string? MLmodelFile { get; internal set; }
    /// <summary>The tracking-server URI this model was downloaded from (Get-MLModel -Uri); null for a folder model.</summary>
    public ModelOrigin? Origin { get; set; }
    public string Name => Path != null ? System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(Path)) : ArtifactPath ?? "(unsaved)";

    public string? ArtifactPath { get => GetText("artifact_path"); set => SetOrRemove("artifact_path", value); }
    public string? RunId { get => GetText("run_id"); set => SetOrRemove("run_id", value); }
    public string? ModelUuid { get => GetText("model_uuid"); set => SetOrRemove("model_uuid", value); }
    public string? ModelId { get => GetText("model_id"); set => SetOrRemove("model_id", value); }
    public string? MlflowVersion { get => GetText("mlflow_version"); set => SetOrRemove("mlflow_version", value); }
    public string? DatabricksRuntime { get => GetText("databricks_runtime"); set => SetOrRemove("databricks_runtime", value); }

    /// <summary>Creation time (UTC) from <c>utc_time_created</c>, or the 0.x <c>time_created</c> field.</summary>
    public DateTime? UtcTimeCreated
    {
        get
        {
            var raw = Fields.GetValueOrDefault("utc_time_created") ?? Fields.GetValueOrDefault("time_created");
            return Timestamps.TryParse(raw, out var t) ? t : null;
        }
        set => SetOrRemove("utc_time_created", value is DateTime d ? Timestamps.Format(d) : null);
    }

    /// <summary>
    /// True when the file was in MLflow's first pyfunc layout (<c>python_function</c> at the top level, no <c>flavors</c>);
    /// the model holds it as its python_function flavor, and saving writes the current layout.
    /// </summary>
    public bool IsFirstPyfuncLayout { get; internal set; }

    /// <summary>True for models written by MLflow 0.x, which stored <c>time_created</c>.</summary>
    public bool HasLegacyTimeCreated => Fields.ContainsKey("time_created");

    public ReadOnlyDictionary<string, Flavor> Flavors
    {
        get
        {
            var result = new Dictionary<string, Flavor>(StringComparer.Ordinal);
            if (Fields.GetValueOrDefault("flavors") is Dictionary<string, object?> fl)
                foreach (var (name, attrs) in fl)
                    result[name] = new Flavor(name, attrs as Dictionary<string, object?> ?? new Dictionary<string, object?>(StringComparer.Ordinal));
            return new ReadOnlyDictionary<string, Flavor>(result);
        }
    }

    public IReadOnlyList<string> FlavorNames => Fields.GetValueOrDefault("flavors") is Dictionary<string, object?> fl ? fl.Keys.ToList() : [];

    public Flavor AddFlavor(string name, IDictionary<string, object?>? attributes, bool replace = false)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A flavor needs a name.", nameof(name));
        if (Fields.GetValueOrDefault("flavors") is not Dictionary<string, object?> fl)
            Fields["flavors"] = fl = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (fl.ContainsKey(name) && !replace)
            throw new InvalidOperationException($"The model already has a flavor named '{name}'.");
        var attrs = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (attributes != null)
            foreach (var (k, v) in attributes) attrs[k] = PlainValues.From(v, $"flavors.{name}.{k}");
        fl[name] = attrs;
        return new Flavor(name, attrs);
    }

    public bool RemoveFlavor(string name) => Fields.GetValueOrDefault("flavors") is Dictionary<string, object?> fl && fl.Remove(name);

    public ModelSignature? Signature
    {
        get
        {
            if (!_signatureParsed)
            {
                _signature = Fields.GetValueOrDefault("signature") is Dictionary<string, object?> d ? ModelSignature.FromDictionary(d) : null;
                _signatureParsed = true;
            }
            return _signature;
        }
        set
        {
            SetOrRemove("signature", value?.ToDictionary());
            _signature = value;
            _signatureParsed = true;
        }
    }

    public InputExampleInfo? SavedInputExampleInfo =>
        Fields.GetValueOrDefault("saved_input_example_info") is Dictionary<string, object?> d ? new InputExampleInfo(d) : null;

    public IDictionary<string, object?>? Metadata
    {
        get => Fields.GetValueOrDefault("metadata") as IDictionary<string, object?>;
        set => SetOrRemove("metadata", value == null ? null : PlainValues.From(value, "metadata"));
    }

    /// <summary><c>model_size_bytes</c> as recorded by MLflow when the model was logged.</summary>
    public long? ModelSizeBytes
    {
        get => Fields.GetValueOrDefault("model_size_bytes") switch { long l => l, double d => (long)d, _ => null };
        set => SetOrRemove("model_size_bytes", value);
    }

    /// <summary>Size on disk: the recorded size, else the folder's size (computed once).</summary>
    public long? Size => ModelSizeBytes ?? (Path == null ? null : _folderSize ??= ModelFiles.FolderSize(Path));

    public bool? IsSignatureFromTypeHint => Fields.GetValueOrDefault("is_signature_from_type_hint") as bool?;
    public bool? TypeHintFromExample => Fields.GetValueOrDefault("type_hint_from_example") as bool?;
    public object? Prompts => Fields.GetValueOrDefault("prompts");
    public object? Resources => Fields.GetValueOrDefault("resources");
    public object? AuthPolicy => Fields.GetValueOrDefault("auth_policy");
    public object? EnvVars => Fields.GetValueOrDefault("env_vars");

    /// <summary>Top-level fields this version does not model; they are written back unchanged.</summary>
    public IReadOnlyDictionary<string, object?> AdditionalFields =>
        Fields.Where(kv => !KnownFields.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    /// <summary>Any top-level field, by its MLmodel name.</summary>
    public object? GetField(string name) => Fields.GetValueOrDefault(name);

    public void SetField(string name, object? value)
    {
        Fields[name] = PlainValues.From(value, name);
        if (name == "signature") _signatureParsed = false;
    }

    /// <summary>A deep copy of the MLmodel content as plain dictionaries and lists.</summary>
    public Dictionary<string, object?> ToDictionary() => (Dictionary<string, object?>)YamlReader.DeepCopy(Fields)!;

    public string ToYaml() => YamlWriter.Write(Fields);

    public MLModel Clone() => new(ToDictionary(), Path, MLmodelFile) { Positions = Positions, IsFirstPyfuncLayout = IsFirstPyfuncLayout };

    private string? GetText(string key) => Fields.GetValueOrDefault(key) switch
    {
        null => null,
        string s => s,
        double d => PyRepr.Float(d),
        bool b => b ? "True" : "False",
        var v => Convert.ToString(v, CultureInfo.InvariantCulture),
    };

    private void SetOrRemove(string key, object? value)
    {
        if (value == null) Fields.Remove(key);
        else Fields[key] = value;
    }

    public override string ToString() => $"{Name} [{string.Join(", ", FlavorNames)}]";
}

/// <summary>One flavor: its name and attributes (a live view into the model).</summary>
public sealed class Flavor
{
    internal Flavor(string name, Dictionary<string, object?> attributes)
    {
        Name = name;
        Attributes = attributes;
    }

    public string Name { get; }
    public IDictionary<string, object?> Attributes { get; }

    public object? this[string key] => Attributes.TryGetValue(key, out var v) ? v : null;

    public string? LoaderModule => (this["loader_module"] ?? this["main"]) as string;
    public string? Code => this["code"] as string;
    public string? Data => this["data"] as string;
    public string? PythonVersion => this["python_version"] switch { string s => s, double d => PyRepr.Float(d), null => null, var v => v.ToString() };
    public string? PredictFn => this["predict_fn"] as string;

    /// <summary>The <c>env</c> attribute in either form: a conda file path, or a map of conda/virtualenv files.</summary>
    public EnvironmentReference? Env => this["env"] switch
    {
        string s => new EnvironmentReference(s, null, IsLegacyString: true),
        IDictionary<string, object?> d => new EnvironmentReference(d.Value("conda") as string, d.Value("virtualenv") as string, false),
        _ => null,
    };

    public override string ToString() => Name;
}

public sealed record EnvironmentReference(string? Conda, string? Virtualenv, bool IsLegacyString);

/// <summary>The <c>saved_input_example_info</c> block.</summary>
public sealed class InputExampleInfo
{
    internal InputExampleInfo(IDictionary<string, object?> raw) => Raw = raw;
    public IDictionary<string, object?> Raw { get; }
    public string? ArtifactPath => Raw.Value("artifact_path") as string;
    public string? Type => Raw.Value("type") as string;
    public string? PandasOrient => (Raw.Value("pandas_orient") ?? Raw.Value("format")) as string;
    public string? ServingInputPath => Raw.Value("serving_input_path") as string;
    public override string ToString() => $"{Type} ({ArtifactPath})";
}

internal static class DictionaryExtensions
{
    public static object? Value(this IDictionary<string, object?> d, string key) => d.TryGetValue(key, out var v) ? v : null;
}
