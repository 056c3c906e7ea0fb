using MlModels.Core.Serving;

namespace MlModels.Core.Tests.Serving;

[Trait("Category", "Fast")]
public class ServerCommandLineTests
{
    [Fact]
    public void Defaults_AreThoseOfMlflowModelsServe()
    {
        var s = ServerCommandLine.Parse(["--model", "/m"]);
        Assert.Equal("127.0.0.1", s.Host);
        Assert.Equal(5000, s.Port);
        Assert.Equal(TimeSpan.FromSeconds(60), s.Timeout);
        Assert.Equal("/m", s.ModelPath);
        Assert.False(s.WatchStdin);
        Assert.Null(s.LogFile);
    }

    [Fact]
    public void Serve_FollowsSageMakersContainerContract()
    {
        var s = ServerCommandLine.Parse(["serve"]);
        Assert.Equal("/opt/ml/model", s.ModelPath);
        Assert.Equal("0.0.0.0", s.Host);
        Assert.Equal(8080, s.Port);
    }

    [Fact]
    public void Serve_ListensOnAzureMLsPort_WhenMlmodelsServePortSaysSo_AndSageMakersPortWins()
    {
        // In this class, so it never runs beside the test above that reads the default (xUnit runs a class's tests one at a time).
        try
        {
            Environment.SetEnvironmentVariable(ServerCommandLine.ServePortVariable, "5001");
            Assert.Equal(5001, ServerCommandLine.Parse(["serve"]).Port);
            Environment.SetEnvironmentVariable("SAGEMAKER_BIND_TO_PORT", "8081");
            Assert.Equal(8081, ServerCommandLine.Parse(["serve"]).Port);
            Environment.SetEnvironmentVariable("SAGEMAKER_BIND_TO_PORT", null);
            Environment.SetEnvironmentVariable(ServerCommandLine.ServePortVariable, "99999");
            Assert.Equal(8080, ServerCommandLine.Parse(["serve"]).Port);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ServerCommandLine.ServePortVariable, null);
            Environment.SetEnvironmentVariable("SAGEMAKER_BIND_TO_PORT", null);
        }
    }

    [Fact]
    public void Serve_InAGenericPythonImage_MakesTheMountedModelsEnvironment_UnlessTurnedOff()
    {
        // In this class, so it never runs beside the test above that reads the default.
        try
        {
            Environment.SetEnvironmentVariable(ServerCommandLine.ServeEnvManagerVariable, "virtualenv");
            var s = ServerCommandLine.Parse(["serve"]);
            Assert.Equal(MlModels.Core.Scoring.Python.EnvManager.VirtualEnv, s.EnvManager);
            Assert.Equal(MlModels.Core.Scoring.Python.EnvManager.VirtualEnv, s.ToServingOptions(null).Python!.EnvManager);
            Environment.SetEnvironmentVariable(ServerCommandLine.InstallRequirementsVariable, "0");
            Assert.Equal(MlModels.Core.Scoring.Python.EnvManager.Local, ServerCommandLine.Parse(["serve"]).EnvManager);
            Assert.Throws<ArgumentException>(() => ServerCommandLine.Parse(["--model", "/m", "--env-manager", "pipenv"]));
        }
        finally
        {
            Environment.SetEnvironmentVariable(ServerCommandLine.ServeEnvManagerVariable, null);
            Environment.SetEnvironmentVariable(ServerCommandLine.InstallRequirementsVariable, null);
        }
    }

    [Fact]
    public void For_WritesTheArgumentsParseReadsBack()
    {
        var settings = new ServerSettings
        {
            ModelPath = "/models/my model", Host = "0.0.0.0", Port = 8081, Timeout = TimeSpan.FromSeconds(2.5), Workers = 4, MaxBodyMB = 0.5,
            Threads = 3, PythonPath = "/usr/bin/python3", WatchStdin = true, LogFile = "/tmp/server.log", Detach = true,
            EnvManager = MlModels.Core.Scoring.Python.EnvManager.VirtualEnv,
        };
        Assert.Equal(settings, ServerCommandLine.Parse(ServerCommandLine.For(settings)));
        Assert.Equal(new ServerSettings { ModelPath = "/m" }, ServerCommandLine.Parse(ServerCommandLine.For(new ServerSettings { ModelPath = "/m" })));
    }

    [Fact]
    public void Command_IsTheHostTheServerAndItsArguments()
    {
        var command = ServerCommandLine.Command("/opt/mlmodels/MlModels.Server.dll", new ServerSettings { ModelPath = "/opt/ml/model", Host = "0.0.0.0", Port = 8080 });
        Assert.Equal(["dotnet", "/opt/mlmodels/MlModels.Server.dll", "--model", "/opt/ml/model", "--host", "0.0.0.0", "--port", "8080"], command.Take(8));
        Assert.DoesNotContain("--watch-stdin", command);
    }

    [Fact]
    public void ServingOptions_TakeTheKeyFromOutsideTheCommandLine()
    {
        var options = new ServerSettings { ModelPath = "/m", MaxBodyMB = 2, Timeout = TimeSpan.FromSeconds(7) }.ToServingOptions("k");
        Assert.Equal("k", options.ApiKey);
        Assert.Equal(2L * 1024 * 1024, options.MaxBodyBytes);
        Assert.Equal(TimeSpan.FromSeconds(7), options.Python!.PredictTimeout);
        Assert.Null(new ServerSettings().ToServingOptions("").ApiKey);
        Assert.DoesNotContain("k", ServerCommandLine.For(new ServerSettings { ModelPath = "/m" }));
    }

    [Theory]
    [InlineData(new[] { "--model", "/m", "--bogus" }, "Unknown argument '--bogus'")]
    [InlineData(new string[0], "--model")]
    [InlineData(new[] { "--model", "/m", "--port" }, "--port needs a value")]
    [InlineData(new[] { "--model", "/m", "--port", "http" }, "--port takes a whole number, not 'http'")]
    [InlineData(new[] { "--model", "/m", "--port", "70000" }, "from 0 to 65535")]
    [InlineData(new[] { "--model", "/m", "--timeout", "-1" }, "--timeout takes a positive number")]
    public void BadArguments_SayWhatIsWrongAndHowToCallIt(string[] args, string expected)
    {
        var message = Assert.Throws<ArgumentException>(() => ServerCommandLine.Parse(args)).Message;
        Assert.Contains(expected, message);
        Assert.Contains("Usage: MlModels.Server --model DIR", message);
    }
}
