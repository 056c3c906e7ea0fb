using MlModels.Core.Tracking;

namespace MlModels.Core.Artifacts;

/// <summary>
/// Artifact repositories by URI scheme, as MLflow's artifact_repository_registry picks them: a scheme maps to a
/// constructor taking the root URI. Core registers what it can read itself (file and plain paths; the tracking server's
/// proxy for mlflow-artifacts and http(s)); the cloud stores are registered by MlModels.Deploy, whose SDKs they use.
/// </summary>
public sealed class ArtifactRepositories
{
    private readonly Dictionary<string, Func<string, IArtifactRepository>> _byScheme = new(StringComparer.OrdinalIgnoreCase);

    public ArtifactRepositories Register(string scheme, Func<string, IArtifactRepository> open)
    {
        _byScheme[scheme] = open;
        return this;
    }

    /// <summary>The schemes known, "" standing for a plain path.</summary>
    public IReadOnlyCollection<string> Schemes => _byScheme.Keys;

    /// <summary>Core's own: file:// and plain paths, and (with a tracking client) its artifact proxy.</summary>
    public static ArtifactRepositories WithBuiltIns(TrackingClient? client = null)
    {
        var r = new ArtifactRepositories()
            .Register("", root => new LocalArtifactRepository(root))
            .Register("file", root => new LocalArtifactRepository(root));
        if (client != null)
        {
            foreach (var scheme in new[] { "mlflow-artifacts", "http", "https" })
                r.Register(scheme, root => new ProxiedArtifactRepository(client, root));
        }
        return r;
    }

    /// <summary>The scheme of a URI as urllib's urlparse gives it (lower-cased; "" for a plain path).</summary>
    public static string SchemeOf(string uri)
    {
        var colon = uri.IndexOf(':');
        if (colon <= 0) return "";
        var scheme = uri[..colon];
        // urlparse takes a scheme only of letters, digits, '+', '-', '.' that starts with a letter.
        if (!char.IsAsciiLetter(scheme[0]) || scheme.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))) return "";
        // A Windows drive letter is a path here, where MLflow would take it for a scheme and fail.
        if (scheme.Length == 1 && OperatingSystem.IsWindows()) return "";
        return scheme.ToLowerInvariant();
    }

    /// <summary>The repository for the root URI, or an error that lists the schemes this module reads.</summary>
    public IArtifactRepository Open(string rootUri)
    {
        var scheme = SchemeOf(rootUri);
        if (_byScheme.TryGetValue(scheme, out var open)) return open(rootUri);
        var known = string.Join(", ", _byScheme.Keys.Where(k => k.Length > 0).Order(StringComparer.Ordinal).Select(k => k + "://"));
        throw new ArtifactLocationNotSupportedException(
            $"The artifacts are stored at '{rootUri}', whose scheme '{scheme}' this module does not read. It reads {known} and " +
            "local paths.", rootUri);
    }
}
