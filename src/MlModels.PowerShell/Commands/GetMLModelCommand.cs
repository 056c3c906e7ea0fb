using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Reads MLflow models from folders or MLmodel files; -Recurse finds every model under a tree.</summary>
[Cmdlet(VerbsCommon.Get, "MLModel", DefaultParameterSetName = PathSet)]
[OutputType(typeof(MLModel))]
public sealed partial class GetMLModelCommand : MLModelCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralSet = "LiteralPath";

    [Parameter(ParameterSetName = PathSet, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = ["."];

    [Parameter(ParameterSetName = LiteralSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    /// <summary>Finds every model folder under the given folders.</summary>
    [Parameter]
    public SwitchParameter Recurse { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == UriSet) { ReadUris(); return; }
        bool literal = ParameterSetName == LiteralSet;
        foreach (var given in literal ? LiteralPath : Path)
        {
            // What a wildcard matched was not named by the user: take model folders and MLmodel files, pass over the rest.
            bool expanded = !literal && WildcardPattern.ContainsWildcardCharacters(given);
            foreach (var path in ResolveExisting([given], literal))
            {
                if (Recurse && Directory.Exists(path)) ReadTree(path);
                else if (!expanded || ModelFiles.IsModelCandidate(path)) Read(path);
                else WriteVerbose($"Passed over {path} (matched by '{given}'): not a model folder or an MLmodel file.");
            }
        }
    }

    private void ReadTree(string root)
    {
        var progress = new ProgressRecord(ProgressIds.GetModel, "Get-MLModel", $"Searching {root}");
        int found = 0;
        foreach (var dir in ModelStore.FindModelFolders(root, CancelToken))
        {
            progress.StatusDescription = $"{++found} models found; reading {dir}";
            WriteProgress(progress);
            Read(dir);
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
    }

    private void Read(string path)
    {
        try
        {
            WriteObject(ModelStore.Load(path));
        }
        catch (Exception ex) when (ExpectedFailure.Is(ex))
        {
            WriteError(Errors.FromException(ex, path, reading: true));
        }
    }
}
