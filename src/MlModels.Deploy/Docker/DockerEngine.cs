using System.Net.Sockets;
using Docker.DotNet;
using Docker.DotNet.Models;
using Version = System.Version;

namespace MlModels.Deploy.Docker;

/// <summary>The engine could not be reached, or refused a request; the message names what was tried.</summary>
public class DockerEngineException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>No engine answered at the endpoint; the message names it and where it came from.</summary>
public sealed class DockerUnreachableException(string message, Exception? inner = null) : DockerEngineException(message, inner);

/// <summary>The engine has no image or container of that name.</summary>
public sealed class DockerObjectNotFoundException(string message, Exception? inner = null) : DockerEngineException(message, inner);

/// <summary>
/// A connection to a Docker engine through Docker.DotNet (no docker CLI): an explicit endpoint, else DOCKER_HOST,
/// else the platform's default socket (unix:///var/run/docker.sock, npipe://./pipe/docker_engine).
/// Requests go unversioned until the engine's /version is read, then at the lower of the engine's API version and
/// the newest this client knows, as the docker CLI negotiates.
/// </summary>
public sealed class DockerEngine : IDisposable
{
    /// <summary>The newest Engine API version Docker.DotNet.Enhanced 4.3 models.</summary>
    public static readonly Version ClientApiVersion = new(1, 52);

    /// <summary>The oldest engine API the module needs (Docker 20.10: multi-stage builds, health checks, platform).</summary>
    public static readonly Version MinimumApiVersion = new(1, 41);

    private DockerEngine(DockerClient client, Uri endpoint, string source, VersionResponse version, Version api)
    {
        Client = client;
        Endpoint = endpoint;
        Source = source;
        EngineVersion = version.Version;
        ApiVersion = api;
        Os = version.Os;
        Architecture = version.Arch;
    }

    public DockerClient Client { get; }
    public Uri Endpoint { get; }
    /// <summary>Where the endpoint came from ("-DockerHost", "DOCKER_HOST", "the default socket").</summary>
    public string Source { get; }
    public string EngineVersion { get; }
    public Version ApiVersion { get; }
    public string Os { get; }
    public string Architecture { get; }

    /// <summary>The endpoint to use and where it came from.</summary>
    public static (Uri Endpoint, string Source) ResolveEndpoint(string? host)
    {
        if (!string.IsNullOrWhiteSpace(host)) return (ParseHost(host, "the given Docker host"), "the given Docker host");
        var env = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (!string.IsNullOrWhiteSpace(env)) return (ParseHost(env, "DOCKER_HOST"), "DOCKER_HOST");
        return OperatingSystem.IsWindows()
            ? (new Uri("npipe://./pipe/docker_engine"), "the default named pipe")
            : (new Uri("unix:///var/run/docker.sock"), "the default socket");
    }

    private static Uri ParseHost(string host, string what)
    {
        if (!Uri.TryCreate(host, UriKind.Absolute, out var uri) || uri.Scheme is not ("unix" or "npipe" or "tcp" or "http" or "https"))
            throw new DockerEngineException($"{what} '{host}' is not a Docker endpoint (unix:///path, npipe://./pipe/name, tcp://host:port).");
        return uri;
    }

    /// <summary>Connects and negotiates the API version; an unreachable engine is a <see cref="DockerEngineException"/>
    /// naming the endpoint.</summary>
    public static async Task<DockerEngine> ConnectAsync(string? host, CancellationToken cancellationToken)
    {
        var (endpoint, source) = ResolveEndpoint(host);
        var probe = new DockerClientBuilder().WithEndpoint(endpoint).Build();
        VersionResponse version;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            version = await probe.System.GetVersionAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException or TimeoutException or DockerApiException
                                   || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            probe.Dispose();
            throw new DockerUnreachableException(Unreachable(endpoint, source, ex), ex);
        }
        probe.Dispose();
        if (!Version.TryParse(version.APIVersion, out var engineApi))
            throw new DockerEngineException($"The Docker engine at {endpoint} reported an API version '{version.APIVersion}' that cannot be read.");
        if (engineApi < MinimumApiVersion)
            throw new DockerEngineException($"The Docker engine at {endpoint} speaks API {engineApi} (Docker {version.Version}); " +
                $"MlModels needs {MinimumApiVersion} (Docker 20.10) or later.");
        var api = engineApi < ClientApiVersion ? engineApi : ClientApiVersion;
        var client = new DockerClientBuilder().WithEndpoint(endpoint).WithApiVersion(api).WithTimeout(Timeout.InfiniteTimeSpan).Build();
        return new DockerEngine(client, endpoint, source, version, api);
    }

    private static string Unreachable(Uri endpoint, string source, Exception ex)
    {
        var detail = ex is OperationCanceledException ? "no answer within 15 s" : Innermost(ex).Message;
        var hint = endpoint.Scheme == "unix" && !File.Exists(endpoint.LocalPath)
            ? $" The socket {endpoint.LocalPath} does not exist: is the Docker engine running?"
            : endpoint.Scheme == "unix"
                ? " Check that the engine is running and that you may use its socket."
                : " Check that the engine is running there.";
        var tried = source == "DOCKER_HOST" ? $"DOCKER_HOST={endpoint}" : $"{endpoint} ({source}; DOCKER_HOST is not set)";
        if (source == "the given Docker host") tried = endpoint.ToString();
        return $"Cannot reach the Docker engine at {tried}: {detail}.{hint}";
    }

    internal static Exception Innermost(Exception ex)
    {
        while (ex.InnerException != null) ex = ex.InnerException;
        return ex;
    }

    public override string ToString() => $"Docker {EngineVersion} (API {ApiVersion}) at {Endpoint}";

    public void Dispose() => Client.Dispose();
}
