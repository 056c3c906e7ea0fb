using System.Text.RegularExpressions;

namespace MlModels.Deploy.SageMaker;

/// <summary>
/// Names as MLflow derives them (app name + "-model-"/"-config-" + 20 hex characters, the app name middle-truncated
/// with "---" so the whole stays within 63 characters) and the checks SageMaker would make, done before any call.
/// </summary>
public static partial class SageMakerNames
{
    public const int MaxLength = 63;

    /// <summary>MLflow's default ECR repository for the serving image.</summary>
    public const string DefaultImageRepository = "mlflow-pyfunc";

    public const string AppNameTagKey = "app_name";

    [GeneratedRegex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")]
    private static partial Regex EntityName();

    [GeneratedRegex(@"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")]
    private static partial Regex RoleArn();

    [GeneratedRegex(@"^(https|s3)://([^/]+)/?(.*)$")]
    private static partial Regex S3Uri();

    /// <summary>Throws unless SageMaker would accept <paramref name="name"/> as an endpoint, model, config or job name.</summary>
    public static void ValidateName(string name, string what)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException($"The {what} is empty.");
        if (name.Length > MaxLength) throw new ArgumentException(
            $"The {what} '{name}' is {name.Length} characters long; SageMaker allows at most {MaxLength}.");
        if (!EntityName().IsMatch(name))
            throw new ArgumentException(
                $"The {what} '{name}' has characters SageMaker refuses: use letters, digits and hyphens, starting and ending with a " +
                    $"letter or digit.");
    }

    public static void ValidateRoleArn(string arn)
    {
        if (!RoleArn().IsMatch(arn))
            throw new ArgumentException($"'{arn}' is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>).");
    }

    /// <summary>Bucket and key of an s3:// URI.</summary>
    public static (string Bucket, string Key) ParseS3Uri(string uri)
    {
        var m = S3Uri().Match(uri);
        if (!m.Success || !uri.StartsWith("s3://", StringComparison.Ordinal)) throw new ArgumentException($"'{uri}' is not an s3://bucket/key URI.");
        return (m.Groups[2].Value, m.Groups[3].Value);
    }

    public static string ModelName(string appName) => Unique(appName, "-model-");

    public static string ConfigName(string appName) => Unique(appName, "-config-");

    /// <summary>MLflow's default model-data bucket.</summary>
    public static string DefaultBucket(string region, string account) => $"mlflow-sagemaker-{region}-{account}";

    private static string Unique(string baseName, string suffix)
    {
        var unique = suffix + Guid.NewGuid().ToString("N")[..20];
        return Truncate(baseName, MaxLength - unique.Length) + unique;
    }

    /// <summary>Middle-truncates so the start and end of the name survive.</summary>
    public static string Truncate(string name, int maxLength)
    {
        if (name.Length <= maxLength) return name;
        var available = maxLength - 3;
        var start = available / 2;
        var end = available - start;
        return name[..start] + "---" + name[^end..];
    }
}
