using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace MlModels.Deploy.Docker;

/// <summary>How to run a model image (MLflow's <c>sagemaker run-local</c>).</summary>
public sealed record ContainerRunOptions
{
    public required string Image { get; init; }
    /// <summary>A model folder mounted read-only at /opt/ml/model (what a generic image serves).</summary>
    public string? ModelPath { get; init; }
    /// <summary>The host port for the container's port; 0 lets the engine choose a free one.</summary>
    public int HostPort { get; init; }
    /// <summary>The port the server listens on inside the container (8080; 5001 for Azure ML's contract).</summary>
    public int ContainerPort { get; init; } = DockerContextWriter.Port;
    /// <summary>The host port for the container's Open Inference gRPC port (8081); null: not published, 0: a free one.</summary>
    public int? GrpcHostPort { get; init; }
    /// <summary>The host address the port is published on: 127.0.0.1 unless told otherwise.</summary>
    public string HostIp { get; init; } = "127.0.0.1";
    public string? Name { get; init; }
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public long? MemoryBytes { get; init; }
    public double? Cpus { get; init; }
    /// <summary>The container's arguments; SageMaker's <c>serve</c> unless told otherwise.</summary>
    public IReadOnlyList<string> Command { get; init; } = [MlModels.Core.Serving.ServerCommandLine.Serve];
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>Extra labels (deployment targets mark their containers with these).</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}

/// <summary>A model container as the engine reports it.</summary>
public sealed record MLModelContainer(
    string Id,
    string Name,
    string Image,
    string State,
    string? Health,
    Uri? Url,
    DateTime Created,
    IReadOnlyDictionary<string, string> Labels)
{
    /// <summary>Where the container's Open Inference gRPC service is published (host:port), where it is.</summary>
    public string? GrpcAddress { get; init; }
    public string ShortId => Id.Length > 12 ? Id[..12] : Id;
    public string? ModelName => Labels.GetValueOrDefault(DockerContextWriter.LabelPrefix + "model.name");
    /// <summary>The model folder mounted into it, where one was.</summary>
    public string? ModelPath => Labels.GetValueOrDefault(ContainerRunner.ModelPathLabel);
    public override string ToString() => $"{Name} ({ShortId}) at {Url}";
}

/// <summary>The container stopped, or never answered /ping; the message carries its last log lines.</summary>
public sealed class ContainerStartException(string message, string containerId, IReadOnlyList<string> logTail) : DockerEngineException(message)
{
    public string ContainerId { get; } = containerId;
    public IReadOnlyList<string> LogTail { get; } = logTail;
}

/// <summary>
/// Runs model images: create with the port published (on 127.0.0.1 by default), start, wait for /ping, read logs,
/// stop. Every container it makes carries the label <see cref="ContainerLabel"/>, which is how it finds them again.
/// </summary>
public sealed class ContainerRunner(DockerEngine engine, HttpMessageHandler? httpHandler = null)
{
    public const string ContainerLabel = DockerContextWriter.LabelPrefix + "container";
    public const string ModelPathLabel = DockerContextWriter.LabelPrefix + "model.path";
    private const string ServingPort = "8080/tcp";
    private static readonly string GrpcPort = DockerContextWriter.GrpcPort.ToString(CultureInfo.InvariantCulture) + "/tcp";

    public DockerEngine Engine => engine;

