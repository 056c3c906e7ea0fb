namespace MlModels.Core.Format;

/// <summary>An MLmodel (or companion file) that cannot be read, with the place where it went wrong.</summary>
public class MLModelFormatException : Exception
{
    public MLModelFormatException(
        string message,
        string? file = null,
        int? line = null,
        int? column = null,
        string? field = null,
        Exception? inner = null)
        : base(message, inner)
    {
        File = file;
        Line = line;
        Column = column;
        Field = field;
    }

    public string? File { get; }
    public int? Line { get; }
    public int? Column { get; }
    /// <summary>Dotted path of the field at fault, e.g. <c>flavors.sklearn.pickled_model</c>.</summary>
    public string? Field { get; }
}

/// <summary>A path inside a model that points outside the model folder (absolute, <c>..</c>, or a symlink out).</summary>
public sealed class PathOutsideModelException(string message, string field, string value)
    : MLModelFormatException(message, null, null, null, field)
{
    public string Value { get; } = value;
}

/// <summary>
/// A save that would replace something already there without being allowed to. Callers map the type, not the message,
/// onto their own advice (the cmdlets add "use -Force").
/// </summary>
public sealed class TargetExistsException(string message, string path) : IOException(message)
{
    public string Path { get; } = path;
}
