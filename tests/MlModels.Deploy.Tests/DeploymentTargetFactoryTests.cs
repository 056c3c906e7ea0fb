using MlModels.Deploy;

namespace MlModels.Deploy.Tests;

[Trait("Category", "Fast")]
public class DeploymentTargetFactoryTests
{
    [Fact]
    public void Create_UnknownTarget_NamesTheKnownOnes()
    {
        var factory = new DeploymentTargetFactory().Register("docker", _ => throw new NotSupportedException()).Register("azureml", _ => throw new NotSupportedException());
        var ex = Assert.Throws<ArgumentException>(() => factory.Create("kubernetes"));
        Assert.Contains("'kubernetes'", ex.Message);
        Assert.Contains("azureml, docker", ex.Message);
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
