using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Internal;
using Amazon.S3;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;

namespace MlModels.Deploy.Aws;

/// <summary>What a cmdlet was given: AWS.Tools' -ProfileName, -ProfileLocation, -Region, -Credential and -EndpointUrl.</summary>
public sealed record AwsConnectionOptions
{
    public string? ProfileName { get; init; }

    /// <summary>A credentials/config file to read profiles from instead of the default ones.</summary>
    public string? ProfileLocation { get; init; }

    public string? Region { get; init; }

    public AWSCredentials? Credentials { get; init; }

    /// <summary>
    /// Credentials as a cmdlet got them, before AWSSDK.Core's types can be named there: an AWSCredentials of any load
    /// context (AWS.Tools' own), or anything with GetCredentials() giving AccessKey/SecretKey/Token.
    /// </summary>
    public object? CredentialObject { get; init; }

    /// <summary>An access key id and secret key (a PSCredential's user name and password).</summary>
    public (string AccessKeyId, string SecretAccessKey)? AccessKey { get; init; }

    /// <summary>One endpoint for every service this connection calls (else AWS_ENDPOINT_URL[_SERVICE], the profile, the public endpoint).</summary>
    public string? EndpointUrl { get; init; }

    /// <summary>Put under every request (tests: fault injection, request-shape checks); null for the real network.</summary>
    public HttpMessageHandler? Handler { get; init; }

    public AwsRetryOptions Retry { get; init; } = AwsRetryOptions.Default;
}

/// <summary>Retries on throttling and 5xx: exponential backoff with jitter, at most <see cref="MaxRetries"/> times.</summary>
public sealed record AwsRetryOptions(int MaxRetries, TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    public static AwsRetryOptions Default { get; } = new(5, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(20));
}

/// <summary>
/// Credentials, region and endpoints resolved the way AWS.Tools resolves them, through AWSSDK.Core: an explicit
/// credential, else the named profile (CredentialProfileStoreChain: the SDK store, then the shared files), else the
/// SDK's default chain (environment, AWS_PROFILE or "default" in the shared files, SSO, web identity, container and
/// instance metadata). The region: -Region, else the profile's, else the SDK's fallback (AWS_REGION,
/// AWS_DEFAULT_REGION, the profile, instance metadata). Endpoints: -EndpointUrl, else what the SDK's client config
/// finds (AWS_ENDPOINT_URL_&lt;SERVICE&gt;, the profile's services section, AWS_ENDPOINT_URL, the profile's endpoint_url),
/// else the service's public endpoint.
/// </summary>
public sealed class AwsConnection : IDisposable
{
    private readonly AwsConnectionOptions _options;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _accountGate = new(1, 1);
    private string? _callerArn;
    private string? _account;

