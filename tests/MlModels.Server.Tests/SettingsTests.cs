using MlModels.Server;

namespace MlModels.Core.Tests;

public class SettingsTests
{
    [Fact]
    public void Defaults_AreThoseOfMlflowModelsServe()
    {
        var s = ServerSettings.Parse(["--model", "/m"]);
        Assert.Equal("127.0.0.1", s.Options.Host);
        Assert.Equal(5000, s.Options.Port);
        Assert.Equal(TimeSpan.FromSeconds(60), s.Options.Timeout);
        Assert.Equal("/m", s.ModelPath);
    }

    [Fact]
    public void Serve_FollowsSageMakersContainerContract()
    {
        var s = ServerSettings.Parse(["serve"]);
        Assert.Equal("/opt/ml/model", s.ModelPath);
        Assert.Equal("0.0.0.0", s.Options.Host);
        Assert.Equal(8080, s.Options.Port);
    }

    [Fact]
    public void BadArguments_SayHowToCallIt()
    {
        Assert.Contains("Usage", Assert.Throws<ArgumentException>(() => ServerSettings.Parse(["--model", "/m", "--bogus"])).Message);
        Assert.Contains("--model", Assert.Throws<ArgumentException>(() => ServerSettings.Parse([])).Message);
    }
}
