namespace MlModels.Server.Tests;

/// <summary>The in-process server tests run on ASP.NET Core 10 and again on ASP.NET Core 8, what PowerShell 7.4's runtime brings.</summary>
[Trait("Category", "Fast")]
public class SupportedRuntimeTests
{
    [Fact]
    public void Runs_OnTheAspNetCoreOfItsTargetFramework()
    {
#if NET10_0_OR_GREATER
        const int expected = 10;
#else
        const int expected = 8;
#endif
        Assert.Equal(expected, Environment.Version.Major);
        Assert.Equal(expected, typeof(Microsoft.AspNetCore.Builder.WebApplication).Assembly.GetName().Version!.Major);
    }
}