    /// <summary>Creates and starts the container, then waits until it answers /ping. A container that fails to start is
    /// removed, and the error shows its last log lines.</summary>
    public async Task<MLModelContainer> StartAsync(
        ContainerRunOptions options,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken)
    {
        if (!ImageReference.TryParse(options.Image, out _, out var nameError) && !IsImageId(options.Image)) throw new ArgumentException(nameError);
        if (options.Name != null && !System.Text.RegularExpressions.Regex.IsMatch(options.Name, "^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"))
            throw new ArgumentException(
                $"'{options.Name}' is not a container name: letters, digits, '_', '.' and '-', starting with a letter or digit.");
        string? modelPath = null;
        if (options.ModelPath != null)
        {
            modelPath = Path.GetFullPath(options.ModelPath);
            if (!File.Exists(Path.Combine(modelPath, "MLmodel"))) throw new FileNotFoundException(
                $"'{modelPath}' is not a model folder (it has no MLmodel file).",
                Path.Combine(modelPath, "MLmodel"));
        }
        var image = await ImageBuilder.InspectAsync(engine, options.Image, cancellationToken).ConfigureAwait(false);
        var labels = new Dictionary<string, string>(image.Labels) { [ContainerLabel] = "true" };
        if (modelPath != null) labels[ModelPathLabel] = modelPath;
        foreach (var (k, v) in options.Labels ?? new Dictionary<string, string>()) labels[k] = v;

        var servingPort = options.ContainerPort.ToString(CultureInfo.InvariantCulture) + "/tcp";
        var hostConfig = new HostConfig
        {
            PortBindings = new Dictionary<string, IList<PortBinding>>
            {
                [servingPort] = [new PortBinding {
                    HostIP = options.HostIp,
                    HostPort = options.HostPort == 0 ? "" : options.HostPort.ToString(CultureInfo.InvariantCulture) }],
            },
            Binds = modelPath != null ? [$"{modelPath}:{DockerContextWriter.ModelDir}:ro"] : [],
            Memory = options.MemoryBytes ?? 0,
            NanoCPUs = options.Cpus is double c ? (long)(c * 1_000_000_000) : 0,
        };
        var exposed = new Dictionary<string, EmptyStruct> { [servingPort] = default };
        if (options.GrpcHostPort is { } grpcHostPort)
        {
            hostConfig.PortBindings[GrpcPort] = [new PortBinding {
                HostIP = options.HostIp,
                HostPort = grpcHostPort == 0 ? "" : grpcHostPort.ToString(CultureInfo.InvariantCulture) }];
            exposed[GrpcPort] = default;
        }
        progress?.Report(new DeploymentProgress("Start-MLModelContainer", $"Creating a container from {options.Image}"));
        CreateContainerResponse created;
        try
        {
            created = await engine.Client.Containers.CreateContainerAsync(new CreateContainerParameters
            {
                Image = options.Image,
                Name = options.Name,
                Cmd = options.Command.ToList(),
                Env = options.Environment?.Select(kv => $"{kv.Key}={kv.Value}").ToList() ?? [],
                ExposedPorts = exposed,
                Labels = labels,
                HostConfig = hostConfig,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (DockerApiException ex) { throw new DockerEngineException($"Cannot create a container from '{options.Image}': {Message(ex)}", ex); }

        try
        {
            try
            {
                await engine.Client.Containers.StartContainerAsync(created.ID, new ContainerStartParameters(), cancellationToken)
                .ConfigureAwait(false);
            }
            catch (DockerApiException ex)
            {
                throw new DockerEngineException(
                $"Cannot start the container from '{options.Image}': {Message(ex)}",
                ex);
            }
            var container = await GetAsync(created.ID, cancellationToken).ConfigureAwait(false)
                ?? throw new DockerEngineException($"The container {created.ID[..12]} vanished right after it started.");
            await WaitForPingAsync(container, options.StartTimeout, progress, cancellationToken).ConfigureAwait(false);
            return await GetAsync(created.ID, cancellationToken).ConfigureAwait(false) ?? container;
        }
        catch
        {
            // Nothing half-made stays behind: the container that did not come up is removed (its logs are in the error).
            try
            {
                await engine.Client.Containers
                .RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true }, CancellationToken.None)
                .ConfigureAwait(false);
            }
            catch (DockerApiException) { }
            throw;
        }
    }

    /// <summary>Waits until the container's /ping answers 200; a container that exits first is an error with its last log lines.</summary>
    public async Task WaitForPingAsync(
        MLModelContainer container,
        TimeSpan timeout,
        IProgress<DeploymentProgress>? progress,
        CancellationToken cancellationToken)
    {
        if (container.Url == null) throw new DockerEngineException($"The container {container.Name} publishes no port of its server.");
        using var http = new HttpClient(httpHandler ?? new SocketsHttpHandler(), disposeHandler: httpHandler == null)
        {
            Timeout = TimeSpan.FromSeconds(2)
        };
        var ping = new Uri(container.Url, "ping");
        try
        {
            await LongWait.UntilAsync($"Container {container.Name} answering {ping}", async ct =>
            {
                var inspect = await engine.Client.Containers.InspectContainerAsync(container.Id, ct).ConfigureAwait(false);
                if (inspect.State is not { Running: true })
                {
                    var tail = await LogsAsync(container.Id, 20, ct).ConfigureAwait(false);
                    throw new ContainerStartException(
                        $"The container {container.Name} from {container.Image} exited (code {inspect.State?.ExitCode}) before " +
                            $"answering /ping. Its last log lines:{Environment.NewLine}{string.Join(Environment.NewLine, tail)}",
                        container.Id, tail);
                }
                try
                {
                    using var r = await http.GetAsync(ping, ct).ConfigureAwait(false);
                    if (r.IsSuccessStatusCode) return PollResult<bool>.Finished("ready", true);
                    return PollResult<bool>.Pending($"/ping answered {(int)r.StatusCode}");
                }
                catch (HttpRequestException) { return PollResult<bool>.Pending("starting"); }
                catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return PollResult<bool>.Pending("starting"); }
            }, TimeSpan.FromMilliseconds(250), timeout, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            var tail = await LogsAsync(container.Id, 20, CancellationToken.None).ConfigureAwait(false);
            throw new ContainerStartException(
                $"The container {container.Name} did not answer {ping} within {timeout.TotalSeconds:0} s. Its last log " +
                    $"lines:{Environment.NewLine}{string.Join(Environment.NewLine, tail)}",
                container.Id, tail);
        }
    }

    /// <summary>The container by id or name, or null where there is none.</summary>
    public async Task<MLModelContainer?> GetAsync(string idOrName, CancellationToken cancellationToken)
    {
        ContainerInspectResponse r;
        try { r = await engine.Client.Containers.InspectContainerAsync(idOrName, cancellationToken).ConfigureAwait(false); }
        catch (DockerContainerNotFoundException) { return null; }
        Uri? url = null;
        string? grpc = null;
        // The server's published port: 8080 where it is published, else the one other (5001 for Azure ML's contract);
        // the gRPC port (8081) apart.
        if (r.NetworkSettings?.Ports is { } ports)
        {
            var published = ports.Where(p => p.Value is { Count: > 0 }).ToList();
            if (published.Where(p => p.Key != GrpcPort).OrderBy(p => p.Key == ServingPort ? 0 : 1).Select(p => p.Value[0]).FirstOrDefault() is { } b)
                url = new Uri($"http://{HostOf(b)}:{b.HostPort}/");
            if (published.FirstOrDefault(p => p.Key == GrpcPort).Value is { } g) grpc = $"{HostOf(g[0])}:{g[0].HostPort}";
        }
        var labels = r.Config?.Labels is { } l ? new Dictionary<string, string>(l) : new Dictionary<string, string>();
        return new MLModelContainer(
            r.ID,
            r.Name.TrimStart('/'),
            r.Config?.Image ?? r.Image,
            r.State?.Status ?? "unknown",
            r.State?.Health?.Status,
            url,
            r.Created,
            labels)
        { GrpcAddress = grpc };
    }

    private static string HostOf(PortBinding b)
    {
        var hostIp = string.IsNullOrEmpty(b.HostIP) || b.HostIP is "0.0.0.0" or "::" ? "127.0.0.1" : b.HostIP;
        return hostIp.Contains(':') ? $"[{hostIp}]" : hostIp;
    }

    /// <summary>Containers this module started (running ones, or all with <paramref name="all"/>).</summary>
    public async Task<IReadOnlyList<MLModelContainer>> ListAsync(bool all, CancellationToken cancellationToken)
    {
        var list = await engine.Client.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = all,
            Filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [ContainerLabel + "=true"] = true }
            },
        }, cancellationToken).ConfigureAwait(false);
        var result = new List<MLModelContainer>();
        foreach (var c in list.OrderBy(c => c.Created))
            if (await GetAsync(c.ID, cancellationToken).ConfigureAwait(false) is { } found) result.Add(found);
        return result;
    }

    /// <summary>The container's last <paramref name="tail"/> log lines (stdout and stderr), oldest first; all with 0.</summary>
    public async Task<IReadOnlyList<string>> LogsAsync(string idOrName, int tail, CancellationToken cancellationToken)
    {
        try
        {
            using var stream = await engine.Client.Containers.GetContainerLogsAsync(idOrName, new ContainerLogsParameters
            {
                ShowStdout = true,
                ShowStderr = true,
                Tail = tail > 0 ? tail.ToString(CultureInfo.InvariantCulture) : "all",
            }, cancellationToken).ConfigureAwait(false);
            var lines = new List<string>();
            var buffer = new byte[81920];
            var pending = new System.Text.StringBuilder();
            while (true)
            {
                var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
                if (read.EOF) break;
                pending.Append(System.Text.Encoding.UTF8.GetString(buffer, 0, read.Count));
            }
            foreach (var line in pending.ToString().Split('\n')) if (line.TrimEnd('\r').Length > 0) lines.Add(line.TrimEnd('\r'));
            return lines;
        }
        catch (DockerContainerNotFoundException) { return []; }
    }

    /// <summary>Stops the container (SIGTERM: the server finishes requests in flight), then removes it unless <paramref name="keep"/>.</summary>
    public async Task StopAsync(string idOrName, bool keep, TimeSpan grace, CancellationToken cancellationToken)
    {
        try
        {
            await engine.Client.Containers.StopContainerAsync(
                idOrName,
                new ContainerStopParameters { WaitBeforeKillSeconds = (uint)Math.Max(1, grace.TotalSeconds) },
                cancellationToken).ConfigureAwait(false);
            if (!keep) await engine.Client.Containers
                .RemoveContainerAsync(idOrName, new ContainerRemoveParameters { Force = true }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (DockerContainerNotFoundException ex)
        {
            throw new DockerObjectNotFoundException(
            $"There is no container '{idOrName}' on the Docker engine at {engine.Endpoint}.",
            ex);
        }
        catch (DockerApiException ex) { throw new DockerEngineException($"Cannot stop container '{idOrName}': {Message(ex)}", ex); }
    }

    private static bool IsImageId(string s) => s.StartsWith("sha256:", StringComparison.Ordinal);

    internal static string Message(DockerApiException ex)
    {
        var body = ex.ResponseBody?.Trim() ?? "";
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("message", out var m)) return m.GetString() ?? body;
        }
        catch (System.Text.Json.JsonException) { }
        return body.Length > 0 ? body : ex.StatusCode.ToString();
    }
}
