using MlModels.Core.Format;
using MlModels.Core.Scoring.Onnx;
using MlModels.Core.Tracking;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// The one list of failures a cmdlet reports as an error record rather than letting them surface as they are: bad or
/// missing models and files, refused access, bad arguments, operations stopped or timed out, and the tracking server's
/// answers. Each has a specific id in <see cref="Errors.FromException"/>; anything else is a bug and is not caught.
/// </summary>
internal static class ExpectedFailure
{
    public static bool Is(Exception ex) => ex is MLModelFormatException or PathOutsideModelException or OnnxUnsupportedException
        or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or NotSupportedException
        or OperationCanceledException or TimeoutException
        or MlflowException or TrackingConnectionException or ArtifactDownloadException;
}
