using System.Text;
using MlModels.Core.Tests;
using MlModels.Deploy.AzureML;

namespace MlModels.Deploy.Tests.AzureML;

[Trait("Category", "Fast")]
public class AzureMLDeploymentTargetTests
{
    private static (IDeploymentTarget Target, ArmFake Fake) Setup()
    {
        var fake = new ArmFake();
        var arm = new ArmClient(ArmFake.ArmBase, new StaticTokenCredential(ArmFake.Token), "https://management.fake.test/.default", fake, new FastTime());
        var client = new AzureMLClient(arm, new AzureMLWorkspace(ArmFake.Sub, ArmFake.Rg, ArmFake.WsName));
        var uploader = new DatastoreUploader(client, new StaticTokenCredential(ArmFake.Token)) { BlobServiceUri = new Uri($"https://{ArmFake.BlobHost}/"), Transport = new HttpClient(fake, false) };
        var deployer = new AzureMLDeployer(client, uploader, new StaticTokenCredential(ArmFake.Token), "https://management.fake.test/.default", fake);
        return (DeploymentTargetFactory.Default.Create("azureml", new AzureMLTargetSettings(Connection: null) { Deployer = deployer }), fake);
    }

    [Fact]
    public async Task TheFactoryTarget_CreatesGetsListsPredictsAndDeletes()
    {
        var (created0, fake) = Setup();
        using var target = created0;
        var request = new AzureMLPublishRequest(Path.Combine(TestPaths.Examples, "pyfunc-custom"), "churn-endpoint") { InstanceCount = 2 };
        var plan = await target.PlanAsync(request, default);
        Assert.Contains(plan.Calls, c => c.Contains("/onlineEndpoints/churn-endpoint/deployments/blue", StringComparison.Ordinal));
        Assert.Empty(fake.Calls);
        var created = await target.CreateAsync(request, null, default);
        Assert.Equal(("churn-endpoint", "azureml", "Succeeded"), (created.Name, created.Target, created.Status));
        Assert.Equal(new Uri("https://churn-endpoint.eastus.inference.fake.test/score"), created.ScoringUri);
        Assert.Equal("churn-endpoint", Assert.IsType<AzureMLEndpoint>(Assert.Single(await target.ListAsync(default)).Own).Name);
        Assert.NotNull(await target.GetAsync("churn-endpoint", default));

        // An MLflow dataframe_records request reaches the endpoint in Azure ML's input_data form.
        var answer = await target.PredictAsync("churn-endpoint", new PredictionRequest(Encoding.UTF8.GetBytes("{\"dataframe_records\": [{\"a\": 1}, {\"a\": 2.5}]}"), "application/json"), null, default);
        Assert.Equal("[2,5]", Encoding.UTF8.GetString(answer.Body.Span));

        Assert.True((await target.DeleteAsync(new AzureMLDeleteOptions("churn-endpoint"), null, default)).Found);
        Assert.Null(await target.GetAsync("churn-endpoint", default));
        Assert.False((await target.DeleteAsync(new AzureMLDeleteOptions("churn-endpoint"), null, default)).Found);
        Assert.Empty(fake.Violations);
    }
}
