using MlModels.Deploy.Docker;

namespace MlModels.Deploy.Tests.Docker;

[Trait("Category", "Fast")]
public class ImageReferenceTests
{
    [Theory]
    [InlineData("m", null, "m", null)]
    [InlineData("m:1", null, "m", "1")]
    [InlineData("team/m:v1.2-rc_3", null, "team/m", "v1.2-rc_3")]
    [InlineData("localhost/m", "localhost", "m", null)]
    [InlineData("127.0.0.1:5000/team/m:2", "127.0.0.1:5000", "team/m", "2")]
    [InlineData("registry.example.com/a/b/c:latest", "registry.example.com", "a/b/c", "latest")]
    public void Parse_SplitsRegistryRepositoryAndTag(string text, string? registry, string repository, string? tag)
    {
        var r = ImageReference.Parse(text);
        Assert.Equal((registry, repository, tag), (r.Registry, r.Repository, r.Tag));
        Assert.Equal(text, r.ToString());
    }

    [Fact]
    public void Parse_KeepsADigest_AndDefaultsTheTagToLatest()
    {
        var digest = "sha256:" + new string('a', 64);
        Assert.Equal(digest, ImageReference.Parse("m@" + digest).Digest);
        Assert.Equal("m:latest", ImageReference.Parse("m").WithDefaultTag().ToString());
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Model:1", "'Model'")]
    [InlineData("m:-1", "tag '-1'")]
    [InlineData("m:a/b", "registry 'm:a'")]
    [InlineData("team//m", "''")]
    [InlineData("m_:1", "'m_'")]
    [InlineData("m@sha256:short", "digest")]
    [InlineData("bad_host.example.com:x/m", "registry")]
    public void Parse_RefusesInvalidNames_SayingWhichPart(string text, string part)
    {
        var ex = Assert.Throws<ArgumentException>(() => ImageReference.Parse(text));
        Assert.Contains(part, ex.Message);
    }
}
