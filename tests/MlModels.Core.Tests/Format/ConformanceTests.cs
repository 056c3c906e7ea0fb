using MlModels.Core.Format;
using MlModels.Core.Format.Yaml;

namespace MlModels.Core.Tests.Format;

/// <summary>Walks every real MLmodel folder written by MLflow 0.x to 3.x.</summary>
[Trait("Category", "Fast")]
public class ConformanceTests
{
    public static TheoryData<string> Folders()
    {
        var data = new TheoryData<string>();
        foreach (var d in Directory.GetDirectories(TestPaths.Conformance).OrderBy(d => d, StringComparer.Ordinal))
            data.Add(Path.GetFileName(d));
        return data;
    }

    [Fact]
    public void Corpus_IsPresentAndLarge()
    {
        Assert.True(Directory.Exists(TestPaths.Conformance), $"conformance corpus not found at {TestPaths.Conformance}");
        Assert.True(Directory.GetDirectories(TestPaths.Conformance).Length >= 50);
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void Folder_LoadsRoundTripsAndValidates(string name)
    {
        var dir = Path.Combine(TestPaths.Conformance, name);
        if (name.Contains("negative", StringComparison.Ordinal))
        {
            var ex = Assert.ThrowsAny<MLModelFormatException>(() => ModelStore.Load(dir));
            Assert.Contains(Path.Combine(dir, "MLmodel"), ex.Message);
            return;
        }

        var model = ModelStore.Load(dir);
        Assert.NotEmpty(model.FlavorNames);

        // Semantic round-trip: what we write reads back as the same tree, and as the same typed model.
        var yaml = model.ToYaml();
        var again = ModelStore.Parse(yaml);
        Assert.True(PlainValues.DeepEquals(model.ToDictionary(), again.ToDictionary()), $"round-trip changed {name}:\n{yaml}");
        Assert.Equal(model.Signature?.ToJson(), again.Signature?.ToJson());
        Assert.Equal(model.UtcTimeCreated, again.UtcTimeCreated);

        // Saving elsewhere keeps every file and every field.
        var target = Path.Combine(TestPaths.NewTempDir(), "m");
        var saved = ModelStore.Save(model, target);
        var sourceFiles = Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order().ToList();
        var savedFiles = Directory.GetFiles(target, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(target, f)).Order().ToList();
        Assert.Equal(sourceFiles, savedFiles);
        Assert.True(PlainValues.DeepEquals(model.ToDictionary(), ModelStore.Load(target).ToDictionary()));

        // The verdict is honest: every path a flavor names that is absent is reported, nothing present is.
        var result = ModelValidator.Validate(model);
        foreach (var (flavorName, flavor) in model.Flavors)
            foreach (var (key, value) in flavor.Attributes)
            {
                if (!ModelValidator.PathAttributes.Contains(key) || value is not string rel) continue;
                var field = $"flavors.{flavorName}.{key}";
                bool outside = Path.IsPathRooted(rel) || rel.Contains("..");
                bool exists = !outside && (File.Exists(Path.Combine(dir, rel)) || Directory.Exists(Path.Combine(dir, rel)));
                Assert.Equal(!exists, result.Findings.Any(f => f.Field == field && f.Severity == FindingSeverity.Error));
            }
        Assert.Equal(result.Findings.All(f => f.Severity != FindingSeverity.Error), result.IsValid);
    }

    [Fact]
    public void MLmodelVariants_LoadOrFailWithLine()
    {
        var dir = Directory.GetDirectories(TestPaths.Conformance, "004-*").Single();
        foreach (var file in Directory.GetFiles(dir, "MLmodel*"))
        {
            if (file.EndsWith("databricks_runtime", StringComparison.Ordinal))
            {
                var ex = Assert.Throws<MLModelFormatException>(() => ModelStore.Load(file));
                Assert.Equal(10, ex.Line);
                Assert.Contains("line 10", ex.Message);
            }
            else Assert.NotEmpty(ModelStore.Load(file).FlavorNames);
        }
    }
}
