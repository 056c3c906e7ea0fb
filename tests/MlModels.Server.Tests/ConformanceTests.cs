using System.Collections.Concurrent;
using System.Net.Http.Headers;
using MlModels.Core.Format;
using MlModels.Core.Scoring.Python;
using MlModels.Core.Serving;

namespace MlModels.Server.Tests;

/// <summary>Servers for the corpus models, started once for the class (one Python worker each) and stopped at its end.</summary>
public sealed class CorpusServers : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<RunningServer>>> _servers = new();

    public Task<RunningServer> For(string modelDir) => _servers.GetOrAdd(modelDir, m => new Lazy<Task<RunningServer>>(() =>
        RunningServer.StartAsync(ModelStore.Load(m), new ServingOptions
        {
            Python = new PythonOptions(MlModels.Core.Tests.Prerequisites.DebianPython, EnvManager.Local, TimeSpan.FromSeconds(60)),
        }))).Value;

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers.Values.Where(l => l.IsValueCreated))
        {
            try { await (await s.Value).DisposeAsync(); } catch (Exception) { }
        }
    }
}

/// <summary>Every request of MLflow 2.12.2's scoring corpus, sent to this server, gets MLflow's answer.</summary>
public class ConformanceTests(CorpusServers servers) : IClassFixture<CorpusServers>
{
    public static TheoryData<string> CaseNames() => CorpusCases.Names(MlModels.Core.Tests.ScoringCorpus.Root);

    [Trait("Category", "Fast")]
    [Fact]
    public void Corpus_HasEveryRecordedCase() =>
        Assert.Equal(Directory.GetFiles(Path.Combine(MlModels.Core.Tests.ScoringCorpus.Root, "responses"), "*.json").Length, CaseNames().Count);

    [Trait("Category", "Python")]
    [SkippableTheory]
    [MemberData(nameof(CaseNames))]
    public async Task Server_AnswersAsMlflow(string name)
    {
        MlModels.Core.Tests.Prerequisites.Require(MlModels.Core.Tests.Prerequisites.PythonHas("sklearn, pandas, cloudpickle"), "python3-sklearn, python3-pandas and python3-cloudpickle (Debian)");
        await CorpusCases.AssertAnswersAsMlflow(servers, MlModels.Core.Tests.ScoringCorpus.Get(name));
    }
}

/// <summary>
/// MLflow 2.12.2's answers for models saved by its xgboost, pytorch and statsmodels modules (tests/conformance/flavors),
/// scored by the worker's own loaders: the test Python has the libraries but no MLflow. A model's cases go to one
/// server in the order MLflow was asked them, since a model can keep state between calls: a native xgboost Booster
/// saved without feature names takes the names of the first frame it is given, and MLflow's answers show that.
/// </summary>
public class FlavorConformanceTests(CorpusServers servers) : IClassFixture<CorpusServers>
{
    private static string Root => MlModels.Core.Tests.ScoringCorpus.Flavors;

    public static TheoryData<string> Models()
    {
        var d = new TheoryData<string>();
        foreach (var m in MlModels.Core.Tests.ScoringCorpus.Cases(Root).Select(c => c.Model).Distinct()) d.Add(m);
        return d;
    }

    [Trait("Category", "Fast")]
    [Fact]
    public void Corpus_HasEveryRecordedCase() =>
        Assert.Equal(Directory.GetFiles(Path.Combine(Root, "responses"), "*.json").Length, MlModels.Core.Tests.ScoringCorpus.Cases(Root).Count);

    [Trait("Category", "Python")]
    [SkippableTheory]
    [MemberData(nameof(Models))]
    public async Task Server_AnswersAsMlflow_InRecordedOrder(string model)
    {
        MlModels.Core.Tests.Prerequisites.Require(MlModels.Core.Tests.Prerequisites.PythonHas("xgboost, torch, statsmodels, pandas, cloudpickle"), "python3-xgboost, python3-torch, python3-statsmodels (Debian)");
        var cases = MlModels.Core.Tests.ScoringCorpus.Cases(Root).Where(c => c.Model == model).ToList();
        Assert.NotEmpty(cases);
        var failures = new List<string>();
        foreach (var c in cases)
        {
            try { await CorpusCases.AssertAnswersAsMlflow(servers, c); }
            catch (Xunit.Sdk.XunitException ex) { failures.Add(ex.Message); }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases differ from MLflow:\n" + string.Join("\n", failures));
    }
}

internal static class CorpusCases
{
    public static TheoryData<string> Names(string root)
    {
        var d = new TheoryData<string>();
        foreach (var c in MlModels.Core.Tests.ScoringCorpus.Cases(root)) d.Add(c.Name);
        return d;
    }

    public static async Task AssertAnswersAsMlflow(CorpusServers servers, MlModels.Core.Tests.ScoringCorpus.Case c)
    {
        var s = await servers.For(c.ModelDir);
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path);
        if (c.Body is byte[] body)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = null;
            // The header goes as MLflow's client sent it, unnormalised (case and parameters matter).
            if (c.ContentType != null) Assert.True(request.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType));
        }
        else if (c.ContentType != null)
        {
            request.Content = new ByteArrayContent([]);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
        }
        using var response = await s.Http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var why = MlModels.Core.Tests.ScoringCorpus.Compare(c.Expected, (int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), bytes);
        Assert.True(why == null, $"{c.Name}: {why}");
        // The server stays healthy whatever the request was.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
    }
}
