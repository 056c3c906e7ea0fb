using Azure.Core;
using Azure.Identity;

namespace MlModels.Deploy.AzureML;

/// <summary>
/// An Azure cloud as <c>Connect-AzAccount -Environment</c> knows it: its Resource Manager URL and its Entra authority.
/// A custom one (explicit URLs) is how a private cloud, or a test's local fake, is reached.
/// </summary>
public sealed record AzureCloud(string Name, Uri ResourceManagerUrl, Uri AuthorityHost, string MachineLearningScope = "https://ml.azure.com/.default")
{
    public static readonly AzureCloud Public = new(
        "AzureCloud",
        new Uri("https://management.azure.com/"),
        new Uri("https://login.microsoftonline.com/"));
    public static readonly AzureCloud China = new(
        "AzureChinaCloud",
        new Uri("https://management.chinacloudapi.cn/"),
        new Uri("https://login.chinacloudapi.cn/"),
        "https://ml.azure.cn/.default");
    public static readonly AzureCloud USGovernment = new(
        "AzureUSGovernment",
        new Uri("https://management.usgovcloudapi.net/"),
        new Uri("https://login.microsoftonline.us/"),
        "https://ml.azure.us/.default");

    public static IReadOnlyList<AzureCloud> Known { get; } = [Public, China, USGovernment];

    // MachineLearningScope: the token audience of Azure ML's data plane (batch endpoint invocation); a custom cloud uses
    // its Resource Manager's, since a private cloud or a local fake answers both.

    /// <summary>The token scope for Resource Manager calls (also what an azureml:// MLflow tracking URI needs).</summary>
    public string ResourceManagerScope => ResourceManagerUrl.GetLeftPart(UriPartial.Authority) + "/.default";

    public static AzureCloud FromName(string name) =>
        Known.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown Azure environment '{name}'. Known: {string.Join(", ", Known.Select(c => c.Name))}; or " +
            $"give the Resource Manager URL and the authority.", nameof(name));

    public static AzureCloud Custom(Uri resourceManagerUrl, Uri authorityHost)
    {
        if (!resourceManagerUrl.IsAbsoluteUri) throw new ArgumentException(
            $"The Resource Manager URL '{resourceManagerUrl}' is not absolute.",
            nameof(resourceManagerUrl));
        if (!authorityHost.IsAbsoluteUri) throw new ArgumentException($"The authority '{authorityHost}' is not absolute.", nameof(authorityHost));
        return new AzureCloud("Custom", resourceManagerUrl, authorityHost, resourceManagerUrl.GetLeftPart(UriPartial.Authority) + "/.default");
    }
}

/// <summary>How to sign in. Leave everything empty to use whatever sign-in the machine already has.</summary>
public sealed class AzureCredentialOptions
{
    public AzureCloud Cloud { get; init; } = AzureCloud.Public;

    /// <summary>The Entra tenant; required with a service principal secret.</summary>
    public string? TenantId { get; init; }

    /// <summary>A service principal's application id, used with <see cref="ClientSecret"/>.</summary>
    public string? ClientId { get; init; }

    public string? ClientSecret { get; init; }

    /// <summary>A token obtained elsewhere (as <c>Connect-AzAccount -AccessToken</c> takes one); used as is.</summary>
    public string? AccessToken { get; init; }

    /// <summary>A credential built by the caller; when set it is the only source.</summary>
    public TokenCredential? Credential { get; init; }

    /// <summary>How long az or pwsh may take to hand over a token.</summary>
    public TimeSpan ProcessTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Environment lookup (the process environment unless a test gives its own).</summary>
    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}

/// <summary>One place a token may come from, with what the user does to make it work.</summary>
public sealed record CredentialSource(string Name, string Hint, TokenCredential Credential);

/// <summary>
/// Builds the module's Azure credential. Explicit input (an injected credential, an access token, a service principal)
/// is used alone. Otherwise sources are tried in this order: an Azure Pipelines service connection (workload identity
/// federation, when the task exposes it), environment variables (AZURE_CLIENT_ID with a secret or certificate),
/// workload identity (AZURE_FEDERATED_TOKEN_FILE), the Az PowerShell context (Connect-AzAccount), the az CLI
/// (az login), and the machine's managed identity. Configured automation comes before a person's sign-in so a
/// pipeline never acts as whoever last signed in on the agent; managed identity is last because probing for it is slow
/// where there is none.
/// </summary>
public static class AzureCredentialFactory
{
    public const string SignInHint
        = "Sign in with Connect-AzAccount (Az.Accounts) or az login, or give -Credential (a service principal) with -TenantId.";

