using System.Globalization;

namespace MlModels.Core.Tracking;

/// <summary>Retries as MLflow's client makes them (mlflow/utils/request_utils.py over urllib3's Retry).</summary>
public sealed record RetryOptions
{
    /// <summary>Answers retried, for every method (MLflow's _TRANSIENT_FAILURE_RESPONSE_CODES).</summary>
    public static readonly IReadOnlySet<int> RetryStatuses = new HashSet<int> { 408, 429, 500, 502, 503, 504 };

    public int MaxRetries { get; init; } = 5;
    public double BackoffFactor { get; init; } = 2;
    public double BackoffJitter { get; init; } = 1.0;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
    public bool RespectRetryAfter { get; init; } = true;
    /// <summary>How a back-off is waited; tests put a recorder here.</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = Task.Delay;

    /// <summary>
    /// urllib3's schedule: no wait before the first retry, then factor * 2^(n-1) plus up to <see cref="BackoffJitter"/>
    /// seconds, at most 120 s.
    /// </summary>
    public TimeSpan BackoffBefore(int retry, double random)
    {
        if (retry <= 1) return TimeSpan.Zero;
        var seconds = BackoffFactor * Math.Pow(2, retry - 1) + (BackoffJitter != 0 ? random * BackoffJitter : 0);
        return TimeSpan.FromSeconds(Math.Clamp(seconds, 0, 120));
    }
}

/// <summary>
/// Which server to talk to and how, read the way MLflow's client reads it (MLFLOW_TRACKING_URI, MLFLOW_REGISTRY_URI,
/// MLFLOW_TRACKING_USERNAME/PASSWORD or ~/.mlflow/credentials, MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_INSECURE_TLS,
/// MLFLOW_TRACKING_SERVER_CERT_PATH, MLFLOW_TRACKING_CLIENT_CERT_PATH, MLFLOW_HTTP_REQUEST_*), with the cmdlet's
/// -TrackingUri and -Credential over them.
/// </summary>
public sealed record TrackingSettings
{
    /// <summary>The http(s) base the REST paths go under (an azureml:// URI already translated).</summary>
    public required Uri TrackingUri { get; init; }
    /// <summary>Where the tracking URI came from ("MLFLOW_TRACKING_URI", "-TrackingUri"), for errors.</summary>
    public required string TrackingUriSource { get; init; }
    public required Uri RegistryUri { get; init; }
    public required string RegistryUriSource { get; init; }
    /// <summary>The URI as the user wrote it (azureml://... stays azureml://).</summary>
    public string? OriginalTrackingUri { get; init; }
    public ITrackingAuth? Auth { get; init; }
    public bool InsecureTls { get; init; }
    public string? ServerCertPath { get; init; }
    public string? ClientCertPath { get; init; }
    public RetryOptions Retry { get; init; } = new();
    /// <summary>True when the URI named an Azure ML workspace.</summary>
    public bool IsAzureML { get; init; }

    public const string TrackingUriVariable = "MLFLOW_TRACKING_URI";
    public const string RegistryUriVariable = "MLFLOW_REGISTRY_URI";

    /// <summary>How to name a credential that failed, and how to set another.</summary>
    public string CredentialHint =>
        (Auth == null ? "No credential was sent." : $"Sent {Auth.Description}.")
        + " Set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (HTTP Basic) or MLFLOW_TRACKING_TOKEN (bearer), or give -Credential."
        + (IsAzureML ? " For an Azure ML workspace, sign in with Connect-AzAccount or az login." : "");

    /// <summary>
    /// Reads the settings. <paramref name="azureAuth"/> makes the credential for an azureml:// URI (it lives outside
    /// Core, over Azure.Identity); <paramref name="environment"/> and <paramref name="homeDirectory"/> default to the
    /// process's.
    /// </summary>
    public static TrackingSettings Resolve(
        string? trackingUri = null,
        (string Username, string Password)? credential = null,
        Func<string, string?>? environment = null,
        string? homeDirectory = null,
        Func<Uri, ITrackingAuth>? azureAuth = null)
    {
        var env = environment ?? Environment.GetEnvironmentVariable;
        string source;
        string raw;
        if (!string.IsNullOrWhiteSpace(trackingUri)) { raw = trackingUri; source = "-TrackingUri"; }
        else if (!string.IsNullOrWhiteSpace(env(TrackingUriVariable))) { raw = env(TrackingUriVariable)!; source = TrackingUriVariable; }
        else throw new InvalidOperationException(
            $"No tracking server is configured. Set {TrackingUriVariable} (for example http://127.0.0.1:5000), or give -TrackingUri.");

        var (tracking, isAzure) = ParseServerUri(raw, source);
        Uri registry = tracking;
        string registrySource = source;
        bool registryAzure = isAzure;
        // -TrackingUri names the one server for this call; without it MLflow's MLFLOW_REGISTRY_URI may send the registry elsewhere.
        if (source != "-TrackingUri" && !string.IsNullOrWhiteSpace(env(RegistryUriVariable)))
        {
            (registry, registryAzure) = ParseServerUri(env(RegistryUriVariable)!, RegistryUriVariable);
            registrySource = RegistryUriVariable;
        }

        ITrackingAuth? auth;
        if (credential is { } c) auth = new BasicTrackingAuth(c.Username, c.Password, "-Credential");
        else auth = AuthFromEnvironment(env, homeDirectory);
        if (auth == null && (isAzure || registryAzure))
        {
            if (azureAuth == null) throw new InvalidOperationException($"'{raw}' is an Azure ML workspace, which needs an Azure " +
                $"sign-in that this host does not provide; set MLFLOW_TRACKING_TOKEN to an Azure access token.");
            auth = azureAuth(isAzure ? tracking : registry);
        }

        var insecure = ParseBool(env("MLFLOW_TRACKING_INSECURE_TLS"), "MLFLOW_TRACKING_INSECURE_TLS");
        var certPath = NullIfEmpty(env("MLFLOW_TRACKING_SERVER_CERT_PATH"));
        if (insecure && certPath != null)
            throw new InvalidOperationException("MLFLOW_TRACKING_INSECURE_TLS and MLFLOW_TRACKING_SERVER_CERT_PATH cannot both be set: " +
                "one turns certificate checks off, the other sets the CA to check with.");

        return new TrackingSettings
        {
            TrackingUri = tracking,
            TrackingUriSource = source,
            RegistryUri = registry,
            RegistryUriSource = registrySource,
            OriginalTrackingUri = raw,
            Auth = auth,
            InsecureTls = insecure,
            ServerCertPath = certPath,
            ClientCertPath = NullIfEmpty(env("MLFLOW_TRACKING_CLIENT_CERT_PATH")),
            Retry = RetryFromEnvironment(env),
            IsAzureML = isAzure,
        };
    }

