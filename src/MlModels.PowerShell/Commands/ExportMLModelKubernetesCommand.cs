using System.Collections;
using System.Management.Automation;
using MlModels.Deploy.Kubernetes;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// Writes the Kubernetes manifests that serve a model image (a KServe InferenceService, or a Deployment, Service and
/// HorizontalPodAutoscaler) as YAML for kubectl apply -f: to -OutputPath (atomically; -Force replaces), or to the pipeline.
/// </summary>
[Cmdlet(VerbsData.Export, "MLModelKubernetes", SupportsShouldProcess = true)]
[OutputType(typeof(KubernetesExport), typeof(string))]
public sealed class ExportMLModelKubernetesCommand : MLModelCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    /// <summary>A model image built by this module (Build-MLModelImage), as the cluster pulls it.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    public string Image { get; set; } = "";

    [Parameter]
    [ValidateSet("InferenceService", "Deployment")]
    public string Kind { get; set; } = "InferenceService";

    [Parameter]
    public string Namespace { get; set; } = "default";

    [Parameter]
    [ValidateRange(0, 1000)]
    public int MinReplicas { get; set; } = 1;

    [Parameter]
    [ValidateRange(1, 1000)]
    public int MaxReplicas { get; set; } = 1;

    [Parameter]
    public string Cpu { get; set; } = "1";

    [Parameter]
    public string Memory { get; set; } = "2Gi";

    [Parameter]
    public string? ModelName { get; set; }

    [Parameter]
    [Alias("Env")]
    public Hashtable? Environment { get; set; }

    [Parameter]
    [Alias("Path")]
    public string? OutputPath { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        KubernetesDeploymentOptions options;
        try
        {
            options = KubernetesCmdlet.Options(this, Name, Image, Kind, MinReplicas, MaxReplicas, Cpu, Memory, ModelName, Environment);
        }
        catch (ArgumentException ex)
        {
            WriteError(Errors.Record(ex, "InvalidKubernetesDeployment", ErrorCategory.InvalidArgument, Name));
            return;
        }
        try
        {
            if (OutputPath == null)
            {
                WriteObject(KubernetesExporter.Yaml(options, Namespace));
                return;
            }
            var target = ResolveTarget(OutputPath);
            var objects = string.Join(", ", KubernetesExporter.Describe(KubernetesManifests.For(options, Namespace)));
            if (!ShouldProcess(target, $"Write the Kubernetes manifests {objects} in namespace '{Namespace}'")) return;
            WriteObject(KubernetesExporter.Export(options, Namespace, target, Force));
        }
        catch (Exception ex) when (KubernetesCmdlet.ToRecord(ex, OutputPath ?? Name) is { } error)
        {
            WriteError(error);
        }
    }
}
