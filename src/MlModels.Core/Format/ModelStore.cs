using MlModels.Core.Format.Yaml;

namespace MlModels.Core.Format;

public sealed record SaveOptions(bool Force = false, Action<string>? Warn = null, IProgress<(int Done, int Total)>? Progress = null);

/// <summary>Reads, finds and saves MLflow model folders.</summary>
public static class ModelStore
{
    /// <summary>Loads a model from its folder or from an MLmodel file (any name, for variants).</summary>
    public static MLModel Load(string path, YamlLimits? limits = null)
    {
        string file, dir;
        if (Directory.Exists(path))
        {
            dir = Path.GetFullPath(path);
            file = Path.Combine(dir, ModelFiles.MLmodelFileName);
            if (!File.Exists(file))
                throw new MLModelFormatException($"{dir} is not an MLflow model folder: it has no MLmodel file.", file);
        }
        else if (File.Exists(path))
        {
            file = Path.GetFullPath(path);
            dir = Path.GetDirectoryName(file)!;
        }
        else throw new FileNotFoundException($"No model folder or MLmodel file at {path}.", path);

        limits ??= YamlLimits.Default;
        var length = new FileInfo(file).Length;
        if (length > limits.MaxBytes)
            throw new MLModelFormatException(
                $"{file} is {length:N0} bytes; an MLmodel file larger than {limits.MaxBytes:N0} bytes is refused.",
                file);
        var text = File.ReadAllText(file);
        return Parse(text, file, dir, limits);
    }

    /// <summary>Parses MLmodel text. <paramref name="dir"/> is the folder it belongs to, if any.</summary>
    public static MLModel Parse(string text, string? file = null, string? dir = null, YamlLimits? limits = null)
    {
        var root = YamlReader.Read(text, file, limits, out var positions);
        var where = file ?? "MLmodel text";
        if (root is not Dictionary<string, object?> fields)
        {
            if (text.StartsWith("version https://git-lfs.github.com/spec/", StringComparison.Ordinal))
                throw new MLModelFormatException(
                    $"{where} is a Git LFS pointer, not an MLmodel file; run 'git lfs pull' to fetch the real file.",
                    file,
                    1,
                    1);
            throw new MLModelFormatException(
                $"{where} does not hold a YAML mapping of model fields (found a {ModelSignature.YamlTypeName(root)}).",
                file,
                1,
                1);
        }
        bool firstLayout = UpgradeFirstPyfuncLayout(fields, ref positions);
        CheckFieldTypes(fields, positions, file);
        var model = new MLModel(fields, dir, file) { Positions = positions, IsFirstPyfuncLayout = firstLayout };
        try { _ = model.Signature; }
        catch (MLModelFormatException ex)
        {
            var line = ex.Field != null && positions.TryGetValue(FieldRoot(ex.Field), out var m) ? (int?)m.Line : null;
            throw new MLModelFormatException($"{where}: {ex.Message}", file, line, null, ex.Field, ex);
        }
        return model;
    }

    /// <summary>
    /// MLflow's first pyfunc layout: <c>python_function:</c> (code, data, env, main) at the top level and no
    /// <c>flavors:</c> map. It becomes a model whose one flavor is python_function, its loader module taken from
    /// <c>main</c> as early MLflow did; positions move with it so findings still point at the file's lines.
    /// </summary>
    private static bool UpgradeFirstPyfuncLayout(Dictionary<string, object?> fields, ref IReadOnlyDictionary<string, YamlDotNet.Core.Mark> positions)
    {
        if (fields.ContainsKey("flavors") || fields.GetValueOrDefault("python_function") is not Dictionary<string, object?> pyfunc) return false;
        fields.Remove("python_function");
        if (!pyfunc.ContainsKey("loader_module") && pyfunc.GetValueOrDefault("main") is string main) pyfunc["loader_module"] = main;
        fields["flavors"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["python_function"] = pyfunc };
        var moved = new Dictionary<string, YamlDotNet.Core.Mark>(StringComparer.Ordinal);
        foreach (var (key, mark) in positions)
        {
            if (key == "python_function" || key.StartsWith("python_function.", StringComparison.Ordinal))
            {
                moved["flavors." + key] = mark;
                if (key == "python_function") moved["flavors"] = mark;
            }
            else moved[key] = mark;
        }
        positions = moved;
        return true;
    }

    private static string FieldRoot(string field)
    {
        var i = field.IndexOf('[');
        return i < 0 ? field : field[..i];
    }

    private static void CheckFieldTypes(Dictionary<string, object?> f, IReadOnlyDictionary<string, YamlDotNet.Core.Mark> pos, string? file)
    {
        void Fail(string field, string expected)
        {
            int? line = pos.TryGetValue(field, out var m) ? (int)m.Line : null;
            throw new MLModelFormatException(
                $"{file ?? "MLmodel"}: field '{field}' must be {expected}, but it is a " +
                    $"{ModelSignature.YamlTypeName(f.GetValueOrDefault(field) ?? Lookup(f, field))}{(line != null ? $" (line {line})" : "")}.",
                file, line, null, field);
        }
        if (!f.TryGetValue("flavors", out var flavors) || flavors == null)
        {
            int? line = pos.TryGetValue("flavors", out var m) ? (int)m.Line : null;
            throw new MLModelFormatException($"{file ?? "MLmodel"}: the required field 'flavors' is missing or empty.", file, line, null, "flavors");
        }
        if (flavors is not Dictionary<string, object?> fl) { Fail("flavors", "a mapping of flavor names to attributes"); return; }
        foreach (var (name, attrs) in fl)
            if (attrs is not (null or Dictionary<string, object?>)) Fail($"flavors.{name}", "a mapping of attributes");
        foreach (var key in new[] { "signature", "saved_input_example_info", "metadata" })
            if (f.TryGetValue(key, out var v) && v is not (null or Dictionary<string, object?>)) Fail(key, "a mapping");
        foreach (var key in new[] { "run_id", "model_uuid", "model_id", "artifact_path" })
            if (f.TryGetValue(key, out var v) && v is Dictionary<string, object?> or List<object?>) Fail(key, "text");
        foreach (var key in new[] { "is_signature_from_type_hint", "type_hint_from_example" })
            if (f.TryGetValue(key, out var v) && v is not (null or bool)) Fail(key, "true or false");
        if (f.TryGetValue("model_size_bytes", out var size) && size is not (null or long or System.Numerics.BigInteger)) Fail(
            "model_size_bytes",
            "an integer");
        if (f.TryGetValue("utc_time_created", out var t) && t != null
            && !Timestamps.TryParse(t, out _)) Fail("utc_time_created", "a timestamp like '2024-01-31 12:00:00.000000'");
    }

