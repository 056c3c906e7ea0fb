using MlModels.Deploy;
using MlModels.Deploy.AzureML;
using MlModels.Deploy.Docker;
using MlModels.Deploy.SageMaker;

namespace MlModels.Deploy.Tests;

[Trait("Category", "Fast")]
public class DeploymentTargetFactoryTests
{
    [Fact]
    public void Create_UnknownTarget_NamesTheKnownOnes()
    {
        var factory = new DeploymentTargetFactory().Register("docker", _ => throw new NotSupportedException()).Register("azureml", _ => throw new NotSupportedException());
        var ex = Assert.Throws<ArgumentException>(() => factory.Create("kubernetes", new DockerTargetSettings()));
        Assert.Contains("'kubernetes'", ex.Message);
        Assert.Contains("azureml, docker", ex.Message);
    }

    [Fact]
    public void Default_KnowsEveryTarget_AndRefusesAnotherTargetsSettings()
    {
        Assert.Equal(["azureml", "docker", "kubernetes", "sagemaker"], DeploymentTargetFactory.Default.Names.Order());
        using var docker = DeploymentTargetFactory.Default.Create("docker", new DockerTargetSettings("unix:///nowhere.sock"));
        Assert.IsType<DockerDeploymentTarget>(docker);
        var wrong = Assert.Throws<ArgumentException>(() => DeploymentTargetFactory.Default.Create("azureml", new DockerTargetSettings()));
        Assert.Contains("AzureMLTargetSettings", wrong.Message);
        var notThat = Assert.Throws<InvalidOperationException>(() =>
            DeploymentTargetFactory.Default.Create<SageMakerDeploymentTarget>("docker", new DockerTargetSettings()));
        Assert.Contains("SageMakerDeploymentTarget", notThat.Message);
    }

    [Fact]
    public async Task ATarget_RefusesAnotherTargetsOptions()
    {
        using var docker = DeploymentTargetFactory.Default.Create("docker", new DockerTargetSettings());
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => docker.PlanAsync(new AzureMLPublishRequest("m", "e"), default));
        Assert.Contains("DockerDeploymentOptions", ex.Message);
    }

    [Fact]
    public async Task LongWait_PollsUntilDone_AndTimesOutNamingTheWork()
    {
        var polls = 0;
        var value = await LongWait.UntilAsync("endpoint e1", _ => Task.FromResult(++polls < 3 ? PollResult<int>.Pending("Creating") : PollResult<int>.Finished("InService", 42)),
            TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10), null, CancellationToken.None);
        Assert.Equal((42, 3), (value, polls));

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => LongWait.UntilAsync("endpoint e2", _ => Task.FromResult(PollResult<int>.Pending("Updating")),
            TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(50), null, CancellationToken.None));
        Assert.Contains("endpoint e2", ex.Message);
        Assert.Contains("Updating", ex.Message);
    }
}
