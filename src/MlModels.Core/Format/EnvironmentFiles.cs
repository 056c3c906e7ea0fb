using MlModels.Core.Format.Yaml;

namespace MlModels.Core.Format;

/// <summary><c>python_env.yaml</c>: the Python version and pip requirements of a virtualenv.</summary>
public sealed record PythonEnvironment(string? Python, IReadOnlyList<string> BuildDependencies, IReadOnlyList<string> Dependencies, string File);

/// <summary><c>conda.yaml</c>: channels, conda packages and the nested pip list.</summary>
public sealed record CondaEnvironment(
    string? Name,
    IReadOnlyList<string> Channels,
    IReadOnlyList<string> Dependencies,
    IReadOnlyList<string> PipDependencies,
    string File)
{
    public string? PythonVersion => Dependencies.Select(d => d.Replace(" ", "")).FirstOrDefault(
        d => d.StartsWith("python=", StringComparison.Ordinal) || d.StartsWith("python==", StringComparison.Ordinal))?
        .TrimStart("python".ToCharArray())
        .TrimStart('=');
}

/// <summary>The environment files a model carries, each null when absent.</summary>
public sealed record ModelEnvironment(
    PythonEnvironment? PythonEnv,
    CondaEnvironment? Conda,
    IReadOnlyList<string>? Requirements,
    string? RequirementsFile)
{
    /// <summary>The Python version the model asks for: python_env.yaml, then conda.yaml, then the pyfunc flavor.</summary>
    public string? PythonVersion { get; init; }
}

public static class EnvironmentFiles
{
    public static ModelEnvironment Read(MLModel model)
    {
        if (model.Path == null) throw new InvalidOperationException("The model has not been saved, so it has no environment files.");
        var pyfunc = model.Flavors.GetValueOrDefault("python_function");
        var env = pyfunc?.Env;
        string? condaRel = env?.Conda ?? (File.Exists(Path.Combine(model.Path, "conda.yaml")) ? "conda.yaml" : null);
        string? venvRel = env?.Virtualenv ?? (File.Exists(Path.Combine(model.Path, "python_env.yaml")) ? "python_env.yaml" : null);

        PythonEnvironment? py = null;
        if (venvRel != null && Existing(model, venvRel, "flavors.python_function.env.virtualenv") is string venvFile) py = ReadPythonEnv(venvFile);
        CondaEnvironment? conda = null;
        if (condaRel != null && Existing(model, condaRel, "flavors.python_function.env.conda") is string condaFile) conda = ReadConda(condaFile);
        var reqFile = Path.Combine(model.Path, "requirements.txt");
        var reqs = File.Exists(reqFile) ? ReadRequirements(reqFile) : null;
        return new ModelEnvironment(py, conda, reqs, reqs != null ? reqFile : null)
        {
            PythonVersion = py?.Python ?? conda?.PythonVersion ?? pyfunc?.PythonVersion,
        };
    }

    private static string? Existing(MLModel model, string rel, string field)
    {
        var full = ModelFiles.ResolveInside(model.Path!, rel, field);
        return File.Exists(full) ? full : null;
    }

    public static PythonEnvironment ReadPythonEnv(string file) => ParsePythonEnv(YamlReader.ReadFile(file), file);

    /// <summary>python_env.yaml text; <paramref name="file"/> names it in messages.</summary>
    public static PythonEnvironment ParsePythonEnv(string text, string file) => ParsePythonEnv(YamlReader.Read(text, file, null, out _), file);

    private static PythonEnvironment ParsePythonEnv(object? yaml, string file)
    {
        var root = yaml as Dictionary<string, object?>
            ?? throw new MLModelFormatException($"{file} must be a YAML mapping with python, build_dependencies and dependencies.", file);
        return new PythonEnvironment(
            Text(root.GetValueOrDefault("python")),
            Strings(root.GetValueOrDefault("build_dependencies"), file, "build_dependencies"),
            Strings(root.GetValueOrDefault("dependencies"), file, "dependencies"),
            file);
    }

    public static CondaEnvironment ReadConda(string file) => ParseConda(YamlReader.ReadFile(file), file);

    /// <summary>conda.yaml text; <paramref name="file"/> names it in messages.</summary>
    public static CondaEnvironment ParseConda(string text, string file) => ParseConda(YamlReader.Read(text, file, null, out _), file);

    private static CondaEnvironment ParseConda(object? yaml, string file)
    {
        var root = yaml as Dictionary<string, object?>
            ?? throw new MLModelFormatException($"{file} must be a YAML mapping with name, channels and dependencies.", file);
        var deps = new List<string>();
        var pip = new List<string>();
        if (root.GetValueOrDefault("dependencies") is List<object?> list)
            foreach (var d in list)
            {
                if (d is Dictionary<string, object?> m && m.GetValueOrDefault("pip") is List<object?> pipList) pip.AddRange(
                    pipList.Select(Text).OfType<string>());
                else if (Text(d) is string s) deps.Add(s);
            }
        return new CondaEnvironment(
            Text(root.GetValueOrDefault("name")),
            Strings(root.GetValueOrDefault("channels"), file, "channels"),
            deps,
            pip,
            file);
    }

    public static IReadOnlyList<string> ReadRequirements(string file) =>
        File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

    private static string? Text(
        object? v) => v switch
        {
            null => null,
            string s => s,
            double d => PyRepr.Float(d),
            _ => Convert.ToString(
            v,
            System.Globalization.CultureInfo.InvariantCulture)
        };

    private static IReadOnlyList<string> Strings(object? v, string file, string field) => v switch
    {
        null => [],
        List<object?> l => l.Select(Text).OfType<string>().ToList(),
        _ => throw new MLModelFormatException($"{file}: '{field}' must be a list.", file, null, null, field),
    };
}
