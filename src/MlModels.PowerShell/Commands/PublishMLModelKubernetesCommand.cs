using System.Collections;
using System.Management.Automation;
using MlModels.Deploy.Kubernetes;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// Applies the manifests of Export-MLModelKubernetes through the Kubernetes API: creates the objects, or with -Force
/// replaces those that exist (without it an existing object is an error, as the API's 409 is); then waits until they are
/// ready (Deployment: replicas available; InferenceService: condition Ready). -WhatIf lists each call.
/// </summary>
[Cmdlet(VerbsData.Publish, "MLModelKubernetes", SupportsShouldProcess = true)]
[OutputType(typeof(KubernetesDeployment))]
public sealed class PublishMLModelKubernetesCommand : KubernetesCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    public string Image { get; set; } = "";

    [Parameter]
    [ValidateSet("InferenceService", "Deployment")]
    public string Kind { get; set; } = "InferenceService";

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

    /// <summary>Replace objects of that name that exist (PUT with their resourceVersion) instead of failing.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Return once the objects are applied, without waiting for readiness.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    [Parameter]
    [Alias("TimeoutSeconds")]
    [ValidateRange(1, 86_400)]
    public int TimeoutSec { get; set; } = 600;

    protected override void ProcessRecord()
    {
        KubernetesDeploymentOptions options;
        try
        {
            options = Options(this, Name, Image, Kind, MinReplicas, MaxReplicas, Cpu, Memory, ModelName, Environment) with
            {
                Mode = Force ? KubernetesDeployMode.Replace : KubernetesDeployMode.Create,
                Wait = !NoWait,
                Timeout = TimeSpan.FromSeconds(TimeoutSec),
                Namespace = Namespace,
            };
            // Names and quantities are refused before any call, the namespace once the connection says which it is.
            KubernetesManifests.Validate(options, Namespace ?? "default");
        }
        catch (ArgumentException ex)
        {
            WriteError(Errors.Record(ex, "InvalidKubernetesDeployment", ErrorCategory.InvalidArgument, Name));
            return;
        }
        using var target = OpenTarget();
        if (!TryRun("Publish-MLModelKubernetes", Name, (_, ct) => target.PlanAsync(options, ct), out var plan)) return;
        var ns = ((KubernetesPlan)plan.State!).Namespace;
        if (!ShouldProcessCalls($"Deploy image '{Image}' as {Kind} '{Name}' in namespace '{ns}' of {target.Where}", plan.Calls,
            $"Deploy '{Name}' to namespace '{ns}'?", "Publish-MLModelKubernetes")) return;
        if (TryRun("Publish-MLModelKubernetes", Name, (progress, ct) => target.DeployAsync(plan, progress, ct), out var deployment))
            WriteObject(deployment.Own);
    }
}