    private AwsConnection(AwsConnectionOptions options, AWSCredentials credentials, string credentialSource, RegionEndpoint region)
    {
        _options = options;
        Credentials = credentials;
        CredentialSource = credentialSource;
        Region = region;
        _http = options.Handler != null
            ? new HttpClient(options.Handler, disposeHandler: false) { Timeout = TimeSpan.FromMinutes(5) }
            : new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromMinutes(5) };
    }

    public AWSCredentials Credentials { get; }

    /// <summary>Where the credentials came from, for messages.</summary>
    public string CredentialSource { get; }

    public RegionEndpoint Region { get; }

    public string RegionName => Region.SystemName;

    public AwsRetryOptions Retry => _options.Retry;

    internal HttpClient Http => _http;

    public static AwsConnection Open(AwsConnectionOptions options)
    {
        CredentialProfile? profile = null;
        if (options.ProfileName != null)
        {
            var chain = new CredentialProfileStoreChain(options.ProfileLocation);
            if (!chain.TryGetProfile(options.ProfileName, out profile))
                throw new AwsConfigurationException(
                    $"There is no AWS profile named '{options.ProfileName}' in {DescribeProfileFiles(options.ProfileLocation)}.");
        }
        var region = ResolveRegion(options, profile);
        var (credentials, source) = ResolveCredentials(options, profile, region);
        return new AwsConnection(options, credentials, source, region);
    }

    private static RegionEndpoint ResolveRegion(AwsConnectionOptions options, CredentialProfile? profile)
    {
        if (options.Region != null) return KnownRegion(options.Region, "-Region");
        if (profile?.Region != null) return KnownRegion(profile.Region.SystemName, $"profile '{profile.Name}'");
        RegionEndpoint? fallback = null;
        try { fallback = FallbackRegionFactory.GetRegionEndpoint(); }
        catch (AmazonClientException) { }
        if (fallback == null)
            throw new AwsConfigurationException(
                "No AWS region: give -Region, set AWS_REGION or AWS_DEFAULT_REGION, or set 'region' in the AWS profile.");
        return KnownRegion(fallback.SystemName, "the environment or the default profile");
    }

    /// <summary>A region AWSSDK.Core knows, else an error naming where the name came from.</summary>
    public static RegionEndpoint KnownRegion(string name, string from)
    {
        var known = RegionEndpoint.EnumerableAllRegions.FirstOrDefault(r => string.Equals(r.SystemName, name, StringComparison.Ordinal));
        if (known != null) return known;
        var examples = string.Join(", ", RegionEndpoint.EnumerableAllRegions.Select(r => r.SystemName)
            .Where(n => n.StartsWith("us-", StringComparison.Ordinal) || n.StartsWith("eu-west", StringComparison.Ordinal))
            .Order());
        throw new AwsConfigurationException($"'{name}' (from {from}) is not an AWS region. Regions look like: {examples}.");
    }

    private static (AWSCredentials, string) ResolveCredentials(AwsConnectionOptions options, CredentialProfile? profile, RegionEndpoint region)
    {
        if (options.Credentials != null) return (options.Credentials, "the -Credential parameter");
        if (options.AccessKey is { } key) return (new BasicAWSCredentials(key.AccessKeyId, key.SecretAccessKey), "the -Credential parameter");
        if (options.CredentialObject != null) return (FromObject(options.CredentialObject), "the -Credential parameter");
        if (profile != null)
        {
            var chain = new CredentialProfileStoreChain(options.ProfileLocation);
            if (!chain.TryGetAWSCredentials(profile.Name, out var fromProfile))
                throw new AwsConfigurationException(
                    $"The AWS profile '{profile.Name}' ({DescribeProfileFiles(options.ProfileLocation)}) holds no usable credentials.");
            return (fromProfile, $"the profile '{profile.Name}'");
        }
        try
        {
            var config = new AwsServiceConfig(AwsService.SageMaker) { RegionEndpoint = region };
            var found = DefaultAWSCredentialsIdentityResolver.GetCredentials(config);
            return (found, $"the default chain ({found.GetType().Name})");
        }
        catch (AmazonClientException ex)
        {
            throw new AwsConfigurationException(
                "No AWS credentials. Looked in: the -Credential and -ProfileName parameters; the environment (AWS_ACCESS_KEY_ID, " +
                "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the profile named by AWS_PROFILE, else 'default', in " +
                $"{DescribeProfileFiles(null)} (static keys, SSO, assume-role, credential_process); web identity " +
                "(AWS_WEB_IDENTITY_TOKEN_FILE); the container and instance metadata services. " + ex.Message, ex);
        }
    }

    private static AWSCredentials FromObject(object value)
    {
        if (value is AWSCredentials own) return own;
        // AWS.Tools' credentials live in another load context: read their keys through GetCredentials().
        var get = value.GetType().GetMethod("GetCredentials", Type.EmptyTypes)
            ?? throw new ArgumentException($"-Credential must be an AWSCredentials or a PSCredential, not {value.GetType().FullName}.");
        var keys = get.Invoke(value, null) ?? throw new ArgumentException("-Credential gave no keys.");
        string? Read(string name) => keys.GetType().GetProperty(name)?.GetValue(keys) as string;
        var (id, secret, token) = (Read("AccessKey"), Read("SecretKey"), Read("Token"));
        if (id == null || secret == null) throw new ArgumentException("-Credential gave no access key and secret key.");
        return string.IsNullOrEmpty(token) ? new BasicAWSCredentials(id, secret) : new SessionAWSCredentials(id, secret, token);
    }

    /// <summary>Region names and display names AWSSDK.Core knows (for tab completion).</summary>
    public static IEnumerable<(string Name, string DisplayName)> KnownRegions() =>
        RegionEndpoint.EnumerableAllRegions.Select(r => (r.SystemName, r.DisplayName)).OrderBy(r => r.SystemName, StringComparer.Ordinal);

    private static string DescribeProfileFiles(string? location)
    {
        if (location != null) return location;
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var credentials = Environment.GetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE") ?? Path.Combine(home, ".aws", "credentials");
        var config = Environment.GetEnvironmentVariable("AWS_CONFIG_FILE") ?? Path.Combine(home, ".aws", "config");
        return $"{credentials} and {config}";
    }

    /// <summary>The endpoint a service's requests go to.</summary>
    public Uri EndpointFor(AwsService service)
    {
        if (_options.EndpointUrl != null) return new Uri(_options.EndpointUrl);
        var configured = NewConfig(service).ServiceURL;
        return configured != null ? new Uri(configured) : service.DefaultEndpoint(RegionName);
    }

    /// <summary>A client config for the service: the SDK resolves configured endpoint URLs from it.</summary>
    internal AwsServiceConfig NewConfig(AwsService service)
    {
        var config = new AwsServiceConfig(service) { RegionEndpoint = Region };
        if (_options.ProfileName != null) config.Profile = new Profile(_options.ProfileName, _options.ProfileLocation);
        return config;
    }

    public IAmazonS3 CreateS3Client()
    {
        var config = new AmazonS3Config { RegionEndpoint = Region };
        if (_options.ProfileName != null) config.Profile = new Profile(_options.ProfileName, _options.ProfileLocation);
        if (_options.EndpointUrl != null) config.ServiceURL = _options.EndpointUrl;
        // A local or private endpoint has no per-bucket host names.
        if (config.ServiceURL != null) config.ForcePathStyle = true;
        if (_options.Handler != null) config.HttpClientFactory = new HandlerHttpClientFactory(_options.Handler);
        config.MaxErrorRetry = _options.Retry.MaxRetries;
        return new AmazonS3Client(Credentials, config);
    }

    public IAmazonSecurityTokenService CreateStsClient()
    {
        var config = new AmazonSecurityTokenServiceConfig { RegionEndpoint = Region };
        if (_options.ProfileName != null) config.Profile = new Profile(_options.ProfileName, _options.ProfileLocation);
        if (_options.EndpointUrl != null) config.ServiceURL = _options.EndpointUrl;
        if (_options.Handler != null) config.HttpClientFactory = new HandlerHttpClientFactory(_options.Handler);
        config.MaxErrorRetry = _options.Retry.MaxRetries;
        return new AmazonSecurityTokenServiceClient(Credentials, config);
    }

    /// <summary>The account the credentials belong to (STS GetCallerIdentity, asked once).</summary>
    public async Task<string> GetAccountIdAsync(CancellationToken cancellationToken)
    {
        await LoadCallerAsync(cancellationToken).ConfigureAwait(false);
        return _account!;
    }

    /// <summary>The ARN of the caller (a user, or an assumed role's session).</summary>
    public async Task<string> GetCallerArnAsync(CancellationToken cancellationToken)
    {
        await LoadCallerAsync(cancellationToken).ConfigureAwait(false);
        return _callerArn!;
    }

    private async Task LoadCallerAsync(CancellationToken cancellationToken)
    {
        if (_account != null) return;
        await _accountGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_account != null) return;
            using var sts = CreateStsClient();
            GetCallerIdentityResponse identity;
            try { identity = await sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), cancellationToken).ConfigureAwait(false); }
            catch (AmazonServiceException ex)
            {
                throw new AwsServiceException("STS", "GetCallerIdentity", null, ex.ErrorCode ?? "Error", ex.Message, ex.StatusCode, ex.RequestId);
            }
            _callerArn = identity.Arn;
            _account = identity.Account;
        }
        finally { _accountGate.Release(); }
    }

    public void Dispose()
    {
        _http.Dispose();
        _accountGate.Dispose();
    }
}

