using System.Management.Automation;
using MlModels.Core.Tracking;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Registered model versions: one by version, alias or stage, or every version of the models a name matches.</summary>
[Cmdlet(VerbsCommon.Get, "MLModelVersion", DefaultParameterSetName = SearchSet)]
[OutputType(typeof(ModelVersion))]
public sealed class GetMLModelVersionCommand : TrackingCmdlet
{
    private const string SearchSet = "Search";
    private const string VersionSet = "Version";
    private const string AliasSet = "Alias";
    private const string StageSet = "Stage";

    /// <summary>The registered model. With no -Version, -Alias or -Stage, wildcards search every model whose name matches.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegisteredModelNameCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = VersionSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Version { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = AliasSet)]
    [ArgumentCompleter(typeof(ModelAliasCompleter))]
    [ValidateNotNullOrEmpty]
    public string Alias { get; set; } = "";

    /// <summary>The latest version in this stage (None, Staging, Production, Archived).</summary>
    [Parameter(Mandatory = true, ParameterSetName = StageSet)]
    [ValidateSet("None", "Staging", "Production", "Archived")]
    public string Stage { get; set; } = "";

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case VersionSet:
                Write(Call($"models:/{Name}/{Version}", (c, ct) => c.GetModelVersionAsync(Name, Version, ct)));
                break;
            case AliasSet:
                Write(Call($"models:/{Name}@{Alias}", (c, ct) => c.GetModelVersionByAliasAsync(Name, Alias, ct)));
                break;
            case StageSet:
                var latest = Call($"models:/{Name}/{Stage}", (c, ct) => c.GetLatestVersionsAsync(Name, [Stage], ct));
                if (latest == null) return;
                var top = latest.MaxBy(v => long.TryParse(v.Version, out var n) ? n : -1);
                if (top == null)
                    WriteError(Errors.Record(
                        new ItemNotFoundException($"Registered model '{Name}' has no version in stage '{Stage}'."),
                        "NoVersionInStage",
                        ErrorCategory.ObjectNotFound,
                        $"models:/{Name}/{Stage}"));
                else WriteObject(top);
                break;
            default:
                // MLflow's search syntax: name='x', or LIKE with % and _ for the wildcards * and ?.
                var quoted = Name.Replace("'", "\\'");
                var filter = WildcardPattern.ContainsWildcardCharacters(Name)
                    ? $"name LIKE '{quoted.Replace("%", "\\%").Replace("_", "\\_").Replace('*', '%').Replace('?', '_')}'"
                    : $"name='{quoted}'";
                var found = Call(Name, (c, ct) => c.SearchModelVersionsAsync(filter, 10000, ct));
                if (found == null) return;
                if (found.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(Name))
                    WriteError(Errors.Record(
                        new ItemNotFoundException($"The registry has no versions of a model named '{Name}'."),
                        "RegisteredModelNotFound",
                        ErrorCategory.ObjectNotFound,
                        Name));
                foreach (var v in found) WriteObject(v);
                break;
        }
    }

    private void Write(ModelVersion? v)
    {
        if (v != null) WriteObject(v);
    }
}
