using System.Collections;
using System.Globalization;

namespace MlModels.Core.Format;

/// <summary>
/// Builds signature parts from loose values: spec objects, dictionaries such as <c>{name: x, type: double}</c> or
/// <c>{name: t, dtype: float32, shape: [-1, 4]}</c>, or bare column names (typed double). Callers hand over plain values
/// (dictionaries, lists, strings, numbers, spec objects); keys are matched without regard to case.
/// </summary>
public static class SchemaSpecs
{
    /// <summary>A schema from its specs; <paramref name="part"/> ("inputs", "outputs") names it in errors. Null stays null.</summary>
    public static Schema? ToSchema(IEnumerable<object?>? items, string part)
    {
        if (items == null) return null;
        var values = items.ToList();
        if (values.Count == 1 && values[0] is Schema s) return s;
        var cols = new List<ColumnSpec>();
        var tensors = new List<TensorSpec>();
        for (int i = 0; i < values.Count; i++)
        {
            switch (values[i])
            {
                case ColumnSpec c: cols.Add(c); break;
                case TensorSpec t: tensors.Add(t); break;
                case IDictionary d when Get(d, "dtype") != null || Get(d, "shape") != null || (Get(d, "type") as string) == "tensor":
                    tensors.Add(new TensorSpec(Get(d, "name") as string,
                        Get(d, "dtype") as string ?? throw new ArgumentException($"{part}[{i}]: a tensor spec needs a dtype."),
                        Shape(Get(d, "shape"), $"{part}[{i}]") ?? []));
                    break;
                case IDictionary d:
                {
                    var typeName = Get(d, "type") as string;
                    if (!DataTypes.TryParse(typeName, out var type))
                        throw new ArgumentException($"{part}[{i}]: '{typeName}' is not an MLflow column type (boolean, integer, long, " +
                            $"float, double, string, binary, datetime).");
                    var required = Get(d, "required") is not bool r || r;
                    cols.Add(new ColumnSpec(Get(d, "name")?.ToString(), type, required));
                    break;
                }
                case string name:
                    cols.Add(new ColumnSpec(name, DataType.Double));
                    break;
                case var v:
                    throw new ArgumentException(
                        $"{part}[{i}]: cannot make a column or tensor spec from {(v == null ? "null" : "a " + v.GetType().Name)}.");
            }
        }
        if (cols.Count > 0
            && tensors.Count > 0) throw new ArgumentException($"{part}: a mix of column and tensor specs; MLflow allows one kind per schema.");
        return tensors.Count > 0 ? new Schema(tensors) : new Schema(cols);
    }

    /// <summary>A param schema from ParamSpec objects or dictionaries with name, type, default and optional shape. Null stays null.</summary>
    public static ParamSchema? ToParams(IEnumerable<object?>? items)
    {
        if (items == null) return null;
        return new ParamSchema(items.Select((v, i) => v switch
        {
            ParamSpec p => p,
            IDictionary d when DataTypes.TryParse(Get(d, "type") as string, out var t) =>
                new ParamSpec(
                    Get(d, "name") as string ?? throw new ArgumentException($"params[{i}]: a param spec needs a name."),
                    t,
                    Get(d, "default"),
                    Shape(Get(d, "shape"), $"params[{i}]")),
            _ => throw new ArgumentException($"params[{i}]: each param needs a name, an MLflow type and a default."),
        }).ToList());
    }

    private static long[]? Shape(object? value, string where)
    {
        if (value == null) return null;
        if (value is string || value is not IEnumerable dims) throw new ArgumentException(
            $"{where}: a shape is a list of integers, such as [-1, 4].");
        try { return dims.Cast<object?>().Select(x => Convert.ToInt64(x, CultureInfo.InvariantCulture)).ToArray(); }
        catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException)
        {
            throw new ArgumentException($"{where}: a shape is a list of integers, such as [-1, 4].", ex);
        }
    }

    private static object? Get(IDictionary d, string key)
    {
        foreach (DictionaryEntry e in d)
            if (string.Equals(e.Key?.ToString(), key, StringComparison.OrdinalIgnoreCase)) return e.Value;
        return null;
    }
}
