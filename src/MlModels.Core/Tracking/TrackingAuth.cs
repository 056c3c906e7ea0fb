using System.Net.Http.Headers;
using System.Text;

namespace MlModels.Core.Tracking;

/// <summary>
/// Signs tracking requests. <see cref="Description"/> names the credential and where it came from, for 401/403 errors;
/// it never holds the secret.
/// </summary>
public interface ITrackingAuth
{
    string Description { get; }
    ValueTask<AuthenticationHeaderValue> GetHeaderAsync(CancellationToken ct);
}

/// <summary>HTTP Basic, as MLflow sends MLFLOW_TRACKING_USERNAME/PASSWORD.</summary>
public sealed class BasicTrackingAuth(string username, string password, string source) : ITrackingAuth
{
    private readonly AuthenticationHeaderValue _header = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
    public string Username { get; } = username;
    public string Description { get; } = $"HTTP Basic auth as user '{username}' ({source})";
    public ValueTask<AuthenticationHeaderValue> GetHeaderAsync(CancellationToken ct) => ValueTask.FromResult(_header);
}

/// <summary>A fixed bearer token, as MLflow sends MLFLOW_TRACKING_TOKEN.</summary>
public sealed class BearerTrackingAuth(string token, string source) : ITrackingAuth
{
    private readonly AuthenticationHeaderValue _header = new("Bearer", token);
    public string Description { get; } = $"a bearer token ({source})";
    public ValueTask<AuthenticationHeaderValue> GetHeaderAsync(CancellationToken ct) => ValueTask.FromResult(_header);
}

/// <summary>
/// A bearer token fetched per request from a provider (an Azure AD credential, for Azure ML workspaces); the provider
/// caches and refreshes. Keeps cloud SDKs out of Core: the caller passes the function.
/// </summary>
public sealed class TokenProviderTrackingAuth(Func<CancellationToken, ValueTask<string>> provider, string description) : ITrackingAuth
{
    public string Description { get; } = description;
    public async ValueTask<AuthenticationHeaderValue> GetHeaderAsync(CancellationToken ct) => new("Bearer", await provider(ct).ConfigureAwait(false));
}
