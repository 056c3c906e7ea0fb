using System.Management.Automation;
using MlModels.Deploy;
using MlModels.Deploy.SageMaker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>SageMaker endpoints with their status and variants (every endpoint, or those matching -AppName's wildcards).</summary>
[Cmdlet(VerbsCommon.Get, "MLModelSageMakerDeployment")]
[OutputType(typeof(SageMakerDeployment))]
public sealed class GetMLModelSageMakerDeploymentCommand : AwsCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("EndpointName", "Name")]
    [SupportsWildcards]
    public string[]? AppName { get; set; }

    protected override void ProcessRecord()
    {
        using var target = OpenTarget();
        foreach (var name in AppName ?? ["*"])
        {
            var pattern = WildcardPattern.ContainsWildcardCharacters(name) ? new WildcardPattern(name, WildcardOptions.IgnoreCase) : null;
            if (pattern == null)
            {
                if (!TryRun("Get-MLModelSageMakerDeployment", name, (_, ct) => target.GetAsync(name, ct), out var one, terminating: false)) continue;
                if (one == null) WriteError(Errors.Record(
                    new ItemNotFoundException($"There is no SageMaker endpoint named '{name}' in {target.RegionName}."),
                    "EndpointNotFound",
                    ErrorCategory.ObjectNotFound,
                    name));
                else WriteObject(one);
                continue;
            }
            if (!TryRun("Get-MLModelSageMakerDeployment", name, async (_, ct) =>
                {
                    var found = new List<Deployment>();
                    foreach (var summary in (await target.ListAsync(ct)).Where(d => pattern.IsMatch(d.Name)))
                        found.Add(await target.GetAsync(summary.Name, ct) ?? summary);
                    return found;
                }, out var many, terminating: false)) continue;
            foreach (var d in many) WriteObject(d);
        }
    }
}
