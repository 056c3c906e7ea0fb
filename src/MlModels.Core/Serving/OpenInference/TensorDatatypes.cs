using MlModels.Core.Format;
using MlModels.Core.Scoring;

namespace MlModels.Core.Serving.OpenInference;

/// <summary>The protocol's tensor datatypes and their numpy types, as MLServer's <c>mlserver/codecs/numpy.py</c> maps them.</summary>
public static class TensorDatatypes
{
    public const string Bytes = "BYTES";

    /// <summary>The element kind a datatype is held in (BYTES: strings); false for a name the protocol does not have.</summary>
    public static bool TryParse(string? datatype, out ElementKind kind)
    {
        switch (datatype)
        {
            case "BOOL": kind = ElementKind.Bool; return true;
            case "UINT8": kind = ElementKind.UInt8; return true;
            case "UINT16": kind = ElementKind.UInt16; return true;
            case "UINT32": kind = ElementKind.UInt32; return true;
            case "UINT64": kind = ElementKind.UInt64; return true;
            case "INT8": kind = ElementKind.Int8; return true;
            case "INT16": kind = ElementKind.Int16; return true;
            case "INT32": kind = ElementKind.Int32; return true;
            case "INT64": kind = ElementKind.Int64; return true;
            case "FP16": kind = ElementKind.Float16; return true;
            case "FP32": kind = ElementKind.Float32; return true;
            case "FP64": kind = ElementKind.Float64; return true;
            case Bytes: kind = ElementKind.String; return true;
            default: kind = ElementKind.Object; return false;
        }
    }

    /// <summary>The datatype of an element kind (<c>to_datatype</c>): strings, dates and objects are BYTES.</summary>
    public static string Of(ElementKind kind) => kind switch
    {
        ElementKind.Bool => "BOOL",
        ElementKind.Float16 => "FP16",
        ElementKind.Float32 => "FP32",
        ElementKind.Float64 => "FP64",
        _ when kind.IsInteger() => kind.ToString().ToUpperInvariant(),
        _ => Bytes,
    };

    /// <summary>A column type's datatype, as MLServer's MLflow runtime (<c>metadata.py</c>, <c>_MLflowToContentType</c>) gives it.</summary>
    public static string Of(DataType type) => type switch
    {
        DataType.Boolean => "BOOL",
        DataType.Integer => "INT32",
        DataType.Long => "INT64",
        DataType.Float => "FP32",
        DataType.Double => "FP64",
        _ => Bytes,
    };

    /// <summary>A tensor spec's numpy dtype as a datatype; a dtype numpy has and the protocol lacks (datetime64...) is BYTES.</summary>
    public static string OfNumpy(string dtype) => ElementKinds.TryFromNumpy(dtype, out var kind) ? Of(kind) : Bytes;

    /// <summary>The model's inputs or outputs as metadata tensors (<c>to_metadata_tensors</c>): unnamed specs are PREFIX + position.</summary>
    public static IReadOnlyList<MetadataTensor> Metadata(Schema? schema, string prefix)
    {
        if (schema == null) return [];
        if (schema.IsTensorBased)
            return schema.Tensors.Select((t, i) => new MetadataTensor(t.Name ?? prefix + i, OfNumpy(t.DType), t.Shape)).ToList();
        return schema.Columns.Select((c, i) => new MetadataTensor(c.Name ?? prefix + i, Of(c.Type), [-1, 1])).ToList();
    }
}