    private static (Uri Uri, bool IsAzure) ParseServerUri(string raw, string source)
    {
        raw = raw.Trim();
        if (raw.StartsWith("azureml:", StringComparison.OrdinalIgnoreCase)) return (AzureMLTrackingUri.ToHttps(raw), true);
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException(
                $"The tracking URI '{raw}' (from {source}) is not an http(s) URL or an azureml:// workspace URI. "
                + "This module talks to tracking servers over REST (mlflow server, Databricks, Azure ML); a local ./mlruns folder is not supported.");
        return (uri, false);
    }

    /// <summary>Basic when both user name and password are known (environment first, then ~/.mlflow/credentials); else the token.</summary>
    internal static ITrackingAuth? AuthFromEnvironment(Func<string, string?> env, string? home)
    {
        var user = NullIfEmpty(env("MLFLOW_TRACKING_USERNAME"));
        var password = NullIfEmpty(env("MLFLOW_TRACKING_PASSWORD"));
        string userSource = "MLFLOW_TRACKING_USERNAME", passwordSource = "MLFLOW_TRACKING_PASSWORD";
        if (user == null || password == null)
        {
            var file = CredentialsFile(home ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));
            if (file != null)
            {
                if (user == null && file.TryGetValue("mlflow_tracking_username", out var u)) { user = u; userSource = "~/.mlflow/credentials"; }
                if (password == null
                    && file.TryGetValue("mlflow_tracking_password", out var p)) { password = p; passwordSource = "~/.mlflow/credentials"; }
            }
        }
        if (user != null && password != null)
            return new BasicTrackingAuth(user, password, userSource == passwordSource ? userSource : $"{userSource}, {passwordSource}");
        var token = NullIfEmpty(env("MLFLOW_TRACKING_TOKEN"));
        return token != null ? new BearerTrackingAuth(token, "MLFLOW_TRACKING_TOKEN") : null;
    }

    /// <summary>The [mlflow] section of ~/.mlflow/credentials (an INI file, as configparser reads it).</summary>
    private static Dictionary<string, string>? CredentialsFile(string home)
    {
        var path = Path.Combine(home, ".mlflow", "credentials");
        if (!File.Exists(path)) return null;
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        bool inSection = false;
        foreach (var line in File.ReadLines(path))
        {
            var t = line.Trim();
            if (t.Length == 0 || t[0] is '#' or ';') continue;
            if (t[0] == '[') { inSection = t.TrimEnd() == "[mlflow]"; continue; }
            if (!inSection) continue;
            var eq = t.IndexOfAny(['=', ':']);
            if (eq > 0) values[t[..eq].Trim()] = t[(eq + 1)..].Trim();
        }
        return values;
    }

    internal static RetryOptions RetryFromEnvironment(Func<string, string?> env)
    {
        var r = new RetryOptions();
        if (NullIfEmpty(env("MLFLOW_HTTP_REQUEST_MAX_RETRIES")) is { } max) r = r with
        {
            MaxRetries = ParseInt(
            max,
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES")
        };
        if (NullIfEmpty(env("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR")) is { } f) r = r with
        {
            BackoffFactor = ParseInt(
            f,
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR")
        };
        if (NullIfEmpty(env("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER")) is { } j) r = r with
        {
            BackoffJitter = ParseDouble(
            j,
            "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER")
        };
        if (NullIfEmpty(env("MLFLOW_HTTP_REQUEST_TIMEOUT")) is { } t) r = r with
        {
            Timeout = TimeSpan.FromSeconds(
            ParseInt(t, "MLFLOW_HTTP_REQUEST_TIMEOUT"))
        };
        if (NullIfEmpty(env("MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER")) is { } ra) r = r with
        {
            RespectRetryAfter = ParseBool(
            ra,
            "MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER")
        };
        return r;
    }

    /// <summary>MLflow's boolean variables: true, false, 1, 0 in any case; anything else is an error.</summary>
    internal static bool ParseBool(string? value, string name)
    {
        if (string.IsNullOrEmpty(value)) return false;
        return value.ToLowerInvariant() switch
        {
            "true" or "1" => true,
            "false" or "0" => false,
            _ => throw new ArgumentException($"{name} is '{value}'; it must be one of true, false, 1, 0 (any case)."),
        };
    }

    private static int ParseInt(string value, string name) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v
        : throw new ArgumentException($"{name} is '{value}'; it must be a whole number of at least 0.");

    private static double ParseDouble(string value, string name) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v
        : throw new ArgumentException($"{name} is '{value}'; it must be a number of at least 0.");

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
