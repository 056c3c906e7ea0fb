using System.Management.Automation;
using MlModels.Deploy;
using MlModels.Deploy.Kubernetes;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>The model deployments this module made in a namespace (InferenceServices and Deployments), every one or by -Name (wildcards).</summary>
[Cmdlet(VerbsCommon.Get, "MLModelKubernetesDeployment")]
[OutputType(typeof(KubernetesDeployment))]
public sealed class GetMLModelKubernetesDeploymentCommand : KubernetesCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        using var target = OpenTarget();
        foreach (var name in Name ?? ["*"])
        {
            if (!WildcardPattern.ContainsWildcardCharacters(name))
            {
                if (!TryRun("Get-MLModelKubernetesDeployment", name, (_, ct) => target.GetAsync(name, ct), out var one)) continue;
                if (one == null)
                    WriteError(Errors.Record(
                        new ItemNotFoundException($"There is no model deployment named '{name}' in namespace '{target.Namespace}'."),
                        "KubernetesDeploymentNotFound", ErrorCategory.ObjectNotFound, name));
                else WriteObject(one.Own);
                continue;
            }
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            if (!TryRun("Get-MLModelKubernetesDeployment", name, (_, ct) => target.ListAsync(ct), out IReadOnlyList<Deployment> all)) continue;
            foreach (var d in all.Where(d => pattern.IsMatch(d.Name))) WriteObject(d.Own);
        }
    }
}
