using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using MlModels.Core.Tests;
using MlModels.Deploy.Aws;
using MlModels.Deploy.SageMaker;

namespace MlModels.Deploy.Tests.Aws;

public class AwsConnectionTests
{
    private static string CredentialsFile(string text)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "credentials");
        File.WriteAllText(path, text);
        return path;
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void Profile_FromAGivenFile_GivesItsKeysAndRegion()
    {
        var file = CredentialsFile("[deploy]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\nregion = eu-west-1\n");
        using var c = AwsConnection.Open(new AwsConnectionOptions { ProfileName = "deploy", ProfileLocation = file });
        var keys = c.Credentials.GetCredentials();
        Assert.Equal(("AKIDPROFILE", "profile-secret"), (keys.AccessKey, keys.SecretKey));
        Assert.Equal("eu-west-1", c.RegionName);
        Assert.Equal("the profile 'deploy'", c.CredentialSource);
        Assert.Equal(new Uri("https://api.sagemaker.eu-west-1.amazonaws.com/"), c.EndpointFor(AwsService.SageMaker));
        Assert.Equal(new Uri("https://runtime.sagemaker.eu-west-1.amazonaws.com/"), c.EndpointFor(AwsService.SageMakerRuntime));
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void Parameters_WinOverTheProfile()
    {
        var file = CredentialsFile("[deploy]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\nregion = eu-west-1\n");
        using var c = AwsConnection.Open(new AwsConnectionOptions
        {
            ProfileName = "deploy", ProfileLocation = file, Region = "ap-southeast-2", Credentials = new BasicAWSCredentials("AKIDPARAM", "p"), EndpointUrl = "http://127.0.0.1:9/",
        });
        Assert.Equal("AKIDPARAM", c.Credentials.GetCredentials().AccessKey);
        Assert.Equal("ap-southeast-2", c.RegionName);
        Assert.Equal(new Uri("http://127.0.0.1:9/"), c.EndpointFor(AwsService.Ecr));
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void UnknownProfile_AndUnknownRegion_AreNamed()
    {
        var file = CredentialsFile("[other]\naws_access_key_id = A\naws_secret_access_key = s\n");
        var profile = Assert.Throws<AwsConfigurationException>(() => AwsConnection.Open(new AwsConnectionOptions { ProfileName = "missing", ProfileLocation = file }));
        Assert.Contains("no AWS profile named 'missing'", profile.Message);
        Assert.Contains(file, profile.Message);
        var region = Assert.Throws<AwsConfigurationException>(() => AwsConnection.Open(new AwsConnectionOptions { Region = "us-nowhere-1", Credentials = new BasicAWSCredentials("A", "s") }));
        Assert.Contains("'us-nowhere-1' (from -Region) is not an AWS region", region.Message);
        Assert.Contains("us-east-1", region.Message);
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void ErrorBodies_GiveTheCodeWithoutNamespace_AndTheMessage()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.BadRequest);
        Assert.Equal(("ValidationException", "Could not find endpoint"),
            AwsJsonClient.ParseError("""{"__type":"com.amazon.coral.validate#ValidationException","message":"Could not find endpoint"}"""u8.ToArray(), response));
        Assert.Equal(("RepositoryNotFoundException", "no repo"),
            AwsJsonClient.ParseError("""{"__type":"RepositoryNotFoundException","Message":"no repo"}"""u8.ToArray(), response));
        response.Headers.TryAddWithoutValidation("x-amzn-ErrorType", "ModelError:http://internal.amazon.com/coral/com.amazon.sagemaker/");
        Assert.Equal("ModelError", AwsJsonClient.ParseError("not json"u8.ToArray(), response).Code);
    }

    /// <summary>
    /// The signature is AWSSDK.Core's; this proves it is accepted by a server that checks it: moto with IAM
    /// authentication on (INITIAL_NO_AUTH_ACTION_COUNT), a user and key made through its IAM API.
    /// </summary>
    [Trait("Category", "Cloud")]
    [SkippableFact]
    public async Task SigV4_IsAcceptedByMotoWithAuthentication_AndAWrongSecretIsRefused()
    {
        var exe = new[] { Environment.GetEnvironmentVariable("MLMODELS_MOTO_SERVER"), "/root/.pyenv/shims/moto_server" }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, "moto_server")))
            .FirstOrDefault(p => p != null && File.Exists(p));
        Prerequisites.Require(exe != null, "moto_server");
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); port = ((IPEndPoint)l.LocalEndpoint).Port; }
        var psi = new ProcessStartInfo(exe!, ["-H", "127.0.0.1", "-p", port.ToString()]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3";
        using var moto = Process.Start(psi)!;
        moto.OutputDataReceived += (_, _) => { };
        moto.ErrorDataReceived += (_, _) => { };
        moto.BeginOutputReadLine();
        moto.BeginErrorReadLine();
        try
        {
            var url = $"http://127.0.0.1:{port}/";
            using var http = new HttpClient();
            string Iam(string form)
            {
                for (var i = 0; ; i++)
                {
                    try
                    {
                        var r = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(form + "&Version=2010-05-08", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded") };
                        r.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDBOOT/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0");
                        return http.Send(r).Content.ReadAsStringAsync().Result;
                    }
                    catch (HttpRequestException) when (i < 100) { Thread.Sleep(100); }
                }
            }
            Iam("Action=CreateUser&UserName=signer");
            Iam("Action=PutUserPolicy&UserName=signer&PolicyName=all&PolicyDocument=" + Uri.EscapeDataString("""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"""));
            var key = Iam("Action=CreateAccessKey&UserName=signer");
            var id = Regex.Match(key, "<AccessKeyId>(.*?)</AccessKeyId>").Groups[1].Value;
            var secret = Regex.Match(key, "<SecretAccessKey>(.*?)</SecretAccessKey>").Groups[1].Value;

            AwsConnection Connect(string s) => AwsConnection.Open(new AwsConnectionOptions
            {
                Credentials = new BasicAWSCredentials(id, s), Region = "us-east-1", EndpointUrl = url, Retry = new AwsRetryOptions(1, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1)),
            });
            using (var good = Connect(secret))
            {
                Assert.Empty(await new SageMakerClient(good).ListEndpointsAsync(null, CancellationToken.None));
                Assert.Null(await new EcrClient(good).FindRepositoryAsync("mlflow-pyfunc", CancellationToken.None));
            }
            using var bad = Connect(secret + "x");
            var ex = await Assert.ThrowsAsync<AwsServiceException>(() => new SageMakerClient(bad).ListEndpointsAsync(null, CancellationToken.None));
            Assert.Equal(HttpStatusCode.Forbidden, ex.StatusCode);
            Assert.Contains("signature we calculated does not match", ex.Message);
        }
        finally
        {
            moto.Kill(true);
            moto.WaitForExit(5000);
        }
    }
}
