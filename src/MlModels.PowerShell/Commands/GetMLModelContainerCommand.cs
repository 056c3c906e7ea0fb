using System.Management.Automation;
using MlModels.Deploy.Docker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Lists the model containers this module started, or shows one container's log.</summary>
[Cmdlet(VerbsCommon.Get, "MLModelContainer", DefaultParameterSetName = "List")]
[OutputType(typeof(MLModelContainer), ParameterSetName = ["List"])]
[OutputType(typeof(string), ParameterSetName = ["Logs"])]
public sealed class GetMLModelContainerCommand : DockerCmdlet
{
    /// <summary>Container names or ids (wildcards allowed when listing).</summary>
    [Parameter(Position = 0, ParameterSetName = "List", ValueFromPipelineByPropertyName = true)]
    [Parameter(Position = 0, Mandatory = true, ParameterSetName = "Logs", ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Stopped containers too.</summary>
    [Parameter(ParameterSetName = "List")]
    public SwitchParameter All { get; set; }

    /// <summary>The container's log lines instead of the container.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Logs")]
    public SwitchParameter Logs { get; set; }

    /// <summary>How many of the last log lines (0: all).</summary>
    [Parameter(ParameterSetName = "Logs")]
    [ValidateRange(0, int.MaxValue)]
    public int Tail { get; set; } = 100;

    protected override void ProcessRecord()
    {
        try
        {
            if (Logs)
            {
                foreach (var name in Name!)
                {
                    var lines = WithTarget((docker, ct) => docker.LogsAsync(name, Tail, ct));
                    WriteObject(lines, enumerateCollection: true);
                }
                return;
            }
            var all = WithTarget((docker, ct) => docker.ListAsync(All || Name != null, ct)).Select(d => (MLModelContainer)d.Own).ToList();
            if (Name == null) { WriteObject(all, enumerateCollection: true); return; }
            foreach (var name in Name)
            {
                var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                var found = all.Where(c => pattern.IsMatch(c.Name) || c.Id.StartsWith(name, StringComparison.OrdinalIgnoreCase)).ToList();
                if (found.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                    WriteError(Errors.Record(
                        new ItemNotFoundException($"No MlModels container is named '{name}' or has that id."),
                        "ContainerNotFound",
                        ErrorCategory.ObjectNotFound,
                        name));
                WriteObject(found, enumerateCollection: true);
            }
        }
        catch (Exception ex) when (ex is not PipelineStoppedException && DockerErrors.Record(ex, Name) is { } record)
        {
            WriteError(record);
        }
    }
}
