using System.Management.Automation;
using MlModels.Core.Format;
using MlModels.Core.Scoring.Python;

namespace MlModels.PowerShell.Internal;

/// <summary>Builds the module's ErrorRecords: a specific id, a category and the object at fault.</summary>
internal static class Errors
{
    public static ErrorRecord Record(Exception ex, string id, ErrorCategory category, object? target) =>
        new(ex, id, category, target);

    /// <summary>Something already there that only -Force may replace: Core says what, the cmdlet says how.</summary>
    public static ErrorRecord Exists(Exception ex, string id, object? target) =>
        WithAdvice(new(ex, id, ErrorCategory.ResourceExists, target), "Use -Force to replace it.");

    /// <summary>How a cmdlet that runs Python models lets the user choose another Python (Core's messages name no parameter).</summary>
    public const string ChoosePython =
        "Give another Python with -PythonPath, or make an environment from the model's requirements with -EnvManager VirtualEnv.";

    /// <summary>Core's message, then the PowerShell way out of it.</summary>
    public static ErrorRecord WithAdvice(ErrorRecord record, string advice)
    {
        record.ErrorDetails = new ErrorDetails($"{record.Exception.Message} {advice}") { RecommendedAction = advice };
        return record;
    }

    /// <summary>
    /// A Python worker failure by what went wrong: a module the model cannot import, no Python or conda, an environment
    /// that could not be made, a timeout, or the worker or model failing. <paramref name="ex"/> is what is reported.
    /// </summary>
    public static ErrorRecord FromPythonWorker(Exception ex, PythonWorkerException pw, object? target) => pw.Kind switch
    {
        PythonWorkerFailure.ModuleMissing =>
            WithAdvice(Record(ex, "PythonModuleMissing", ErrorCategory.NotInstalled, target), ChoosePython),
        PythonWorkerFailure.PythonNotFound =>
            WithAdvice(Record(ex, "PythonNotFound", ErrorCategory.ObjectNotFound, target), ChoosePython),
        PythonWorkerFailure.PythonVersionNotFound =>
            WithAdvice(Record(ex, "PythonVersionNotFound", ErrorCategory.NotInstalled, target),
                "Install the Python version the model names and give it with -PythonPath, or run on the Python at hand with -EnvManager Local."),
        PythonWorkerFailure.CondaNotFound =>
            WithAdvice(Record(ex, "CondaNotFound", ErrorCategory.NotInstalled, target), "Use -EnvManager VirtualEnv, or install Miniconda."),
        PythonWorkerFailure.EnvironmentFileMissing => Record(ex, "EnvironmentFileMissing", ErrorCategory.ObjectNotFound, target),
        PythonWorkerFailure.EnvironmentFailed => Record(ex, "PythonEnvironmentFailed", ErrorCategory.InvalidResult, target),
        PythonWorkerFailure.Timeout =>
            WithAdvice(Record(ex, "PythonWorkerTimeout", ErrorCategory.OperationTimeout, target), "Give the model more time with -TimeoutSec."),
        _ => Record(ex, "PythonWorkerFailed", ErrorCategory.InvalidResult, target),
    };

    /// <summary>Maps exceptions from Core onto ids and categories; an I/O failure is a ReadError where the command only reads.</summary>
    public static ErrorRecord FromException(Exception ex, object? target, bool reading = false) => ex switch
    {
        TargetExistsException => Exists(ex, "TargetExists", target),
        MlModels.Core.Tracking.TrackingAuthException => Record(ex, "TrackingUnauthorized", ErrorCategory.AuthenticationError, target),
        MlModels.Core.Tracking.MlflowException m => Record(ex, m.ErrorCode,
            m.IsNotFound ? ErrorCategory.ObjectNotFound
            : m.ErrorCode == "INVALID_PARAMETER_VALUE" ? ErrorCategory.InvalidArgument : ErrorCategory.InvalidResult, target),
        MlModels.Core.Tracking.TrackingConnectionException => Record(ex, "TrackingServerUnreachable", ErrorCategory.ConnectionError, target),
        MlModels.Core.Tracking.ModelUriException => Record(ex, "InvalidModelUri", ErrorCategory.InvalidArgument, target),
        MlModels.Core.Tracking.ArtifactDownloadException => Record(ex, "ArtifactDownloadFailed", ErrorCategory.ReadError, target),
        MlModels.Core.Tracking.ArtifactLocationNotSupportedException =>
            Record(ex, "ArtifactLocationNotSupported", ErrorCategory.NotImplemented, target),
        PathOutsideModelException => Record(ex, "PathOutsideModel", ErrorCategory.SecurityError, target),
        MlModels.Core.Artifacts.ArtifactAccessException => Record(ex, "ArtifactAccessDenied", ErrorCategory.PermissionDenied, target),
        MlModels.Core.Artifacts.ArtifactNotFoundException => Record(ex, "ArtifactNotFound", ErrorCategory.ObjectNotFound, target),
        // A valid model this ONNX Runtime cannot run (an operator version or opset it lacks) is not a format error.
        MlModels.Core.Scoring.Onnx.OnnxUnsupportedException u => Record(ex, u.ErrorId, ErrorCategory.NotImplemented, target),
        MLModelFormatException => Record(ex, "MLModelFormatInvalid", ErrorCategory.InvalidData, target),
        FileNotFoundException or DirectoryNotFoundException => Record(ex, "PathNotFound", ErrorCategory.ObjectNotFound, target),
        UnauthorizedAccessException => Record(ex, "AccessDenied", ErrorCategory.PermissionDenied, target),
        IOException => Record(ex, "IOError", reading ? ErrorCategory.ReadError : ErrorCategory.WriteError, target),
        ArgumentException => Record(ex, "InvalidArgument", ErrorCategory.InvalidArgument, target),
        InvalidOperationException => Record(ex, "InvalidOperation", ErrorCategory.InvalidOperation, target),
        OperationCanceledException => Record(ex, "OperationStopped", ErrorCategory.OperationStopped, target),
        _ => Record(ex, "UnexpectedError", ErrorCategory.NotSpecified, target),
    };
}
