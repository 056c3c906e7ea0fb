using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Core.Scoring.Python;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>
/// Makes a model's Python environment ahead of time (MLflow's <c>mlflow models prepare-env</c>), for a pipeline step
/// before scoring or serving: Invoke-MLModelPrediction and Start-MLModelServer with the same -EnvManager reuse it.
/// </summary>
[Cmdlet(VerbsData.Initialize, "MLModelEnvironment", SupportsShouldProcess = true)]
[OutputType(typeof(PythonEnvironmentInfo))]
public sealed class InitializeMLModelEnvironmentCommand : MLModelCmdlet
{
    [Parameter(ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    /// <summary>The model folder, instead of -Model.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("ModelPath", "FullName")]
    public string? Path { get; set; }

    /// <summary>VirtualEnv (python_env.yaml and requirements.txt, on a Python of the version the model names) or Conda (conda.yaml).</summary>
    [Parameter]
    [ValidateSet("VirtualEnv", "Conda")]
    public string EnvManager { get; set; } = "VirtualEnv";

    /// <summary>The Python to make the environment from (else MLMODELS_PYTHON, python3.X for the model's version, python3).</summary>
    [Parameter]
    public string? PythonPath { get; set; }

    protected override void ProcessRecord()
    {
        var model = ModelFromArguments(Model, Path);
        if (model == null) return;
        if (model.Path == null)
        {
            WriteError(Errors.Record(
            new InvalidOperationException("Save the model before making its environment."),
            "ModelNotSaved",
            ErrorCategory.InvalidOperation,
            model)); return;
        }
        var manager = Enum.Parse<MlModels.Core.Scoring.Python.EnvManager>(EnvManager);
        var progress = new ProgressRecord(
            ProgressIds.PreparePythonEnvironment,
            "Initialize-MLModelEnvironment",
            $"Preparing the {EnvManager} environment of {model.Name}");
        try
        {
            var basePython = PythonEnvironments.ChooseForModel(model, PythonPath, manager);
            var description = PythonEnvironments.Describe(model, basePython, manager);
            // A cached environment is only read: nothing to confirm.
            if (!description.StartsWith("Reuse", StringComparison.Ordinal) && !ShouldProcess(model.Name, description)) return;
            var info = RunPumped(ct => PythonEnvironments.Initialize(model, basePython, manager,
                new SyncProgress<string>(line => Post(
                    () =>
                    {
                        WriteVerbose(line); progress.StatusDescription = line.Length > 100
                        ? line[..100]
                        : line; WriteProgress(progress);
                    })), ct));
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            WriteObject(info);
        }
        catch (PythonWorkerException ex) { WriteError(Errors.FromPythonWorker(ex, ex, model)); }
        catch (OperationCanceledException) { }
    }
}
