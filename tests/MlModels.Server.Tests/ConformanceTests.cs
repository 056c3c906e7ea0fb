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

    public Task<RunningServer> For(string model) => _servers.GetOrAdd(model, m => new Lazy<Task<RunningServer>>(() =>
        RunningServer.StartAsync(ModelStore.Load(MlModels.Core.Tests.ScoringCorpus.ModelDir(m)), new ServingOptions
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
    public static TheoryData<string> CaseNames()
    {
        var d = new TheoryData<string>();
        foreach (var c in MlModels.Core.Tests.ScoringCorpus.Cases()) d.Add(c.Name);
        return d;
    }

    [Fact]
    public void Corpus_HasEveryRecordedCase() =>
        Assert.Equal(Directory.GetFiles(Path.Combine(MlModels.Core.Tests.ScoringCorpus.Root, "responses"), "*.json").Length, CaseNames().Count);

    [SkippableTheory]
    [MemberData(nameof(CaseNames))]
    public async Task Server_AnswersAsMlflow(string name)
    {
        MlModels.Core.Tests.Prerequisites.Require(MlModels.Core.Tests.Prerequisites.PythonHas("sklearn, pandas, cloudpickle"), "python3-sklearn, python3-pandas and python3-cloudpickle (Debian)");
        var c = MlModels.Core.Tests.ScoringCorpus.Get(name);
        var s = await servers.For(c.Model);
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
        Assert.True(why == null, $"{name}: {why}");
        // The server stays healthy whatever the request was.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
    }
}
