using System.Management.Automation;
using MlModels.Deploy;
using MlModels.Deploy.Docker;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// Base of the Docker cmdlets: the -DockerHost parameter, the engine connection, and Docker errors as ErrorRecords.
/// No Deploy type appears in its signature (see ARCHITECTURE.md, "How the module loads").
/// </summary>
public abstract class DockerCmdlet : MLModelCmdlet
{
    /// <summary>The engine's endpoint (unix:///path, npipe://./pipe/name, tcp://host:port); default DOCKER_HOST, then
    /// the platform's socket.</summary>
    [Parameter]
    public string? DockerHost { get; set; }

    /// <summary>Runs <paramref name="work"/> off the pipeline thread against a connected engine (Write* calls go through Post).</summary>
    internal T WithEngine<T>(Func<DockerEngine, CancellationToken, Task<T>> work) =>
        RunPumped(ct =>
        {
            using var engine = DockerEngine.ConnectAsync(DockerHost, ct).GetAwaiter().GetResult();
            Post(() => WriteVerbose($"Using {engine}."));
            return work(engine, ct).GetAwaiter().GetResult();
        });

    /// <summary>The Docker engine as a deployment target, from the factory.</summary>
    internal DockerDeploymentTarget Target() => DeploymentTargetFactory.Default.Create<DockerDeploymentTarget>(DockerDeploymentTarget.TargetName,
        new DockerTargetSettings(DockerHost) { Log = line => Post(() => WriteVerbose(line)) });

    /// <summary>Runs work against the Docker target off the pipeline thread (Write* calls go through Post).</summary>
    internal T WithTarget<T>(Func<DockerDeploymentTarget, CancellationToken, Task<T>> work) =>
        RunPumped(ct =>
        {
            using var target = Target();
            return work(target, ct).GetAwaiter().GetResult();
        });

    /// <summary>Starts a container through the Docker target with progress until it answers /ping and writes it;
    /// failures become ErrorRecords naming <paramref name="target"/>.</summary>
    internal void StartContainer(ContainerRunOptions options, int progressId, string activity, object? target)
    {
        var progress = new ProgressRecord(progressId, activity, $"Starting {options.Image}");
        try
        {
            var report = new SyncProgress<DeploymentProgress>(p => Post(() =>
            {
                progress.StatusDescription = p.Status;
                WriteProgress(progress);
            }));
            var deployment = WithTarget(async (docker, ct) =>
                await docker.DeployAsync(await docker.PlanAsync(DockerDeploymentOptions.From(options), ct).ConfigureAwait(false), report, ct)
                    .ConfigureAwait(false));
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            WriteObject(deployment.Own);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException && DockerErrors.Record(ex, target) is { } record)
        {
            WriteError(record);
        }
    }
}

internal static class DockerErrors
{
    /// <summary>Docker failures onto ids and categories; null for what is not Docker's (it propagates as it is).</summary>
    public static ErrorRecord? Record(Exception ex, object? target) => ex switch
    {
        ImageBuildException => Errors.Record(ex, "ImageBuildFailed", ErrorCategory.InvalidResult, target),
        RegistryAuthException => Errors.Record(ex, "RegistryAuthenticationFailed", ErrorCategory.AuthenticationError, target),
        ContainerStartException => Errors.Record(ex, "ContainerStartFailed", ErrorCategory.OpenError, target),
        DockerUnreachableException => Errors.Record(ex, "DockerEngineUnreachable", ErrorCategory.ConnectionError, target),
        DockerObjectNotFoundException => Errors.Record(ex, "DockerObjectNotFound", ErrorCategory.ObjectNotFound, target),
        DockerEngineException => Errors.Record(ex, "DockerEngineError", ErrorCategory.NotSpecified, target),
        OperationCanceledException => Errors.Record(ex, "OperationStopped", ErrorCategory.OperationStopped, target),
        TimeoutException => Errors.Record(ex, "Timeout", ErrorCategory.OperationTimeout, target),
        _ when ExpectedFailure.Is(ex) => Errors.FromException(ex, target),
        _ => null,
    };
}