    private static object? Lookup(Dictionary<string, object?> f, string dotted)
    {
        object? cur = f;
        foreach (var part in dotted.Split('.'))
            cur = cur is Dictionary<string, object?> d ? d.GetValueOrDefault(part) : null;
        return cur;
    }

    /// <summary>Every model folder under a tree (folders holding an MLmodel file), not following links.</summary>
    public static IEnumerable<string> FindModelFolders(string root, CancellationToken ct = default)
    {
        var stack = new Stack<string>();
        stack.Push(Path.GetFullPath(root));
        var opts = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
        while (stack.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var dir = stack.Pop();
            if (File.Exists(Path.Combine(dir, ModelFiles.MLmodelFileName))) yield return dir;
            IEnumerable<string> subs;
            try { subs = Directory.EnumerateDirectories(dir, "*", opts).OrderByDescending(s => s, StringComparer.Ordinal).ToList(); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            foreach (var s in subs) stack.Push(s);
        }
    }

    /// <summary>
    /// Saves a model to <paramref name="destination"/>: writes the MLmodel and, for a model loaded from elsewhere, copies its files.
    /// The new folder is built beside the target and swapped in, so an interrupted save leaves any old folder intact.
    /// </summary>
    public static MLModel Save(MLModel model, string destination, SaveOptions? options = null, CancellationToken ct = default)
    {
        options ??= new SaveOptions();
        var dest = Path.GetFullPath(destination);
        var yaml = model.ToYaml();
        // Check the YAML we are about to write reads back as the same content.
        var reread = YamlReader.Read(yaml, "(generated MLmodel)", null, out _);
        if (!PlainValues.DeepEquals(reread, model.Fields))
            throw new InvalidOperationException(
                "Internal error: the generated MLmodel does not read back as the model's content; nothing was written.");

        bool sameFolder = model.Path != null && string.Equals(Path.GetFullPath(model.Path), dest, StringComparison.Ordinal);
        if (File.Exists(dest)) throw new IOException($"{dest} is a file; a model is saved as a folder.");
        bool exists = Directory.Exists(dest) && Directory.EnumerateFileSystemEntries(dest).Any();
        if (exists && !options.Force)
            throw new TargetExistsException($"{dest} already exists and is not empty.", dest);
        // Said once the save is going ahead, before anything is written.
        if (model.IsFirstPyfuncLayout)
            options.Warn?
                .Invoke($"{model.MLmodelFile ?? model.Name} is in MLflow's first pyfunc layout (python_function at the top level, no flavors map); " +
                    "it is written in the current layout, with a flavors map" +
                    (model.Flavors.TryGetValue("python_function", out var pyfunc) && pyfunc.LoaderModule is { } loader
                    ? $" (flavors.python_function, loader_module '{loader}')."
                    : "."));

        if (sameFolder)
        {
            // Only the MLmodel changes: write beside it, then rename over it (atomic on one file system).
            var tmp = Path.Combine(dest, $".MLmodel.{Guid.NewGuid():N}.tmp");
            File.WriteAllText(tmp, yaml);
            File.Move(tmp, Path.Combine(dest, ModelFiles.MLmodelFileName), overwrite: true);
            return ModelAt(model, dest);
        }

        var parent = Path.GetDirectoryName(dest) ?? throw new IOException($"Cannot save a model at the root {dest}.");
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(dest)}.{Guid.NewGuid():N}.saving");
        Directory.CreateDirectory(staging);
        try
        {
            if (model.Path != null && Directory.Exists(model.Path))
                ModelFiles.CopyModelFiles(
                    model.Path,
                    staging,
                    rel => options.Warn?.Invoke($"Not copied: '{rel}' is a symbolic link that is not followed."),
                    options.Progress,
                    ct);
            ct.ThrowIfCancellationRequested();
            File.WriteAllText(Path.Combine(staging, ModelFiles.MLmodelFileName), yaml);
            if (Directory.Exists(dest))
            {
                var old = Path.Combine(parent, $".{Path.GetFileName(dest)}.{Guid.NewGuid():N}.old");
                Directory.Move(dest, old);
                Directory.Move(staging, dest);
                Directory.Delete(old, recursive: true);
            }
            else Directory.Move(staging, dest);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
        return ModelAt(model, dest);
    }

    private static MLModel ModelAt(MLModel model, string dest)
    {
        var saved = model.Clone();
        saved.IsFirstPyfuncLayout = false;
        saved.Path = dest;
        saved.MLmodelFile = Path.Combine(dest, ModelFiles.MLmodelFileName);
        return saved;
    }
}