/// <summary>
/// A client config for a service the module calls without its SDK package: it gives the SDK's own endpoint-URL and
/// region resolution a service id, and the signer a signing name.
/// </summary>
internal sealed class AwsServiceConfig : ClientConfig
{
    private static readonly IDefaultConfiguration[] Defaults =
        [new DefaultConfiguration { Name = DefaultConfigurationMode.Standard, RetryMode = RequestRetryMode.Standard }];

    private readonly AwsService _service;

    public AwsServiceConfig(AwsService service) : base(new DefaultConfigurationProvider(Defaults))
    {
        _service = service;
        ServiceId = service.ServiceId;
        AuthenticationServiceName = service.SigningName;
    }

    public override string RegionEndpointServiceName => _service.SigningName;

    public override string ServiceVersion => "";

    public override string UserAgent => "MlModels";

    public override Amazon.Runtime.Endpoints.Endpoint DetermineServiceOperationEndpoint(
        Amazon.Runtime.Endpoints.ServiceOperationEndpointParameters parameters) =>
        new((ServiceURL != null ? new Uri(ServiceURL) : _service.DefaultEndpoint(RegionEndpoint.SystemName)).ToString());
}

/// <summary>Lets the SDK's S3 and STS clients send through the same handler as everything else (tests put theirs there).</summary>
internal sealed class HandlerHttpClientFactory(HttpMessageHandler handler) : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => true;
}