    public static AzureCredentialChain Create(AzureCredentialOptions options) => new(Sources(options));

    public static IReadOnlyList<CredentialSource> Sources(AzureCredentialOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Credential != null)
            return [new CredentialSource("Credential", "the credential given", options.Credential)];
        if (!string.IsNullOrEmpty(options.AccessToken))
            return [new CredentialSource("AccessToken", "the access token given", new StaticTokenCredential(options.AccessToken))];
        if (!string.IsNullOrEmpty(options.ClientSecret) || !string.IsNullOrEmpty(options.ClientId))
        {
            if (string.IsNullOrEmpty(options.TenantId))
                throw new ArgumentException("A service principal needs its tenant: give -TenantId with -Credential.");
            if (string.IsNullOrEmpty(options.ClientId) || string.IsNullOrEmpty(options.ClientSecret))
                throw new ArgumentException("A service principal needs its application id (user name) and secret (password).");
            return [new CredentialSource("ServicePrincipal", "check the application id, secret and tenant",
                new ClientSecretCredential(options.TenantId, options.ClientId, options.ClientSecret,
                    new ClientSecretCredentialOptions { AuthorityHost = options.Cloud.AuthorityHost }))];
        }

        var env = options.Environment;
        var sources = new List<CredentialSource>();

        string[] pipelineVars
            = ["AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "AZURESUBSCRIPTION_CLIENT_ID", "AZURESUBSCRIPTION_TENANT_ID", "SYSTEM_ACCESSTOKEN"];
        var missing = pipelineVars.Where(v => string.IsNullOrEmpty(env(v))).ToList();
        sources.Add(new CredentialSource("AzurePipelines", "in Azure DevOps, run in an AzureCLI@2 or AzurePowerShell@5 task with a " +
            "workload identity service connection and map SYSTEM_ACCESSTOKEN",
            missing.Count == pipelineVars.Length ? new UnavailableCredential("not in an Azure Pipelines task with a service connection")
            : missing.Count > 0 ? new UnavailableCredential("Azure Pipelines variables missing: " + string.Join(", ", missing))
            : new AzurePipelinesCredential(options.TenantId ?? env("AZURESUBSCRIPTION_TENANT_ID")!, env("AZURESUBSCRIPTION_CLIENT_ID")!,
                env("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID")!, env("SYSTEM_ACCESSTOKEN")!,
                new AzurePipelinesCredentialOptions { AuthorityHost = options.Cloud.AuthorityHost })));

        var hasEnvSecret = !string.IsNullOrEmpty(env("AZURE_CLIENT_ID")) && !string.IsNullOrEmpty(env("AZURE_TENANT_ID"))
            && (!string.IsNullOrEmpty(env("AZURE_CLIENT_SECRET")) || !string.IsNullOrEmpty(env("AZURE_CLIENT_CERTIFICATE_PATH")));
        sources.Add(new CredentialSource("Environment", "set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET (or " +
            "AZURE_CLIENT_CERTIFICATE_PATH)",
            hasEnvSecret ? new EnvironmentCredential(new EnvironmentCredentialOptions { AuthorityHost = options.Cloud.AuthorityHost })
            : new UnavailableCredential("AZURE_CLIENT_ID, AZURE_TENANT_ID and a secret or certificate are not all set")));

        var tokenFile = env("AZURE_FEDERATED_TOKEN_FILE");
        sources.Add(new CredentialSource("WorkloadIdentity", "set AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID",
            !string.IsNullOrEmpty(tokenFile) && !string.IsNullOrEmpty(env("AZURE_CLIENT_ID"))
                ? new WorkloadIdentityCredential(new WorkloadIdentityCredentialOptions
                {
                    TokenFilePath = tokenFile,
                    ClientId = env("AZURE_CLIENT_ID"),
                    TenantId = options.TenantId ?? env("AZURE_TENANT_ID"),
                    AuthorityHost = options.Cloud.AuthorityHost,
                })
                : new UnavailableCredential("AZURE_FEDERATED_TOKEN_FILE and AZURE_CLIENT_ID are not set")));

        sources.Add(new CredentialSource("AzurePowerShell", "run Connect-AzAccount",
            new AzurePowerShellCredential(
                new AzurePowerShellCredentialOptions { TenantId = options.TenantId, ProcessTimeout = options.ProcessTimeout })));
        sources.Add(new CredentialSource("AzureCli", "run az login",
            new AzureCliCredential(new AzureCliCredentialOptions { TenantId = options.TenantId, ProcessTimeout = options.ProcessTimeout })));

        var miOptions = new ManagedIdentityCredentialOptions(string.IsNullOrEmpty(env("AZURE_CLIENT_ID"))
            ? ManagedIdentityId.SystemAssigned
            : ManagedIdentityId.FromUserAssignedClientId(env("AZURE_CLIENT_ID")!));
        miOptions.Retry.MaxRetries = 1;
        miOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
        sources.Add(
            new CredentialSource("ManagedIdentity", "run on an Azure resource with a managed identity", new ManagedIdentityCredential(miOptions)));
        return sources;
    }
}

