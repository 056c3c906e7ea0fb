using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace MlModels.Core.Format.Yaml;

/// <summary>A plain YAML timestamp (what PyYAML reads as a date or datetime), kept as its text.</summary>
public sealed record YamlTimestamp(string Text)
{
    public override string ToString() => Text;
}

/// <summary>Limits that keep hostile YAML from exhausting memory, stack or time.</summary>
public sealed record YamlLimits(long MaxBytes = 16 * 1024 * 1024, int MaxDepth = 100, int MaxNodes = 1_000_000)
{
    public static YamlLimits Default { get; } = new();
}

/// <summary>
/// Turns YAML text into plain values (Dictionary, List, string, long or BigInteger, double, bool, null),
/// resolving plain scalars the way PyYAML's SafeLoader does, since that is what MLflow reads with.
/// Aliases are expanded under a node budget, nesting is bounded and duplicate keys are errors.
/// </summary>
public static partial class YamlReader
{
    public static object? ReadFile(string path, YamlLimits? limits = null)
    {
        limits ??= YamlLimits.Default;
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"File not found: {path}", path);
        if (info.Length > limits.MaxBytes)
            throw new MLModelFormatException($"{path} is {info.Length:N0} bytes; the limit for a YAML file is {limits.MaxBytes:N0} bytes.", path);
        return Read(File.ReadAllText(path), path, limits, out _);
    }

    /// <summary>Parses one YAML document. <paramref name="positions"/> maps dotted key paths to where they appear.</summary>
    public static object? Read(string text, string? file, YamlLimits? limits, out IReadOnlyDictionary<string, Mark> positions)
    {
        limits ??= YamlLimits.Default;
        if (text.Length > limits.MaxBytes)
            throw new MLModelFormatException($"{file ?? "YAML text"} is larger than the limit of {limits.MaxBytes:N0} bytes.", file);
        var builder = new Builder(file, limits);
        try
        {
            var parser = new Parser(new StringReader(text));
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _)) { positions = builder.Positions; return null; }
            parser.Consume<DocumentStart>();
            var root = builder.ReadNode(parser, 0, "");
            parser.Consume<DocumentEnd>();
            if (!parser.Accept<StreamEnd>(out _))
                throw new MLModelFormatException($"{file ?? "YAML text"} holds more than one YAML document.", file);
            positions = builder.Positions;
            return root;
        }
        catch (Exception ex) when (ex.Source == "YamlDotNet" && ex is not YamlException)
        {
            // Some malformed input (a tag that is not a URI) fails in YamlDotNet with ArgumentException and a message
            // that stands alone; the scanner's InvalidOperationException has none worth showing.
            var at = builder.LastMark;
            if (ex is ArgumentException)
                throw new MLModelFormatException(
                    $"{file ?? "YAML text"}: invalid YAML after line {at.Line}, column {at.Column}: {ex.Message.Split(" (Parameter")[0]}",
                    file,
                    (int)at.Line,
                    (int)at.Column,
                    null,
                    ex);
            // The scanner gives up on some malformed input without a position; report the last good one.
            throw new MLModelFormatException($"{file ?? "YAML text"}: invalid YAML after line {at.Line}, column {at.Column}: the text " +
                $"there cannot be parsed (an unclosed bracket or quote?).", file, (int)at.Line, (int)at.Column, null, ex);
        }
        catch (YamlException ex)
        {
            var line = (int)ex.Start.Line;
            var col = (int)ex.Start.Column;
            var reason = ex.InnerException?.Message ?? ex.Message;
            reason = StripMarkPrefix(reason);
            throw new MLModelFormatException(
                $"{file ?? "YAML text"}: invalid YAML at line {line}, column {col}: {reason}",
                file,
                line,
                col,
                null,
                ex);
        }
    }

    private static string StripMarkPrefix(string msg)
    {
        var m = MarkPrefix().Match(msg);
        return m.Success ? msg[m.Length..] : msg;
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex MarkPrefix();

    private sealed class Builder(string? file, YamlLimits limits)
    {
        private readonly Dictionary<string, (object? Value, int Nodes)> _anchors = new(StringComparer.Ordinal);
        private int _nodes;
        public Dictionary<string, Mark> Positions { get; } = new(StringComparer.Ordinal);
        public Mark LastMark { get; private set; } = Mark.Empty;
        private string Where => file ?? "YAML text";

        private void Count(int n, Mark at)
        {
            _nodes += n;
            if (_nodes > limits.MaxNodes)
                throw new MLModelFormatException(
                    $"{Where}: more than {limits.MaxNodes:N0} YAML nodes (alias expansion or sheer size) at line {at.Line}; refusing to go on.",
                    file,
                    (int)at.Line,
                    (int)at.Column);
        }

        public object? ReadNode(IParser parser, int depth, string path)
        {
            var ev = parser.Current ?? throw new MLModelFormatException($"{Where}: unexpected end of YAML.", file);
            LastMark = ev.Start;
            if (depth > limits.MaxDepth)
                throw new MLModelFormatException(
                    $"{Where}: nesting deeper than {limits.MaxDepth} levels at line {ev.Start.Line}, column {ev.Start.Column}.",
                    file,
                    (int)ev.Start.Line,
                    (int)ev.Start.Column);
            switch (ev)
            {
                case AnchorAlias alias:
                    parser.MoveNext();
                    if (!_anchors.TryGetValue(alias.Value.Value, out var anchored))
                        throw new MLModelFormatException(
                            $"{Where}: unknown alias *{alias.Value} at line {alias.Start.Line}.",
                            file,
                            (int)alias.Start.Line,
                            (int)alias.Start.Column);
                    Count(anchored.Nodes, alias.Start);
                    return DeepCopy(anchored.Value);
                case Scalar scalar:
                {
                    parser.MoveNext();
                    Count(1, scalar.Start);
                    object? value;
                    try { value = Resolve(scalar); }
                    catch (Exception ex) when (ex is FormatException or ArgumentException)
                    {
                        // "._" matches YAML 1.1's float pattern but is no number; PyYAML fails on it too.
                        throw new MLModelFormatException($"{Where}: '{scalar.Value}' at line {scalar.Start.Line}, column " +
                            $"{scalar.Start.Column} has the form of a number but is not one; quote it to make it " +
                                $"text.", file, (int)scalar.Start.Line, (int)scalar.Start.Column, path.Length > 0 ? path : null);
                    }
                    if (!scalar.Anchor.IsEmpty) _anchors[scalar.Anchor.Value] = (value, 1);
                    return value;
                }
                case SequenceStart seq:
                {
                    parser.MoveNext();
                    int before = _nodes;
                    Count(1, seq.Start);
                    var list = new List<object?>();
                    int i = 0;
                    while (!parser.TryConsume<SequenceEnd>(out _))
                        list.Add(ReadNode(parser, depth + 1, $"{path}[{i++}]"));
                    if (!seq.Anchor.IsEmpty) _anchors[seq.Anchor.Value] = (list, _nodes - before);
                    return list;
                }
                case MappingStart map:
                {
                    parser.MoveNext();
                    int before = _nodes;
                    Count(1, map.Start);
                    var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                    while (!parser.TryConsume<MappingEnd>(out _))
                    {
                        var keyEvent = parser.Current!;
                        if (keyEvent is Scalar { Value: "<<" } && !((Scalar)keyEvent).IsQuotedImplicit)
                            throw new MLModelFormatException(
                                $"{Where}: merge keys (<<) are not supported (line {keyEvent.Start.Line}).",
                                file,
                                (int)keyEvent.Start.Line,
                                (int)keyEvent.Start.Column);
                        var keyValue = ReadNode(parser, depth + 1, path);
                        if (keyValue is Dictionary<string, object?> or List<object?>)
                            throw new MLModelFormatException(
                                $"{Where}: a mapping key at line {keyEvent.Start.Line}, column {keyEvent.Start.Column} is not a scalar.",
                                file,
                                (int)keyEvent.Start.Line,
                                (int)keyEvent.Start.Column);
                        var key = ScalarToKey(keyValue, keyEvent);
                        var childPath = path.Length == 0 ? key : path + "." + key;
                        if (dict.ContainsKey(key))
                            throw new MLModelFormatException(
                                $"{Where}: duplicate key '{childPath}' at line {keyEvent.Start.Line}, column {keyEvent.Start.Column}.",
                                file,
                                (int)keyEvent.Start.Line,
                                (int)keyEvent.Start.Column,
                                childPath);
                        Positions.TryAdd(childPath, keyEvent.Start);
                        dict[key] = ReadNode(parser, depth + 1, childPath);
                    }
                    if (!map.Anchor.IsEmpty) _anchors[map.Anchor.Value] = (dict, _nodes - before);
                    return dict;
                }
                default:
                    throw new MLModelFormatException(
                        $"{Where}: unexpected YAML event {ev.GetType().Name} at line {ev.Start.Line}.",
                        file,
                        (int)ev.Start.Line,
                        (int)ev.Start.Column);
            }
        }

        private static string ScalarToKey(object? value, ParsingEvent ev) => value switch
        {
            null => (ev as Scalar)?.Value ?? "",
            string s => s,
            bool b => b ? "True" : "False",
            _ => ((Scalar)ev).Value,
        };
    }

    internal static object? DeepCopy(object? value) => value switch
    {
        Dictionary<string, object?> d => d.ToDictionary(kv => kv.Key, kv => DeepCopy(kv.Value), StringComparer.Ordinal),
        List<object?> l => l.Select(DeepCopy).ToList(),
        _ => value,
    };

    private static object? Resolve(Scalar scalar)
    {
        if (scalar.Style != ScalarStyle.Plain) return ApplyTag(scalar, scalar.Value);
        if (!scalar.Tag.IsEmpty) return ApplyTag(scalar, scalar.Value);
        // PyYAML reads a plain timestamp as a date or datetime; keeping its text keeps it one on the way back out.
        if (PyYamlTimestamp().IsMatch(scalar.Value)) return new YamlTimestamp(scalar.Value);
        return ResolvePlain(scalar.Value);
    }

    [GeneratedRegex(@"^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?" +
        @"([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)$")]
    private static partial Regex PyYamlTimestamp();

    private static object? ApplyTag(Scalar scalar, string text)
    {
        if (scalar.Tag.IsEmpty || scalar.Tag.Value is "tag:yaml.org,2002:str" or "!") return text;
        return scalar.Tag.Value switch
        {
            "tag:yaml.org,2002:int" or "tag:yaml.org,2002:float" or "tag:yaml.org,2002:bool" or "tag:yaml.org,2002:null" => ResolvePlain(text),
            _ => text,
        };
    }

    /// <summary>PyYAML (YAML 1.1) implicit resolution of a plain scalar.</summary>
    public static object? ResolvePlain(string text)
    {
        if (text.Length == 0 || text is "~" or "null" or "Null" or "NULL") return null;
        switch (text)
        {
            case "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON": return true;
            case "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF": return false;
        }
        if (IntPattern().IsMatch(text))
        {
            // PyYAML's ints are unbounded: a value wider than 64 bits is a BigInteger, never a rounded double.
            var t = text.Replace("_", "");
            bool neg = t.StartsWith('-');
            var body = t.TrimStart('+', '-');
            BigInteger v;
            if (body.StartsWith("0x", StringComparison.Ordinal)) v = ParseDigits(body[2..], 16);
            else if (body.StartsWith("0b", StringComparison.Ordinal)) v = ParseDigits(body[2..], 2);
            else if (body.Length > 1 && body[0] == '0') v = ParseDigits(body[1..], 8);
            else v = BigInteger.Parse(body, NumberStyles.None, CultureInfo.InvariantCulture);
            return Narrow(neg ? -v : v);
        }
        if (SexagesimalPattern().IsMatch(text) && (text.TrimStart('+', '-')[0] != '0' || text.Contains('.')))
        {
            // YAML 1.1 base 60 (1:20 is 80), which PyYAML still resolves.
            bool neg = text.StartsWith('-');
            var parts = text.TrimStart('+', '-').Replace("_", "").Split(':');
            if (text.Contains('.'))
            {
                double value = 0;
                foreach (var part in parts) value = value * 60 + double.Parse(part, CultureInfo.InvariantCulture);
                return neg ? -value : value;
            }
            BigInteger whole = 0;
            foreach (var part in parts) whole = whole * 60 + BigInteger.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture);
            return Narrow(neg ? -whole : whole);
        }
        if (FloatPattern().IsMatch(text))
        {
            var t = text.Replace("_", "");
            return t.ToLowerInvariant() switch
            {
                ".inf" or "+.inf" => double.PositiveInfinity,
                "-.inf" => double.NegativeInfinity,
                ".nan" => double.NaN,
                _ => double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
        }
        return text;
    }

    private static BigInteger ParseDigits(string digits, int radix)
    {
        // "0x_" has the form of an int but no digits; PyYAML's int() fails on it, and so do we.
        if (digits.Length == 0) throw new FormatException("An integer needs at least one digit.");
        BigInteger v = 0;
        foreach (var c in digits) v = v * radix + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        return v;
    }

    /// <summary>An integer as a long when it fits (the common case), else as the exact BigInteger.</summary>
    private static object Narrow(BigInteger v) => v >= long.MinValue && v <= long.MaxValue ? (object)(long)v : v;

    /// <summary>True when PyYAML would read this plain text as something other than a string.</summary>
    public static bool ResolvesToNonString(string text)
    {
        try
        {
            return ResolvePlain(text) is not string || TimestampPattern().IsMatch(text) || SexagesimalPattern().IsMatch(text)
                || Yaml12Number().IsMatch(text);
        }
        // Number-shaped but unreadable ("._"): quoted, so it stays text.
        catch (Exception ex) when (ex is FormatException or ArgumentException) { return true; }
    }

    // Numbers a YAML 1.2 reader would take (1e5, 0o17) are quoted too, so every reader agrees the value is text.
    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$|^0o[0-7]+$")]
    private static partial Regex Yaml12Number();

    [GeneratedRegex(@"^[-+]?(0b[01_]+|0[0-7_]+|(0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^([-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?|[-+]?\.[0-9_]+([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")]
    private static partial Regex FloatPattern();

    [GeneratedRegex(@"^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?([Tt ]|$)")]
    private static partial Regex TimestampPattern();

    [GeneratedRegex(@"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")]
    private static partial Regex SexagesimalPattern();
}
