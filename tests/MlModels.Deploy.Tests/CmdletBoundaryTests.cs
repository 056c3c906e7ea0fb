using MlModels.Core.Tests;

namespace MlModels.Deploy.Tests;

/// <summary>
/// The cmdlets bind parameters and write objects; the deploy cmdlets reach their target through the factory, and no
/// cmdlet file holds HTTP or JSON code of its own (that lives in MlModels.Deploy, with tests over recorded bodies).
/// </summary>
[Trait("Category", "Fast")]
public class CmdletBoundaryTests
{
    private static readonly string Cmdlets = Path.Combine(TestPaths.RepoRoot, "src", "MlModels.PowerShell");

    /// <summary>What only Deploy (or Core) may do: wire protocols, JSON, and deployers reached around the factory.</summary>
    private static readonly string[] Forbidden =
    [
        "new HttpClient", "HttpRequestMessage", "Utf8JsonWriter", "JsonDocument.Parse", "JsonNode.Parse", "JsonSerializer.",
        "new SageMakerDeployer", "new SageMakerRuntimeClient", "new SageMakerTransforms", "AzureMLConnection.Open", ".Deployer",
        "new ContainerRunner", "Message.Contains(",
    ];

    public static TheoryData<string> CmdletFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Cmdlets, "*.cs", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var rel = Path.GetRelativePath(Cmdlets, f);
            if (!rel.StartsWith("obj", StringComparison.Ordinal) && !rel.StartsWith("bin", StringComparison.Ordinal)) data.Add(rel);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CmdletFiles))]
    public void ACmdletFile_HoldsNoWireProtocol_AndGoesThroughTheFactory(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(Cmdlets, file));
        var found = lines.Select((l, i) => (Line: l, No: i + 1))
            .Where(x => !x.Line.TrimStart().StartsWith("//", StringComparison.Ordinal) && !x.Line.TrimStart().StartsWith("///", StringComparison.Ordinal))
            .SelectMany(x => Forbidden.Where(f => x.Line.Contains(f, StringComparison.Ordinal)).Select(f => $"{file}:{x.No}: {f}"))
            .ToList();
        Assert.True(found.Count == 0, string.Join(Environment.NewLine, found));
    }

    [Fact]
    public void EveryDeployCmdletBase_AsksTheFactoryForItsTarget()
    {
        foreach (var name in new[] { "AwsCmdlet.cs", "AzureMLCmdlet.cs", "DockerCmdlet.cs", "KubernetesCmdlet.cs" })
        {
            // Whitespace aside: the formatter may wrap the call.
            var code = string.Concat(File.ReadAllText(Path.Combine(Cmdlets, "Internal", name)).Where(c => !char.IsWhiteSpace(c)));
            Assert.Contains("DeploymentTargetFactory.Default.Create<", code, StringComparison.Ordinal);
        }
    }
}
