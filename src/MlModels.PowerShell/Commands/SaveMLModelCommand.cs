using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Writes a model folder as MLflow writes it; copies a loaded model's files when saving elsewhere. Atomic; -Force to replace.</summary>
[Cmdlet(VerbsData.Save, "MLModel", SupportsShouldProcess = true, DefaultParameterSetName = PathSet)]
[OutputType(typeof(MLModel))]
public sealed class SaveMLModelCommand : MLModelCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralSet = "LiteralPath";

    private const string OnnxSet = "Onnx";

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = PathSet)]
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = LiteralSet)]
    [Alias("Model")]
    public MLModel InputObject { get; set; } = null!;

    /// <summary>The model folder to write. Defaults to the folder the model was read from.</summary>
    [Parameter(ParameterSetName = PathSet, Position = 0)]
    [Parameter(ParameterSetName = OnnxSet, Position = 0, Mandatory = true)]
    public string? Path { get; set; }

    /// <summary>A bare .onnx file to wrap as an MLflow model (onnx and python_function flavors, signature from the
    /// graph, environment files).</summary>
    [Parameter(ParameterSetName = OnnxSet, Mandatory = true)]
    public string OnnxModel { get; set; } = "";

    [Parameter(ParameterSetName = LiteralSet, Mandatory = true)]
    [Alias("PSPath", "LP")]
    public string LiteralPath { get; set; } = "";

    /// <summary>Replaces an existing model folder (or, saving in place, its MLmodel file).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == OnnxSet) { SaveOnnx(); return; }
        var raw = ParameterSetName == LiteralSet ? LiteralPath : Path;
        if (raw == null && InputObject.Path == null)
        {
            WriteError(Errors.Record(
                new ArgumentException("The model has never been saved; give -Path."),
                "SavePathRequired",
                ErrorCategory.InvalidArgument,
                InputObject));
            return;
        }
        // Wildcards are not expanded for a destination: -Path names one folder.
        var target = raw == null ? InputObject.Path! : ResolveTarget(raw);
        if (!ShouldProcess(target, $"Save model '{InputObject.Name}'")) return;
        try
        {
            var progress = new ProgressRecord(ProgressIds.SaveModel, "Save-MLModel", $"Saving {InputObject.Name} to {target}");
            var saved = RunPumped(ct => ModelStore.Save(InputObject, target, new SaveOptions(
                Force,
                Warn: msg => Post(() => WriteWarning(msg)),
                Progress: new SyncProgress<(int Done, int Total)>(p => Post(() =>
                {
                    progress.PercentComplete = p.Total == 0 ? 100 : p.Done * 100 / p.Total;
                    progress.StatusDescription = $"{p.Done} of {p.Total} files copied";
                    WriteProgress(progress);
                }))), ct));
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            if (PassThru) WriteObject(saved);
        }
        catch (TargetExistsException ex)
        {
            WriteError(Errors.Exists(ex, "ModelExists", target));
        }
        catch (Exception ex) when (ExpectedFailure.Is(ex))
        {
            WriteError(Errors.FromException(ex, target));
        }
    }

    private void SaveOnnx()
    {
        var source = ResolveExisting([OnnxModel], literal: false).FirstOrDefault();
        if (source == null) return;
        var target = ResolveTarget(Path!);
        if (!ShouldProcess(target, $"Wrap {source} as an MLflow model")) return;
        try
        {
            var saved = RunPumped(
                ct => MlModels.Core.Scoring.Onnx.OnnxPackager.Save(source, target, Force, warn: msg => Post(() => WriteWarning(msg)), ct: ct));
            if (PassThru) WriteObject(saved);
        }
        catch (TargetExistsException ex)
        {
            WriteError(Errors.Exists(ex, "ModelExists", target));
        }
        catch (Exception ex) when (ExpectedFailure.Is(ex))
        {
            WriteError(Errors.FromException(ex, source));
        }
    }
}
