using System.Text;
using MlModels.Core.Tests;
using MlModels.Deploy.AzureML;

namespace MlModels.Deploy.Tests.AzureML;

[Trait("Category", "Fast")]
public class AzureMLDeploymentTargetTests
{
    private static (DeploymentTargetFactory Factory, ArmFake Fake) Setup()
    {
        var fake = new ArmFake();
        var arm = new ArmClient(ArmFake.ArmBase, new StaticTokenCredential(ArmFake.Token), "https://management.fake.test/.default", fake, new FastTime());
        var client = new AzureMLClient(arm, new AzureMLWorkspace(ArmFake.Sub, ArmFake.Rg, ArmFake.WsName));
        var uploader = new DatastoreUploader(client, new StaticTokenCredential(ArmFake.Token)) { BlobServiceUri = new Uri($"https://{ArmFake.BlobHost}/"), Transport = new HttpClient(fake, false) };
        var deployer = new AzureMLDeployer(client, uploader, new StaticTokenCredential(ArmFake.Token), "https://management.fake.test/.default", fake);
        var factory = new DeploymentTargetFactory().Register(AzureMLDeploymentTarget.TargetName, _ => new AzureMLDeploymentTarget(deployer, arm));
        return (factory, fake);
    }

    [Fact]
    public async Task TheFactoryTarget_CreatesGetsListsPredictsAndDeletes()
    {
        var (factory, fake) = Setup();
        var target = factory.Create("azureml");
        var created = await target.CreateAsync(new DeploymentRequest("churn-endpoint", Path.Combine(TestPaths.Examples, "pyfunc-custom"),
            new Dictionary<string, object?> { ["instance_count"] = 2 }), null, default);
        Assert.Equal(("churn-endpoint", "azureml", "Succeeded"), (created.Name, created.Target, created.Status));
        Assert.Equal(new Uri("https://churn-endpoint.eastus.inference.fake.test/score"), created.ScoringUri);
        Assert.Equal("churn-endpoint", Assert.Single(await target.ListAsync(default)).Name);
        Assert.NotNull(await target.GetAsync("churn-endpoint", default));

        // An MLflow dataframe_records request reaches the endpoint in Azure ML's input_data form.
        var answer = await target.PredictAsync("churn-endpoint", new PredictionRequest(Encoding.UTF8.GetBytes("{\"dataframe_records\": [{\"a\": 1}, {\"a\": 2.5}]}"), "application/json"), default);
        Assert.Equal("[2,5]", Encoding.UTF8.GetString(answer.Body.Span));

        await target.DeleteAsync("churn-endpoint", null, null, default);
        Assert.Null(await target.GetAsync("churn-endpoint", default));
        await Assert.ThrowsAsync<AzureMLResourceNotFoundException>(() => target.DeleteAsync("churn-endpoint", null, null, default));
        Assert.Empty(fake.Violations);
    }

    [Theory]
    [InlineData("{\"dataframe_split\": {\"columns\": [\"a\"], \"data\": [[1]]}, \"params\": {\"k\": 1}}", "{\"input_data\":{\"columns\":[\"a\"],\"data\":[[1]]},\"params\":{\"k\":1}}")]
    [InlineData("{\"dataframe_records\": [{\"a\": 1, \"b\": \"x\"}, {\"b\": \"y\"}]}", "{\"input_data\":{\"columns\":[\"a\",\"b\"],\"index\":[0,1],\"data\":[[1,\"x\"],[null,\"y\"]]}}")]
    [InlineData("{\"instances\": [[1, 2]]}", "{\"input_data\":[[1,2]]}")]
    [InlineData("{\"inputs\": {\"x\": [1, 2]}}", "{\"input_data\":{\"x\":[1,2]}}")]
    public void MlflowRequests_MapOntoInputData(string mlflow, string azure) =>
        Assert.Equal(azure, Encoding.UTF8.GetString(AzureMLDeploymentTarget.ToAzureMLRequest(Encoding.UTF8.GetBytes(mlflow))));
}
