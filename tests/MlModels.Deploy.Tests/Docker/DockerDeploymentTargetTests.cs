using System.Text;
using MlModels.Core.Tests;
using MlModels.Deploy.Docker;

namespace MlModels.Deploy.Tests.Docker;

[Trait("Category", "Docker")]
public class DockerDeploymentTargetTests
{
    [SkippableFact]
    public async Task CreateGetListPredictDelete_OnTheRealEngine()
    {
        using var engine = await DockerEngineTests.EngineAsync();
        using var target = DeploymentTargetFactory.Default.Create("docker", new DockerTargetSettings());
        var name = "mlmodels-test-" + Guid.NewGuid().ToString("N")[..8];
        var request = new DockerDeploymentOptions
        {
            Name = name, ModelPath = Path.Combine(TestPaths.Examples, "onnx-linear"), Tag = $"mlmodels-test/{name}:1",
            Build = new DockerContextOptions { DotnetImage = DockerEngineTests.Env("MLMODELS_TEST_DOTNET_BASE") },
        };
        try
        {
            var created = await target.CreateAsync(request, null, CancellationToken.None);
            Assert.Equal((name, "docker", "running"), (created.Name, created.Target, created.Status));
            Assert.Equal("onnx-linear", created.Details["modelName"]);
            Assert.Equal(name, Assert.IsType<MLModelContainer>(created.Own).Name);

            Assert.Equal(created.ScoringUri, (await target.GetAsync(name, CancellationToken.None))!.ScoringUri);
            Assert.Contains(await target.ListAsync(CancellationToken.None), d => d.Name == name);
            var again = await Assert.ThrowsAsync<InvalidOperationException>(() => target.CreateAsync(request, null, CancellationToken.None));
            Assert.Contains("already exists", again.Message);

            var body = Encoding.UTF8.GetBytes("""{"dataframe_split": {"columns": ["x1", "x2", "x3"], "data": [[1, 2, 3]]}}""");
            var answer = await target.PredictAsync(name, new PredictionRequest(body, "application/json"), null, CancellationToken.None);
            Assert.Equal(200, answer.StatusCode);
            // MLflow's JSON: a named output as records, one per row.
            using (var doc = System.Text.Json.JsonDocument.Parse(answer.Body))
                Assert.Equal(System.Text.Json.JsonValueKind.Number, doc.RootElement.GetProperty("predictions")[0].GetProperty("variable").ValueKind);
            var bad = await target.PredictAsync(name, new PredictionRequest("{}"u8.ToArray(), "application/json"), null, CancellationToken.None);
            Assert.Equal(400, bad.StatusCode);
        }
        finally
        {
            Assert.True((await target.DeleteAsync(new DockerDeleteOptions(name) { Grace = TimeSpan.FromSeconds(5) }, null, CancellationToken.None)).Found);
        }
        Assert.Null(await target.GetAsync(name, CancellationToken.None));
        Assert.False((await target.DeleteAsync(new DeleteDeploymentOptions(name), null, CancellationToken.None)).Found);
    }
}
