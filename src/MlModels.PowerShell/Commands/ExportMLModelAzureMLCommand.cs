using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Deploy.AzureML;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Writes a folder that deploys the model to Azure ML without this module (MLflow's azureml export, Azure ML v2).</summary>
[Cmdlet(VerbsData.Export, "MLModelAzureML", SupportsShouldProcess = true)]
[OutputType(typeof(AzureMLExport))]
public sealed class ExportMLModelAzureMLCommand : MLModelCmdlet
{
    [Parameter(ValueFromPipeline = true)]
    public MLModel? Model { get; set; }

    /// <summary>The model folder, instead of a model object.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("ModelPath")]
    public string? Path { get; set; }

    [Parameter(Mandatory = true, Position = 0)]
    public string DestinationPath { get; set; } = "";

    [Parameter(Mandatory = true)]
    public string EndpointName { get; set; } = "";

    [Parameter]
    public string DeploymentName { get; set; } = "blue";

    [Parameter]
    public string? ModelName { get; set; }

    [Parameter]
    public string InstanceType { get; set; } = "Standard_DS3_v2";

    [Parameter]
    [ValidateRange(1, 1000)]
    public int InstanceCount { get; set; } = 1;

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var model = ModelFromArguments(Model, Path);
        if (model == null) return;
        var target = ResolveTarget(DestinationPath);
        if (!ShouldProcess(target, $"Export model '{model.Name}' for Azure ML endpoint '{EndpointName}'")) return;
        try
        {
            var export = RunPumped(ct => AzureMLExporter.Export(model, target, new AzureMLExportOptions(EndpointName)
            {
                DeploymentName = DeploymentName, ModelName = ModelName, InstanceType = InstanceType, InstanceCount = InstanceCount, Force = Force,
            }, ct));
            WriteObject(export);
        }
        catch (IOException ex) when (Directory.Exists(target) && !Force)
        {
            WriteError(Errors.Record(ex, "DestinationExists", ErrorCategory.ResourceExists, target));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteError(Errors.FromException(ex, target));
        }
    }
}
