using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using MlModels.Core.Format;
using MlModels.Core.Serving;
using MlModels.Core.Tests;
using MlModels.Deploy.Docker;
using MlModels.Deploy.SageMaker;
using MlModels.Deploy.Tests.Aws;
using MlModels.Deploy.Tests.Docker;

namespace MlModels.Deploy.Tests.SageMaker;

/// <summary>
/// build-and-push and run-local against the real engine and an htpasswd-protected local registry standing in for
/// ECR's: moto answers the ECR calls, and the test's handler points the repository URI and the login it issues at
/// the local registry.
/// </summary>
[Collection("moto")]
[Trait("Category", "Docker")]
[Trait("Category", "Cloud")]
public class SageMakerImagesTests(MotoServer moto)
{
    [SkippableFact]
    public async Task BuildAndPush_ThenRunLocal_AnswersAsTheModelAnswersHere()
    {
        using var engine = await DockerEngineTests.EngineAsync();
        var registry = Environment.GetEnvironmentVariable("MLMODELS_TEST_REGISTRY");
        Prerequisites.Require(!string.IsNullOrEmpty(registry), "a local registry (bash .ci/services/registry.sh start)");
        var (user, password) = (DockerEngineTests.Env("MLMODELS_TEST_REGISTRY_USER"), DockerEngineTests.Env("MLMODELS_TEST_REGISTRY_PASSWORD"));
        using var s = new MotoSession(moto.Require());
        s.Faults.Intercept = async call =>
        {
            if (call.Operation is not ("DescribeRepositories" or "CreateRepository" or "GetAuthorizationToken")) return await call.Next();
            var response = await call.Next();
            if (!response.IsSuccessStatusCode) return response;
            var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            foreach (var repo in (answer["repositories"]?.AsArray() ?? []).Append(answer["repository"]).OfType<JsonNode>())
                repo["repositoryUri"] = registry + "/" + (string)repo["repositoryName"]!;
            if (answer["authorizationData"] is JsonArray auth)
            {
                auth[0]!["authorizationToken"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
                auth[0]!["proxyEndpoint"] = "http://" + registry;
            }
            return FaultInjector.Json(answer);
        };
        var repository = $"mlflow-pyfunc-{Guid.NewGuid().ToString("N")[..6]}";
        var pushed = await SageMakerImages.BuildAndPushAsync(s.Connection, engine, new SageMakerImageOptions
        {
            Repository = repository, Tag = "test",
            Build = new DockerContextOptions { Generic = true, ServerDirectory = AppContext.BaseDirectory, DotnetImage = DockerEngineTests.Env("MLMODELS_TEST_DOTNET_BASE") },
        }, null, CancellationToken.None);
        Assert.Equal($"{registry}/{repository}:test", pushed.Reference);
        Assert.StartsWith("sha256:", pushed.Digest);
        Assert.Contains("AmazonEC2ContainerRegistry_V20150921.CreateRepository", s.Validator.Calls);
        s.AssertShapesValid();

        // run-local: the pushed image, the model at /opt/ml/model, SageMaker's environment, 'serve'.
        var model = ModelStore.Load(Path.Combine(TestPaths.Examples, "onnx-linear"));
        var options = SageMakerImages.LocalRun(model, pushed.Reference, 0, null) with { StartTimeout = TimeSpan.FromSeconds(90) };
        Assert.Equal(["serve"], options.Command);
        Assert.Equal(("python_function", "SageMaker"), (options.Environment!["MLFLOW_DEPLOYMENT_FLAVOR_NAME"], options.Environment["SERVING_ENVIRONMENT"]));
        var runner = new ContainerRunner(engine);
        var container = await runner.StartAsync(options, null, CancellationToken.None);
        try
        {
            var request = """{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]}}""";
            // A deadline on the request: a container that stops answering fails here, with its logs, instead of hanging.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            using var content = new StringContent(request, Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var remote = await http.PostAsync(new Uri(container.Url!, "invocations"), content);
            var remoteBody = await remote.Content.ReadAsStringAsync();

            using var local = new ScoringService(model, new ServingOptions());
            var here = await local.InvokeAsync("application/json", new MemoryStream(Encoding.UTF8.GetBytes(request)), CancellationToken.None);
            Assert.Equal(here.Status, (int)remote.StatusCode);
            Assert.Equal(Encoding.UTF8.GetString(here.Body), remoteBody);
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            var state = await runner.GetAsync(container.Id, CancellationToken.None);
            var logs = string.Join("\n", await runner.LogsAsync(container.Id, 60, CancellationToken.None));
            throw new InvalidOperationException($"{ex.Message}\nContainer {container.Id}: {state?.State} (health {state?.Health}). Its last log lines:\n{logs}", ex);
        }
        finally
        {
            await runner.StopAsync(container.Id, keep: false, TimeSpan.FromSeconds(10), CancellationToken.None);
        }
    }
}
