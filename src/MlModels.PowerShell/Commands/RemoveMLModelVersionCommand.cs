using System.Management.Automation;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Deletes a registered model version, or only an alias (the version stays).</summary>
[Cmdlet(VerbsCommon.Remove, "MLModelVersion", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = VersionSet)]
[OutputType(typeof(void))]
public sealed class RemoveMLModelVersionCommand : TrackingCmdlet
{
    private const string VersionSet = "Version";
    private const string AliasSet = "Alias";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegisteredModelNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = VersionSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Version { get; set; } = "";

    /// <summary>Removes these aliases only; the versions they point at stay.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AliasSet)]
    [ArgumentCompleter(typeof(ModelAliasCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Alias { get; set; } = [];

    protected override void ProcessRecord()
    {
        if (ParameterSetName == AliasSet)
        {
            foreach (var a in Alias)
            {
                var target = $"models:/{Name}@{a}";
                if (ShouldProcess(target, "Remove alias"))
                    Call<object>(target, async (c, ct) => { await c.DeleteAliasAsync(Name, a, ct).ConfigureAwait(false); return true; });
            }
            return;
        }
        var version = $"models:/{Name}/{Version}";
        if (ShouldProcess(version, "Delete registered model version"))
            Call<object>(version, async (c, ct) => { await c.DeleteModelVersionAsync(Name, Version, ct).ConfigureAwait(false); return true; });
    }
}
