using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlModels.Core.Format;

/// <summary>A model's saved input example, read as data: rows of a table where it is one, else the JSON value.</summary>
public sealed class InputExample
{
    public const long MaxBytes = 64L * 1024 * 1024;

    public string? Type { get; init; }
    /// <summary>Column names for a dataframe example; null otherwise.</summary>
    public IReadOnlyList<string>? Columns { get; init; }
    /// <summary>Rows for a dataframe example (values are plain: string, long, double, bool, null, lists).</summary>
    public IReadOnlyList<object?[]>? Rows { get; init; }
    /// <summary>The example as plain values (dictionaries, lists, scalars).</summary>
    public object? Data { get; init; }
    public string? File { get; init; }

    public static InputExample Read(MLModel model)
    {
        var info = model.SavedInputExampleInfo ?? throw new InvalidOperationException($"Model {model.Name} has no saved input example.");
        if (model.Path == null) throw new InvalidOperationException("The model has not been saved, so its input example file cannot be read.");
        var file = ModelFiles.ResolveInside(model.Path, info.ArtifactPath ?? "", "saved_input_example_info.artifact_path");
        if (!System.IO.File.Exists(file)) throw new FileNotFoundException($"Input example file {file} does not exist.", file);
        if (new FileInfo(file).Length > MaxBytes) throw new MLModelFormatException($"{file} is larger than {MaxBytes:N0} bytes.", file);
        return Parse(System.IO.File.ReadAllText(file), info.Type, info.PandasOrient, file);
    }

    /// <summary>An input example's JSON text; <paramref name="file"/> names it in messages.</summary>
    public static InputExample Parse(string json, string? type, string? orient, string? file = null)
    {
        JsonNode? node;
        try { node = PyJson.Parse(json); }
        catch (JsonException ex)
        {
            throw new MLModelFormatException(
                $"{file ?? "input example"}: invalid JSON at line {(ex.LineNumber ?? 0) + 1}: {ex.Message}",
                file,
                (int?)(ex.LineNumber + 1),
                null,
                "saved_input_example_info",
                ex);
        }
        return FromJson(node, type, orient, file);
    }

    public static InputExample FromJson(JsonNode? node, string? type, string? orient, string? file = null)
    {
        var data = PyJson.ToPlain(node);
        if (type == "dataframe" || (type == null && node is JsonObject { } o0 && o0.ContainsKey("columns") && o0.ContainsKey("data")))
        {
            if (node is JsonObject o && o["dataframe_split"] is JsonObject inner) node = inner;
            if (node is JsonObject split && split["data"] is JsonArray rows)
            {
                var cols = split["columns"] is JsonArray c ? c.Select(
                    x => x is JsonValue v && v.GetValueKind() == JsonValueKind.String
                        ? v.GetValue<string>()
                        : x?.ToJsonString() ?? "").ToList() : null;
                var list = rows.Select((r, i) => r is JsonArray ra ? ra.Select(PyJson.ToPlain).ToArray()
                    : throw new MLModelFormatException($"{file}: data row {i} is not a list.", file)).ToList();
                cols ??= Enumerable.Range(0, list.FirstOrDefault()?.Length ?? 0)
                    .Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
                return new InputExample { Type = type, Columns = cols, Rows = list, Data = data, File = file };
            }
            if (node is JsonArray records && records.All(r => r is JsonObject))
            {
                var cols = records.SelectMany(r => ((JsonObject)r!).Select(kv => kv.Key)).Distinct().ToList();
                var list = records.Select(r => cols.Select(c => PyJson.ToPlain(((JsonObject)r!)[c])).ToArray()).ToList();
                return new InputExample { Type = type, Columns = cols, Rows = list, Data = data, File = file };
            }
            throw new MLModelFormatException($"{file}: a dataframe example must be in 'split' or 'records' orientation.", file);
        }
        return new InputExample { Type = type, Data = data, File = file };
    }
}
