using System.Management.Automation;
using MlModels.Deploy.SageMaker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>SageMaker batch transform jobs: one by name, or those matching wildcards (all when no name is given).</summary>
[Cmdlet(VerbsCommon.Get, "MLModelSageMakerTransform")]
[OutputType(typeof(SageMakerTransformJob))]
public sealed class GetMLModelSageMakerTransformCommand : AwsCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("TransformJobName")]
    [SupportsWildcards]
    public string[]? JobName { get; set; }

    protected override void ProcessRecord()
    {
        using var target = OpenTarget();
        var transforms = target.Transforms;
        foreach (var name in JobName ?? ["*"])
        {
            if (!WildcardPattern.ContainsWildcardCharacters(name))
            {
                if (!TryRun(
                    "Get-MLModelSageMakerTransform",
                    name,
                    (_, ct) => transforms.GetAsync(name, ct),
                    out var job,
                    terminating: false)) continue;
                if (job == null) WriteError(Errors.Record(
                    new ItemNotFoundException($"There is no transform job named '{name}' in {target.RegionName}."),
                    "TransformJobNotFound",
                    ErrorCategory.ObjectNotFound,
                    name));
                else WriteObject(job);
                continue;
            }
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            if (TryRun("Get-MLModelSageMakerTransform", name, (_, ct) => transforms.ListAsync(null, ct), out var all, terminating: false))
                foreach (var j in all.Where(j => pattern.IsMatch(j.JobName))) WriteObject(j);
        }
    }
}
