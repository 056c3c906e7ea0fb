using System.Collections;
using System.Management.Automation;
using MlModels.Core.Tracking;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Points aliases at a version, sets or removes its tags, its description and its stage.</summary>
[Cmdlet(VerbsCommon.Set, "MLModelVersion", SupportsShouldProcess = true)]
[OutputType(typeof(ModelVersion))]
public sealed class SetMLModelVersionCommand : TrackingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegisteredModelNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Version { get; set; } = "";

    /// <summary>Aliases to point at this version (an alias on another version moves here).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ModelAliasCompleter))]
    public string[] Alias { get; set; } = [];

    /// <summary>Tags to set: a hashtable of names and values.</summary>
    [Parameter]
    public Hashtable? Tag { get; set; }

    /// <summary>Tags to delete.</summary>
    [Parameter]
    public string[] RemoveTag { get; set; } = [];

    [Parameter]
    public string? Description { get; set; }

    /// <summary>Moves the version to this stage (MLflow's stages; deprecated in MLflow in favour of aliases).</summary>
    [Parameter]
    [ValidateSet("None", "Staging", "Production", "Archived")]
    public string? Stage { get; set; }

    /// <summary>With -Stage Staging or Production, archives the versions now in that stage.</summary>
    [Parameter]
    public SwitchParameter ArchiveExistingVersions { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var target = $"models:/{Name}/{Version}";
        var tags = Tag?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => Unwrap(e.Value)?.ToString() ?? "") ?? [];
        var steps = new List<(string What, Func<TrackingClient, CancellationToken, Task> Do)>();
        foreach (var a in Alias) steps.Add(($"Set alias '{a}'", (c, ct) => c.SetAliasAsync(Name, a, Version, ct)));
        foreach (var (k, v) in tags) steps.Add(($"Set tag {k}={v}", (c, ct) => c.SetModelVersionTagAsync(Name, Version, k, v, ct)));
        foreach (var k in RemoveTag) steps.Add(($"Remove tag {k}", (c, ct) => c.DeleteModelVersionTagAsync(Name, Version, k, ct)));
        if (Description != null) steps.Add(("Set the description", (c, ct) => c.UpdateModelVersionAsync(Name, Version, Description, ct)));
        if (Stage != null) steps.Add(($"Move to stage {Stage}" + (ArchiveExistingVersions
            ? ", archiving the versions in it"
            : ""), (c, ct) => c.TransitionStageAsync(Name, Version, Stage, ArchiveExistingVersions, ct)));

        // -WhatIf and a declined -Confirm both come back as false here: only a version that changed is written.
        var changed = false;
        foreach (var (what, work) in steps)
        {
            if (!ShouldProcess(target, what)) continue;
            if (Call<object>(target, async (c, ct) => { await work(c, ct).ConfigureAwait(false); return true; }) == null) return;
            changed = true;
        }
        if (PassThru && changed)
        {
            var v = Call(target, (c, ct) => c.GetModelVersionAsync(Name, Version, ct));
            if (v != null) WriteObject(v);
        }
    }
}
