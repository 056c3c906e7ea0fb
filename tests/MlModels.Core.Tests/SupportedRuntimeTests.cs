namespace MlModels.Core.Tests;

/// <summary>
/// The tests run on .NET 10 (PowerShell 7.6) and again on .NET 8, the runtime of PowerShell 7.4, the lowest the manifest
/// supports (build.ps1 runs the net8.0 build self-contained, so no .NET 8 install is needed).
/// </summary>
[Trait("Category", "Fast")]
public class SupportedRuntimeTests
{
    [Fact]
    public void Runs_OnTheRuntimeOfItsTargetFramework()
    {
#if NET10_0_OR_GREATER
        const int expected = 10;
#else
        const int expected = 8;
#endif
        Assert.Equal(expected, Environment.Version.Major);
        Assert.Equal(8, typeof(MlModels.Core.Format.MLModel).Assembly.GetCustomAttributes(typeof(System.Runtime.Versioning.TargetFrameworkAttribute), false)
            .Cast<System.Runtime.Versioning.TargetFrameworkAttribute>().Select(a => Version.Parse(a.FrameworkName.Split("Version=v")[1]).Major).Single());
    }
}
