using System.Net.Http.Headers;
using MlModels.Core.Format;
using MlModels.Core.Tests;
using MlModels.Deploy.Docker;
using MlModels.Deploy.SageMaker;

namespace MlModels.Deploy.Tests.Docker;

/// <summary>
/// An image of an xgboost model saved by MLflow (tests/conformance/flavors), built on the CI Python base (Debian's
/// xgboost and what the model pins; no MLflow, no package index), answers every recorded case as MLflow did: run as
/// a container, then as SageMaker's run-local runs it (the model mounted at /opt/ml/model, SageMaker's environment).
/// </summary>
[Trait("Category", "Docker")]
public class FlavorImageTests
{
    [SkippableFact]
    public async Task XgboostModelImage_AnswersAsMlflow_InAContainerAndUnderSageMakersRunLocal()
    {
        using var engine = await DockerEngineTests.EngineAsync();
        var model = ModelStore.Load(ScoringCorpus.ModelDir("xgb-regressor", ScoringCorpus.Flavors));
        var work = TestPaths.NewTempDir();
        var tag = ImageReference.Parse($"mlmodels-test/xgb-regressor:{Guid.NewGuid():N}");
        try
        {
            var ctx = DockerContextWriter.Write(model, Path.Combine(work, "ctx"), new DockerContextOptions
            {
                ServerDirectory = AppContext.BaseDirectory, BaseImage = DockerEngineTests.Env("MLMODELS_TEST_PYTHON_BASE"), DotnetImage = DockerEngineTests.Env("MLMODELS_TEST_DOTNET_BASE"),
            });
            Assert.Equal(PythonLoader.Builtin, ctx.Loader);
            var image = await new ImageBuilder(engine).BuildAsync(ctx.Path, [tag], null, CancellationToken.None);
            Assert.Equal("builtin", image.Labels["mlmodels.python.loader"]);

            var runner = new ContainerRunner(engine);
            foreach (var options in (ContainerRunOptions[])[
                new ContainerRunOptions { Image = tag.ToString(), StartTimeout = TimeSpan.FromSeconds(120) },
                SageMakerImages.LocalRun(model, tag.ToString(), 0, null) with { StartTimeout = TimeSpan.FromSeconds(120) }])
            {
                var container = await runner.StartAsync(options, null, CancellationToken.None);
                try { await AssertCorpusAnswers(container.Url!, "xgb-regressor", await runner.LogsAsync(container.Id, 40, CancellationToken.None)); }
                catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
                {
                    var logs = string.Join("\n", await runner.LogsAsync(container.Id, 40, CancellationToken.None));
                    throw new InvalidOperationException($"{ex.Message}\nContainer logs:\n{logs}", ex);
                }
                finally { await runner.StopAsync(container.Id, keep: false, TimeSpan.FromSeconds(10), CancellationToken.None); }
            }
        }
        finally
        {
            try { await engine.Client.Images.DeleteImageAsync(tag.ToString(), new global::Docker.DotNet.Models.ImageDeleteParameters { Force = true }, CancellationToken.None); } catch (Exception) { }
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// The generic Python image (SageMaker's bring-your-own-container path): the model is mounted, and the server
    /// makes its environment at start (a cached virtual environment over the image's packages, pip's work logged).
    /// </summary>
    [SkippableFact]
    public async Task GenericPythonImage_MakesTheMountedModelsEnvironmentAtStart_AndAnswersAsMlflow()
    {
        using var engine = await DockerEngineTests.EngineAsync();
        var model = ModelStore.Load(ScoringCorpus.ModelDir("xgb-regressor", ScoringCorpus.Flavors));
        var work = TestPaths.NewTempDir();
        var tag = ImageReference.Parse($"mlmodels-test/generic-python:{Guid.NewGuid():N}");
        try
        {
            var ctx = DockerContextWriter.Write(null, Path.Combine(work, "ctx"), new DockerContextOptions
            {
                Generic = true, PythonVersion = "3.11", ServerDirectory = AppContext.BaseDirectory,
                BaseImage = DockerEngineTests.Env("MLMODELS_TEST_PYTHON_BASE"), DotnetImage = DockerEngineTests.Env("MLMODELS_TEST_DOTNET_BASE"),
            });
            Assert.Contains("MLMODELS_SERVE_ENV_MANAGER=virtualenv", File.ReadAllText(ctx.Dockerfile));
            await new ImageBuilder(engine).BuildAsync(ctx.Path, [tag], null, CancellationToken.None);
            var runner = new ContainerRunner(engine);
            var container = await runner.StartAsync(SageMakerImages.LocalRun(model, tag.ToString(), 0, null) with { StartTimeout = TimeSpan.FromSeconds(180) }, null, CancellationToken.None);
            try
            {
                await AssertCorpusAnswers(container.Url!, "xgb-regressor", []);
                var logs = await runner.LogsAsync(container.Id, 400, CancellationToken.None);
                Assert.Contains(logs, l => l.Contains("environment: Creating virtual environment /tmp/mlmodels-envs/virtualenv-"));
                Assert.Contains(logs, l => l.Contains("xgboost==1.7.4"));
            }
            finally { await runner.StopAsync(container.Id, keep: false, TimeSpan.FromSeconds(10), CancellationToken.None); }
        }
        finally
        {
            try { await engine.Client.Images.DeleteImageAsync(tag.ToString(), new global::Docker.DotNet.Models.ImageDeleteParameters { Force = true }, CancellationToken.None); } catch (Exception) { }
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Every recorded case of the model, in recorded order; each request has a deadline, so a container that stops answering fails the test.</summary>
    private static async Task AssertCorpusAnswers(Uri url, string model, IReadOnlyList<string> startLogs)
    {
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        var failures = new List<string>();
        var cases = ScoringCorpus.Cases(ScoringCorpus.Flavors).Where(c => c.Model == model).ToList();
        Assert.True(cases.Count >= 14);
        foreach (var c in cases)
        {
            using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path.TrimStart('/'));
            if (c.Body is byte[] body)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = null;
                if (c.ContentType != null) request.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
            }
            using var response = await http.SendAsync(request);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            if (ScoringCorpus.Compare(c.Expected, (int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), bytes) is string why) failures.Add($"{c.Name}: {why}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\nContainer start log:\n" + string.Join("\n", startLogs));
    }
}