/// <summary>
/// Tries each source in order, as ChainedTokenCredential does (a source that is not set up passes to the next; one that
/// is set up but refuses stops the chain), then keeps using the one that worked. When none works the error lists every
/// source with its reason and what to do.
/// </summary>
public sealed class AzureCredentialChain : TokenCredential
{
    private CredentialSource? _used;

    public AzureCredentialChain(IReadOnlyList<CredentialSource> sources)
    {
        if (sources.Count == 0) throw new ArgumentException("A credential chain needs at least one source.", nameof(sources));
        Sources = sources;
    }

    public IReadOnlyList<CredentialSource> Sources { get; }

    /// <summary>The name of the source that gave the last token, or null before one did.</summary>
    public string? SourceUsed => _used?.Name;

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        if (_used != null) return await _used.Credential.GetTokenAsync(requestContext, cancellationToken).ConfigureAwait(false);
        var reasons = new List<string>();
        foreach (var source in Sources)
        {
            try
            {
                var token = await source.Credential.GetTokenAsync(requestContext, cancellationToken).ConfigureAwait(false);
                _used = source;
                return token;
            }
            catch (CredentialUnavailableException ex)
            {
                reasons.Add($"{source.Name}: {FirstLine(ex.Message)} ({source.Hint})");
            }
            catch (AuthenticationFailedException ex) when (Sources.Count > 1 && !cancellationToken.IsCancellationRequested)
            {
                reasons.Add($"{source.Name}: {FirstLine(ex.Message)} ({source.Hint})");
                throw new AzureSignInException(Message(reasons, stopped: true), reasons, ex);
            }
            catch (AuthenticationFailedException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new AzureSignInException($"{source.Name} could not get a token: {FirstLine(ex.Message)} ({source.Hint}).", [source.Name], ex);
            }
        }
        throw new AzureSignInException(Message(reasons, stopped: false), reasons, null);
    }

    private static string Message(List<string> reasons, bool stopped) =>
        (stopped
            ? "Azure sign-in failed. Sources tried, in order (the last one is set up but refused):"
            : "Not signed in to Azure. Sources tried, in order:")
        + System.Environment.NewLine + string.Join(System.Environment.NewLine, reasons.Select(r => "  - " + r))
        + System.Environment.NewLine + AzureCredentialFactory.SignInHint;

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + "..." : line;
    }
}

/// <summary>No Azure token could be had; the message names each source tried and how to sign in.</summary>
public sealed class AzureSignInException(string message, IReadOnlyList<string> sourcesTried, Exception? inner) : Exception(message, inner)
{
    public IReadOnlyList<string> SourcesTried { get; } = sourcesTried;
}

/// <summary>A token the caller already holds.</summary>
public sealed class StaticTokenCredential(string token, DateTimeOffset? expiresOn = null) : TokenCredential
{
    private readonly AccessToken _token = new(token, expiresOn ?? DateTimeOffset.UtcNow.AddHours(1));

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => _token;

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(_token);
}

/// <summary>A source that is not set up on this machine; it says why, so the sign-in error can.</summary>
internal sealed class UnavailableCredential(string reason) : TokenCredential
{
    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        => throw new CredentialUnavailableException(reason);

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        => throw new CredentialUnavailableException(reason);
}
