using System.Collections;
using System.Management.Automation;
using MlModels.Deploy;
using MlModels.Deploy.Docker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Runs a model image (or a model folder mounted into a generic image) and waits until it answers /ping.</summary>
[Cmdlet(VerbsLifecycle.Start, "MLModelContainer", SupportsShouldProcess = true)]
[OutputType(typeof(MLModelContainer))]
public sealed class StartMLModelContainerCommand : DockerCmdlet
{
    /// <summary>The image: an object from Build-MLModelImage, or its name or id.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Tag")]
    public string Image { get; set; } = "";

    /// <summary>A model folder to mount read-only at /opt/ml/model (for a generic image, or to override the image's model).</summary>
    [Parameter]
    [Alias("ModelPath")]
    public string? Path { get; set; }

    /// <summary>The host port for the container's 8080; 0 (the default) lets the engine choose a free one.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    /// <summary>Publishes the container's Open Inference gRPC port (8081) on this host port too; 0 lets the engine choose a free one.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int GrpcPort { get; set; }

    /// <summary>The host address to publish the port on; 127.0.0.1 unless told otherwise.</summary>
    [Parameter]
    public string HostName { get; set; } = "127.0.0.1";

    [Parameter]
    public string? Name { get; set; }

    /// <summary>Environment variables for the container (name = value).</summary>
    [Parameter]
    public Hashtable? Environment { get; set; }

    /// <summary>Memory limit in bytes (e.g. 512MB).</summary>
    [Parameter]
    [ValidateRange(6L * 1024 * 1024, long.MaxValue)]
    public long Memory { get; set; }

    /// <summary>CPU limit, in CPUs (e.g. 1.5).</summary>
    [Parameter]
    [ValidateRange(0.01, 1024)]
    public double Cpus { get; set; }

    [Parameter]
    [ValidateRange(1, 3600)]
    public int StartTimeoutSec { get; set; } = 120;

    protected override void ProcessRecord()
    {
        string? modelPath = null;
        if (Path != null)
        {
            modelPath = ResolveExisting([Path], literal: false).FirstOrDefault();
            if (modelPath == null) return;
        }
        if (!ShouldProcess(Image, modelPath != null ? $"Run a container serving {modelPath}" : "Run a container")) return;
        var options = new ContainerRunOptions
        {
            Image = Image,
            ModelPath = modelPath,
            HostPort = Port,
            GrpcHostPort = MyInvocation.BoundParameters.ContainsKey(nameof(GrpcPort)) ? GrpcPort : null,
            HostIp = HostName,
            Name = Name,
            Environment = StringMap(Environment),
            MemoryBytes = Memory > 0 ? Memory : null,
            Cpus = Cpus > 0 ? Cpus : null,
            StartTimeout = TimeSpan.FromSeconds(StartTimeoutSec),
        };
        StartContainer(options, ProgressIds.StartContainer, "Start-MLModelContainer", Image);
    }
}
