using System.Management.Automation;
using MlModels.Deploy;
using MlModels.Deploy.Aws;
using MlModels.Deploy.SageMaker;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// The AWS.Tools common parameters (-Region, -ProfileName, -ProfileLocation, -Credential, -EndpointUrl) and the
/// connection, errors and progress every SageMaker cmdlet shares.
/// </summary>
public abstract class AwsCmdlet : MLModelCmdlet
{
    /// <summary>The AWS region (else the profile's, else AWS_REGION / AWS_DEFAULT_REGION).</summary>
    [Parameter]
    [Alias("RegionName")]
    [ArgumentCompleter(typeof(AwsRegionCompleter))]
    public string? Region { get; set; }

    /// <summary>A profile in the SDK store or the shared credentials/config files (else AWS_PROFILE, else default).</summary>
    [Parameter]
    [Alias("StoredCredentials", "AWSProfileName")]
    public string? ProfileName { get; set; }

    /// <summary>A shared credentials file to read -ProfileName from.</summary>
    [Parameter]
    [Alias("AWSProfilesLocation", "ProfilesLocation")]
    public string? ProfileLocation { get; set; }

    /// <summary>An AWSCredentials object (AWS.Tools' Get-AWSCredential) or a PSCredential of access key id and secret key.</summary>
    [Parameter]
    public object? Credential { get; set; }

    /// <summary>One endpoint for every AWS call (a private endpoint, or a local emulator).</summary>
    [Parameter]
    public string? EndpointUrl { get; set; }

    /// <summary>An open connection for AWS calls outside a deployment (ECR); the caller disposes it.</summary>
    private protected AwsConnection OpenConnection() => Open(AwsConnection.Open);

    /// <summary>SageMaker as a deployment target, from the factory; the caller disposes it.</summary>
    private protected SageMakerDeploymentTarget OpenTarget() => Open(options =>
        DeploymentTargetFactory.Default
            .Create<SageMakerDeploymentTarget>(SageMakerDeploymentTarget.TargetName, new SageMakerTargetSettings(options)));

    private T Open<T>(Func<AwsConnectionOptions, T> open)
    {
        try
        {
            return open(new AwsConnectionOptions
            {
                Region = Region, ProfileName = ProfileName,
                ProfileLocation = ProfileLocation == null ? null : ResolveTarget(ProfileLocation),
                AccessKey = Unwrap(Credential) is PSCredential ps ? (ps.UserName, ps.GetNetworkCredential().Password) : null,
                CredentialObject = Unwrap(Credential) is PSCredential ? null : Unwrap(Credential),
                EndpointUrl = EndpointUrl,
            });
        }
        catch (AwsConfigurationException ex)
        {
            ThrowTerminatingError(Errors.Record(ex, "AwsConfiguration", ErrorCategory.AuthenticationError, Region ?? ProfileName));
            throw;
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(Errors.Record(ex, "InvalidCredential", ErrorCategory.InvalidArgument, Credential));
            throw;
        }
    }

    /// <summary>Runs AWS work off the pipeline thread; progress is shown, errors become ErrorRecords naming <paramref name="target"/>.</summary>
    private protected bool TryRun<T>(
        string activity,
        object? target,
        Func<IProgress<DeploymentProgress>, CancellationToken, Task<T>> work,
        out T result,
        bool terminating = true)
    {
        try
        {
            result = RunWithProgress(ProgressIds.Aws, activity, work);
            return true;
        }
        catch (Exception ex) when (ToRecord(ex, target) is { } error)
        {
            result = default!;
            if (terminating) ThrowTerminatingError(error);
            else WriteError(error);
            return false;
        }
    }

    private static ErrorRecord? ToRecord(Exception ex, object? target) => ex switch
    {
        SageMakerDeploymentException => Errors.Record(ex, "SageMakerDeploymentFailed", ErrorCategory.InvalidResult, target),
        AwsServiceException aws => Errors.Record(ex, "Aws" + aws.ErrorCode, aws.ErrorCode switch
        {
            "AccessDeniedException" or "AccessDenied" or "UnrecognizedClientException" or "InvalidSignatureException"
                or "ExpiredTokenException" => ErrorCategory.PermissionDenied,
            "ResourceNotFound" or "RepositoryNotFoundException" or "NoSuchBucket" or "NoSuchKey" => ErrorCategory.ObjectNotFound,
            "ResourceLimitExceeded" or "ThrottlingException" => ErrorCategory.LimitsExceeded,
            "ValidationException" => ErrorCategory.InvalidArgument,
            _ => ErrorCategory.NotSpecified,
        }, target),
        AwsConfigurationException => Errors.Record(ex, "AwsConfiguration", ErrorCategory.AuthenticationError, target),
        TimeoutException => Errors.Record(ex, "OperationTimeout", ErrorCategory.OperationTimeout, target),
        HttpRequestException => Errors.Record(ex, "AwsConnectionFailed", ErrorCategory.ConnectionError, target),
        InvalidDataException => Errors.Record(ex, "AwsAnswerUnreadable", ErrorCategory.InvalidData, target),
        _ when ExpectedFailure.Is(ex) => Errors.FromException(ex, target),
        _ => null,
    };

    private protected static T? Shape<T>(System.Collections.Hashtable? table, string parameter) where T : class =>
        table == null ? null : SageMakerSettings.ToShape<T>(ToPlain(table), parameter);
}

/// <summary>Tab completion of region names from AWSSDK.Core's list.</summary>
public sealed class AwsRegionCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters) =>
        AwsConnection.KnownRegions()
            .Where(r => r.Name.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
            .Select(r => new CompletionResult(r.Name, r.Name, CompletionResultType.ParameterValue, r.DisplayName));
}
