using System.Text;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace MlModels.Deploy.Docker;

/// <summary>A user name and password (or token) for a registry.</summary>
public sealed record RegistryCredential(string Username, string Password);

/// <summary>One layer's push state, for a progress bar per layer.</summary>
public sealed record PushProgress(string Layer, string Status, long Current, long Total);

/// <summary>The registry refused the credentials (or there were none and it wants some).</summary>
public sealed class RegistryAuthException(string message, Exception? inner = null) : DockerEngineException(message, inner);

/// <summary>A pushed image: where it went and its digest.</summary>
public sealed record PublishedImage(string Reference, string? Digest, string ImageId)
{
    public override string ToString() => Digest != null ? $"{Reference}@{Digest}" : Reference;
}

/// <summary>
/// Tags and pushes an image (Publish-MLModelImage). Credentials: the caller's, else the engine's stored ones
/// (the docker CLI's config.json: auths, credsStore or credHelpers), else none.
/// </summary>
public sealed class ImagePublisher(DockerEngine engine)
{
    public const string DockerHubServer = "https://index.docker.io/v1/";

    public async Task<PublishedImage> PushAsync(string sourceImage, ImageReference target, RegistryCredential? credential,
        IProgress<PushProgress>? progress, CancellationToken cancellationToken)
    {
        target = target.WithDefaultTag();
        if (target.Digest != null) throw new ArgumentException($"Push to a tag, not a digest ('{target}').");
        var image = await ImageBuilder.InspectAsync(engine, sourceImage, cancellationToken).ConfigureAwait(false);
        if (!image.Tags.Contains(target.ToString()))
        {
            try
            {
                await engine.Client.Images.TagImageAsync(
                image.Id,
                new ImageTagParameters { RepositoryName = target.Name, Tag = target.Tag },
                cancellationToken).ConfigureAwait(false);
            }
            catch (DockerApiException ex)
            {
                throw new DockerEngineException(
                $"Cannot tag {sourceImage} as {target}: {ContainerRunner.Message(ex)}",
                ex);
            }
        }
        var server = target.Registry ?? DockerHubServer;
        var auth = credential != null
            ? new AuthConfig { Username = credential.Username, Password = credential.Password, ServerAddress = server }
            : StoredCredentials.Find(target.Registry ?? "docker.io");
        if (auth != null)
        {
            auth.ServerAddress ??= server;
            try { await engine.Client.System.AuthenticateAsync(auth, cancellationToken).ConfigureAwait(false); }
            catch (DockerApiException ex) when (ex.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden
                or System.Net.HttpStatusCode.InternalServerError)
            {
                throw new RegistryAuthException(
                    $"The registry {target.Registry ?? "docker.io"} refused the credentials for '{auth.Username}': {ContainerRunner.Message(ex)}",
                    ex);
            }
        }

        string? digest = null;
        JSONError? error = null;
        var messages = new SyncProgress<JSONMessage>(m =>
        {
            if (m.Error != null) { error = m.Error; return; }
            if (m.Aux?.ExtensionData?.TryGetValue("Digest", out var d) == true) digest = d?.ToString();
            if (m.ID != null && m.Status != null)
                progress?.Report(new PushProgress(m.ID, m.Status, m.Progress?.Current ?? 0, m.Progress?.Total ?? 0));
        });
        try
        {
            await engine.Client.Images.PushImageAsync(
                target.Name,
                new ImagePushParameters { Tag = target.Tag },
                auth ?? new AuthConfig(),
                messages,
                cancellationToken).ConfigureAwait(false);
        }
        catch (DockerApiException ex) { throw new DockerEngineException($"Cannot push {target}: {ContainerRunner.Message(ex)}", ex); }
        if (error != null)
        {
            var text = error.Message?.Trim() ?? "unknown error";
            if (text.Contains("unauthorized", StringComparison.OrdinalIgnoreCase)
                || text.Contains("authentication required", StringComparison.OrdinalIgnoreCase)
                || text.Contains("denied", StringComparison.OrdinalIgnoreCase)
                || text.Contains("no basic auth credentials", StringComparison.OrdinalIgnoreCase))
                throw new RegistryAuthException($"The registry {target.Registry ?? "docker.io"} refused the push of {target}: {text}. " +
                    $"Give -Credential, or log in with 'docker login' so the engine's stored credentials are used.");
            throw new DockerEngineException($"The push of {target} failed: {text}");
        }
        return new PublishedImage(target.ToString(), digest, image.Id);
    }
}

/// <summary>The docker CLI's stored credentials ($DOCKER_CONFIG/config.json or ~/.docker/config.json).</summary>
public static class StoredCredentials
{
    public static string ConfigFile =>
        Path.Combine(Environment.GetEnvironmentVariable("DOCKER_CONFIG")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker"), "config.json");

    /// <summary>The credentials stored for <paramref name="registry"/> ("docker.io" for Docker Hub), or null.</summary>
    public static AuthConfig? Find(string registry)
    {
        if (!File.Exists(ConfigFile)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllBytes(ConfigFile));
        var root = doc.RootElement;
        var keys = registry == "docker.io"
            ? new[] { ImagePublisher.DockerHubServer, "docker.io", "index.docker.io", "https://index.docker.io/v1" }
            : [registry, "https://" + registry, "http://" + registry];
        if (root.TryGetProperty("credHelpers", out var helpers))
            foreach (var k in keys)
                if (helpers.TryGetProperty(k, out var h) && h.GetString() is string helper) return FromHelper(helper, k);
        if (root.TryGetProperty("auths", out var auths))
            foreach (var k in keys)
                if (auths.TryGetProperty(k, out var entry))
                {
                    if (entry.TryGetProperty("identitytoken", out var token) && token.GetString() is { Length: > 0 } t) return new AuthConfig
                    {
                        IdentityToken = t,
                        ServerAddress = k
                    };
                    if (entry.TryGetProperty("auth", out var a) && a.GetString() is { Length: > 0 } encoded)
                    {
                        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
                        var colon = pair.IndexOf(':');
                        if (colon > 0) return new AuthConfig { Username = pair[..colon], Password = pair[(colon + 1)..], ServerAddress = k };
                    }
                }
        if (root.TryGetProperty("credsStore", out var store) && store.GetString() is { Length: > 0 } s)
            foreach (var k in keys)
                if (FromHelper(s, k) is { } found) return found;
        return null;
    }

    /// <summary>Asks a docker-credential-* helper, as the docker CLI does (server on stdin, JSON on stdout).</summary>
    private static AuthConfig? FromHelper(string helper, string server)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("docker-credential-" + helper, "get")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        try
        {
            using var p = System.Diagnostics.Process.Start(psi)!;
            p.StandardInput.Write(server);
            p.StandardInput.Close();
            var output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(10_000) || p.ExitCode != 0) return null;
            using var doc = JsonDocument.Parse(output);
            var user = doc.RootElement.GetProperty("Username").GetString();
            var secret = doc.RootElement.GetProperty("Secret").GetString();
            return user == "<token>"
                ? new AuthConfig { IdentityToken = secret, ServerAddress = server }
                : new AuthConfig { Username = user, Password = secret, ServerAddress = server };
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
        catch (JsonException) { return null; }
    }
}
