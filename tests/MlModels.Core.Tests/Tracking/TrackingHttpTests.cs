using System.Text;
using MlModels.Core.Tracking;
using MlModels.TrackingFake;

namespace MlModels.Core.Tests.Tracking;

[Trait("Category", "Fast")]
public class TrackingHttpTests
{
    [Fact]
    public async Task BasicAuth_SendsTheHeaderMlflowSends()
    {
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("conformance:s3cret"));
        using var r = new Replayed(new ReplayOptions { Flows = ["download-models-version-uri"], RequiredAuthorization = expected },
            new BasicTrackingAuth("conformance", "s3cret", "MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD"));
        await r.Downloader.DownloadAsync("models:/sk-ridge/1");
        r.AssertFlowReplayed("download-models-version-uri");
        Assert.All(r.Replay.Calls, c => Assert.Equal(expected, c.Authorization)); // the artifact proxy too
    }

    [Fact]
    public async Task BearerToken_SendsTheHeaderMlflowSends()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["download-models-version-uri"], RequiredAuthorization = "Bearer tok-123" },
            new BearerTrackingAuth("tok-123", "MLFLOW_TRACKING_TOKEN"));
        await r.Downloader.DownloadAsync("models:/sk-ridge/1");
        r.AssertFlowReplayed("download-models-version-uri");
    }

    [Fact]
    public async Task TokenProvider_IsAskedPerRequest()
    {
        int asked = 0;
        using var r = new Replayed(new ReplayOptions { Flows = ["registry"], RequiredAuthorization = "Bearer aad-token" },
            new TokenProviderTrackingAuth(_ => { asked++; return ValueTask.FromResult("aad-token"); }, "an Azure token"));
        await r.Client.GetModelVersionAsync("sk-ridge", "1");
        await r.Client.GetModelVersionDownloadUriAsync("sk-ridge", "1");
        Assert.Equal(2, asked);
        r.AssertAllMatched();
    }

    [Fact]
    public async Task Unauthorized_SaysWhichCredentialWasSentAndHowToSetAnother()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["registry"], RequiredAuthorization = "Bearer right" },
            new BasicTrackingAuth("someone", "wrong", "MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD"));
        var ex = await Assert.ThrowsAsync<TrackingAuthException>(() => r.Client.GetModelVersionAsync("sk-ridge", "1"));
        Assert.Equal(401, (int)ex.StatusCode);
        Assert.Contains("HTTP Basic auth as user 'someone' (MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD)", ex.Message);
        Assert.Contains("MLFLOW_TRACKING_TOKEN", ex.Message);
        Assert.Contains("-Credential", ex.Message);
        Assert.DoesNotContain("wrong", ex.Message);
        Assert.Single(r.Replay.Calls); // 401 is not retried
    }

    [Fact]
    public async Task TooManyRequests_IsRetriedAfterRetryAfterThenSucceeds()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["registry"], TooManyRequestsFirst = 2, RetryAfterSeconds = "3" });
        var v = await r.Client.GetModelVersionAsync("sk-ridge", "1");
        Assert.Equal("1", v.Version);
        Assert.Equal(3, r.Replay.Calls.Count);
        Assert.Equal([TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3)], r.Delays);
        r.AssertAllMatched();
    }

    [Fact]
    public async Task TooManyRequests_PastTheRetries_IsTheServersError()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["registry"], TooManyRequestsFirst = 10 }, maxRetries: 2);
        var ex = await Assert.ThrowsAsync<MlflowException>(() => r.Client.GetModelVersionAsync("sk-ridge", "1"));
        Assert.Equal("REQUEST_LIMIT_EXCEEDED", ex.ErrorCode);
        Assert.Equal(3, r.Replay.Calls.Count);
    }

    [Fact]
    public void Backoff_FollowsUrllib3sSchedule()
    {
        var retry = new RetryOptions(); // MLflow's defaults: factor 2, jitter 1.0
        Assert.Equal(TimeSpan.Zero, retry.BackoffBefore(1, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(4.5), retry.BackoffBefore(2, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(8), retry.BackoffBefore(3, 0));
        Assert.Equal(TimeSpan.FromSeconds(33), retry.BackoffBefore(5, 1));
        Assert.Equal(TimeSpan.FromSeconds(120), retry.BackoffBefore(9, 0));
    }

    [Fact]
    public async Task ServerThatDoesNotAnswer_NamesTheUriAndTheVariableItCameFrom()
    {
        var delays = new List<TimeSpan>();
        var settings = TrackingSettings.Resolve(environment: v => v == "MLFLOW_TRACKING_URI" ? "http://127.0.0.1:9" : null, homeDirectory: TestPaths.NewTempDir()) with
        {
            Retry = new RetryOptions { MaxRetries = 2, Delay = (d, _) => { delays.Add(d); return Task.CompletedTask; } },
        };
        using var client = new TrackingClient(settings);
        var ex = await Assert.ThrowsAsync<TrackingConnectionException>(() => client.GetModelVersionAsync("m", "1"));
        Assert.Contains("http://127.0.0.1:9", ex.Message);
        Assert.Contains("from MLFLOW_TRACKING_URI", ex.Message);
        Assert.Contains("Tried 3 time(s)", ex.Message);
        Assert.Equal(2, delays.Count);
    }

    [Fact]
    public async Task Requests_CarryJsonContentTypeAndFormEncodedQueries()
    {
        using var r = new Replayed(new ReplayOptions { Flows = ["registry"] });
        await r.Client.SearchModelVersionsAsync("name='sk-ridge'");
        Assert.Equal("/api/2.0/mlflow/model-versions/search?filter=name%3D%27sk-ridge%27&max_results=10000", r.Replay.Calls[^1].PathAndQuery);
        await r.Client.GetLatestVersionsAsync("sk-ridge", null);
        Assert.Equal("application/json", r.Replay.Calls[^1].ContentType);
        r.AssertAllMatched();
    }
}
