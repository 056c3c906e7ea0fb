using System.Text.RegularExpressions;

namespace MlModels.Deploy.Docker;

/// <summary>
/// An image name as Docker's reference grammar defines it ([registry/]path[:tag][@digest]), checked before any work
/// so that a bad name never costs a build.
/// </summary>
public sealed partial record ImageReference(string? Registry, string Repository, string? Tag, string? Digest)
{
    /// <summary>The repository with its registry, without tag or digest (what a push names).</summary>
    public string Name => Registry == null ? Repository : $"{Registry}/{Repository}";

    public override string ToString() => Name + (Tag != null ? ":" + Tag : "") + (Digest != null ? "@" + Digest : "");

    /// <summary>The same reference with <paramref name="tag"/>, or "latest" where it had none.</summary>
    public ImageReference WithDefaultTag() => Tag == null && Digest == null ? this with { Tag = "latest" } : this;

    public static ImageReference Parse(string reference)
    {
        if (TryParse(reference, out var parsed, out var error)) return parsed!;
        throw new ArgumentException(error);
    }

    public static bool TryParse(string reference, out ImageReference? parsed, out string error)
    {
        parsed = null;
        error = "";
        if (string.IsNullOrWhiteSpace(reference)) { error = "The image name is empty."; return false; }
        if (reference.Length > 255 + 128 + 72) { error = $"The image name '{Shorten(reference)}' is too long."; return false; }
        var rest = reference;
        string? digest = null, tag = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!DigestPattern().IsMatch(digest)) { error = $"The digest in '{reference}' is not algorithm:hex (e.g. sha256:...)."; return false; }
        }
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"The tag '{tag}' in '{reference}' is not valid: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'.";
                return false;
            }
        }
        string? registry = null;
        var firstSlash = rest.IndexOf('/');
        if (firstSlash > 0)
        {
            var first = rest[..firstSlash];
            // As Docker decides: the first part is a registry when it has a '.' or ':' or is 'localhost'.
            if (first.Contains('.') || first.Contains(':') || first == "localhost")
            {
                registry = first;
                rest = rest[(firstSlash + 1)..];
                if (!RegistryPattern().IsMatch(
                    registry)) { error = $"The registry '{registry}' in '{reference}' is not a host name with an optional port."; return false; }
            }
        }
        if (rest.Length == 0) { error = $"'{reference}' has no repository name."; return false; }
        if (rest.Length > 255) { error = $"The repository name in '{Shorten(reference)}' is longer than 255 characters."; return false; }
        foreach (var component in rest.Split('/'))
        {
            if (!ComponentPattern().IsMatch(component))
            {
                error = $"'{component}' in image name '{reference}' is not valid: use lowercase letters, digits and separators ('.', " +
                    $"'_', '__', '-'), starting and ending with a letter or digit.";
                return false;
            }
        }
        parsed = new ImageReference(registry, rest, tag, digest);
        return true;
    }

    private static string Shorten(string s) => s.Length > 60 ? s[..60] + "..." : s;

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")]
    private static partial Regex ComponentPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$" +
        @"|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$")]
    private static partial Regex RegistryPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")]
    private static partial Regex DigestPattern();
}
