namespace MlModels.Core.Tracking;

public enum ModelUriKind { Run, ModelVersion, ModelAlias, ModelStage, ModelLatest, Artifacts, Store }

/// <summary>
/// A model URI as MLflow's client parses it (mlflow/store/artifact/utils/models.py, runs_artifact_repo.py):
/// <c>runs:/&lt;run_id&gt;/&lt;path&gt;</c>, <c>models:/&lt;name&gt;/&lt;version|stage|latest&gt;[/&lt;path&gt;]</c>,
/// <c>models:/&lt;name&gt;@&lt;alias&gt;[/&lt;path&gt;]</c>, <c>mlflow-artifacts:/&lt;path&gt;</c>.
/// </summary>
public sealed record ModelUri(string Text, ModelUriKind Kind, string? RunId = null, string? Name = null, string? Version = null,
    string? Alias = null, string? Stage = null, string Path = "", string? ArtifactUri = null)
{
    public const string Accepted =
        "runs:/<run_id>/<path>, models:/<name>/<version>, models:/<name>@<alias>, models:/<name>/<stage>, models:/<name>/latest, " +
            "mlflow-artifacts:/<path>, and a store's own URI (s3://, wasbs://, abfss://, gs://, file://)";

    public static ModelUri Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var uri = text.Trim();
        if (uri.StartsWith("runs:", StringComparison.Ordinal)) return ParseRuns(uri);
        if (uri.StartsWith("models:", StringComparison.Ordinal)) return ParseModels(uri);
        if (uri.StartsWith("mlflow-artifacts:", StringComparison.Ordinal)) return ParseArtifacts(uri);
        if (Artifacts.ArtifactRepositories.SchemeOf(uri) is "s3" or "gs" or "wasbs" or "abfss" or "file"
            && uri.Contains("://", StringComparison.Ordinal))
            return ParseStore(uri);
        throw new ModelUriException($"'{text}' is not a model URI. The kinds accepted are {Accepted}; for a folder, use -Path.", text);
    }

    private static ModelUri ParseRuns(string uri)
    {
        var rest = uri["runs:".Length..];
        if (!rest.StartsWith('/') || rest.StartsWith("//", StringComparison.Ordinal))
            throw new ModelUriException($"'{uri}' is not a valid runs URI; expected runs:/<run_id>/<path>.", uri);
        var parts = rest.Trim('/').Split('/', 2);
        if (parts[0].Length == 0) throw new ModelUriException($"'{uri}' names no run; expected runs:/<run_id>/<path>.", uri);
        var path = parts.Length > 1 ? CheckPath(parts[1].Trim('/'), uri) : "";
        return new ModelUri(uri, ModelUriKind.Run, RunId: parts[0], Path: path);
    }

    private static ModelUri ParseModels(string uri)
    {
        var rest = uri["models:".Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
            throw new ModelUriException($"'{uri}' names a registry by profile (models://<profile>/...), which this client does not " +
                $"read; set MLFLOW_REGISTRY_URI or -TrackingUri and use models:/<name>/<version>.", uri);
        if (!rest.StartsWith('/') || rest.Length <= 1)
            throw new ModelUriException(
                $"'{uri}' is not a valid models URI; expected models:/<name>/<version>, models:/<name>/<stage> or models:/<name>@<alias>.",
                uri);
        var parts = rest[1..].TrimEnd('/').Split('/');
        if (parts[0].Trim().Length == 0) throw new ModelUriException($"'{uri}' names no registered model.", uri);

        var at = parts[0].LastIndexOf('@');
        if (at >= 0)
        {
            var name = parts[0][..at];
            var alias = parts[0][(at + 1)..];
            if (name.Trim().Length == 0 || alias.Trim().Length == 0)
                throw new ModelUriException($"'{uri}' is not a valid alias URI; expected models:/<name>@<alias>.", uri);
            return new ModelUri(uri, ModelUriKind.ModelAlias, Name: name, Alias: alias, Path: CheckPath(string.Join('/', parts.Skip(1)), uri));
        }
        if (parts.Length < 2 || parts[1].Trim().Length == 0)
            throw new ModelUriException($"'{uri}' names a registered model but no version, stage or alias; expected " +
                $"models:/{parts[0]}/<version>, models:/{parts[0]}/<stage> or models:/{parts[0]}@<alias>.", uri);
        var suffix = parts[1];
        var sub = CheckPath(string.Join('/', parts.Skip(2)), uri);
        if (suffix.All(char.IsAsciiDigit)) return new ModelUri(uri, ModelUriKind.ModelVersion, Name: parts[0], Version: suffix, Path: sub);
        if (suffix
            .Equals("latest", StringComparison.OrdinalIgnoreCase)) return new ModelUri(uri, ModelUriKind.ModelLatest, Name: parts[0], Path: sub);
        return new ModelUri(uri, ModelUriKind.ModelStage, Name: parts[0], Stage: suffix, Path: sub);
    }

    private static ModelUri ParseArtifacts(string uri)
    {
        var rest = uri["mlflow-artifacts:".Length..];
        string path = rest.StartsWith("//", StringComparison.Ordinal) ? (rest.IndexOf('/', 2) is var i && i > 0 ? rest[(i + 1)..] : "") : rest;
        path = CheckPath(path.Trim('/'), uri);
        if (path.Length == 0) throw new ModelUriException($"'{uri}' names no artifact; expected mlflow-artifacts:/<path>.", uri);
        return new ModelUri(uri, ModelUriKind.Artifacts, ArtifactUri: uri.TrimEnd('/'), Path: path);
    }

    /// <summary>A store's own URI (s3://bucket/path, wasbs://container@account.../path, gs://, file:///path): the folder itself.</summary>
    private static ModelUri ParseStore(string uri)
    {
        var trimmed = uri.TrimEnd('/');
        var afterAuthority = trimmed.IndexOf('/', trimmed.IndexOf("://", StringComparison.Ordinal) + 3);
        var path = afterAuthority < 0 ? "" : CheckPath(trimmed[(afterAuthority + 1)..], uri);
        if (path.Length == 0) throw new ModelUriException($"'{uri}' names no folder inside its store; expected e.g. s3://<bucket>/<path>.", uri);
        return new ModelUri(uri, ModelUriKind.Store, ArtifactUri: trimmed, Path: path);
    }

    /// <summary>Artifact paths stay below their root: no '..' or '.' segments, no backslashes.</summary>
    private static string CheckPath(string path, string uri)
    {
        if (path.Length == 0) return path;
        foreach (var seg in path.Split('/'))
        {
            var s = Uri.UnescapeDataString(seg);
            if (s is "." or ".." || s.Contains('\\') || s.Contains('\0'))
                throw new ModelUriException($"'{uri}' has the path segment '{seg}', which would leave the artifact root.", uri);
        }
        return path;
    }
}
