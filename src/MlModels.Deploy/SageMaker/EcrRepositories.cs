using System.Text;
using MlModels.Deploy.Aws;

namespace MlModels.Deploy.SageMaker;

/// <summary>Where Publish-MLModelSageMakerImage pushes: the repository's URI, its registry and the login ECR issued for it.</summary>
public sealed record EcrPushTarget(
    string RepositoryUri,
    string Registry,
    string ImageUri,
    string Username,
    string Password,
    bool Created,
    DateTimeOffset? ExpiresAt)
{
    public override string ToString() => ImageUri;
}

/// <summary>
/// The ECR half of MLflow's <c>build-and-push-container</c>: find the repository or create it, then get an
/// authorization token (base64 "AWS:password") for its registry.
/// </summary>
public sealed class EcrRepositories(AwsConnection connection)
{
    private readonly EcrClient _ecr = new(connection);

    public async Task<EcrPushTarget> PrepareAsync(string repositoryName, string tag, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(repositoryName) || repositoryName.Length > 256
            || repositoryName.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.' or '/')))
            throw new ArgumentException($"'{repositoryName}' is not an ECR repository name (lower-case letters, digits, '-', '_', '.', '/').");
        var repo = await _ecr.FindRepositoryAsync(repositoryName, ct).ConfigureAwait(false);
        var created = repo == null;
        repo ??= await _ecr.CreateRepositoryAsync(repositoryName, ct).ConfigureAwait(false);
        var uri = repo.RepositoryUri ?? throw new InvalidDataException($"ECR gave no URI for the repository '{repositoryName}'.");
        var auth = await _ecr.GetAuthorizationTokenAsync(ct).ConfigureAwait(false);
        var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth.AuthorizationToken ?? ""));
        var colon = decoded.IndexOf(':');
        if (colon <= 0) throw new InvalidDataException("ECR's authorization token is not 'user:password'.");
        var registry = uri.Split('/')[0];
        return new EcrPushTarget(uri, registry, $"{uri}:{tag}", decoded[..colon], decoded[(colon + 1)..], created, auth.ExpiresAt);
    }
}
