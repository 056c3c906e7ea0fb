using System.Management.Automation;
using MlModels.Deploy.Docker;
using MlModels.PowerShell.Internal;

namespace MlModels.PowerShell.Commands;

/// <summary>Tags and pushes a model image to a registry, with a credential or the engine's stored ones.</summary>
[Cmdlet(VerbsData.Publish, "MLModelImage", SupportsShouldProcess = true)]
[OutputType(typeof(PublishedImage))]
public sealed class PublishMLModelImageCommand : DockerCmdlet
{
    /// <summary>The image to push: an image object from Build-MLModelImage, or its name or id.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Tag")]
    public string Image { get; set; } = "";

    /// <summary>Where to push (registry/repository[:tag]); default the image's own name.</summary>
    [Parameter(Position = 1)]
    public string? Destination { get; set; }

    /// <summary>The registry user name and password (or token); default the engine's stored credentials (docker login).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    protected override void ProcessRecord()
    {
        var target = Destination ?? Image;
        if (!ImageReference.TryParse(target, out var reference, out var error))
        {
            WriteError(Errors.Record(new ArgumentException(error), "InvalidImageName", ErrorCategory.InvalidArgument, target));
            return;
        }
        if (!ShouldProcess(reference!.WithDefaultTag().ToString(), $"Push image {Image}")) return;
        var credential = Credential != null ? new RegistryCredential(Credential.UserName, Credential.GetNetworkCredential().Password) : null;
        var layers = new Dictionary<string, ProgressRecord>();
        var parent = new ProgressRecord(ProgressIds.PublishImage, "Publish-MLModelImage", $"Pushing {reference.WithDefaultTag()}");
        try
        {
            var pushed = WithEngine((engine, ct) => new ImagePublisher(engine)
                .PushAsync(Image, reference, credential, new SyncProgress<PushProgress>(p => Post(() =>
                    {
                        WriteVerbose($"{p.Layer}: {p.Status}");
                        if (!layers.TryGetValue(p.Layer, out var record))
                        {
                            record = new ProgressRecord(ProgressIds.PublishImageLayers + layers.Count, $"Layer {p.Layer}", p.Status)
                            {
                                ParentActivityId = ProgressIds.PublishImage
                            };
                            layers[p.Layer] = record;
                        }
                        record.StatusDescription = p.Status;
                        record.PercentComplete = p.Total > 0
                    ? (int)Math.Min(100, p.Current * 100 / p.Total)
                    : p.Status is "Pushed" or "Layer already exists" ? 100 : -1;
                        WriteProgress(parent);
                        WriteProgress(record);
                    })), ct));
            foreach (var r in layers.Values) { r.RecordType = ProgressRecordType.Completed; WriteProgress(r); }
            parent.RecordType = ProgressRecordType.Completed;
            WriteProgress(parent);
            WriteObject(pushed);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException && DockerErrors.Record(ex, Image) is { } record)
        {
            WriteError(record);
        }
    }
}
