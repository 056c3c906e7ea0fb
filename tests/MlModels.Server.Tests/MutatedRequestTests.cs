using System.Net.Http.Headers;
using System.Text.Json;
using CsCheck;
using MlModels.Core.Tests;
using MlModels.Core.Tests.Robustness;

namespace MlModels.Server.Tests;

/// <summary>Thousands of mutated MLflow requests through a real HTTP client: none gets a 500, every error is MLflow's body.</summary>
[Trait("Category", "Fast")]
public class MutatedRequestTests
{
    private static List<byte[]> Bodies(Gen<string> valid, int count, uint stream)
    {
        var bodies = new List<byte[]>(count);
        var seeds = new PCG(stream, 0x5EED_2026UL + stream);
        var gen = Gens.Mutated(valid);
        for (int i = 0; i < count; i++) { gen.Sample(b => bodies.Add(b), seed: seeds.ToString(), iter: 1, threads: 1); seeds.Next64(); }
        return bodies;
    }

    [Theory]
    [InlineData("application/json", 2000)]
    [InlineData("text/csv", 1000)]
    public async Task MutatedRequests_NeverGetAnInternalError(string contentType, int count)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var bodies = Bodies(contentType == "text/csv" ? ScoringGens.Csv : ScoringGens.Request, count, contentType == "text/csv" ? 41u : 42u);
        var statuses = new Dictionary<int, int>();
        foreach (var body in bodies)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            using var r = await s.Http.PostAsync("/invocations", content);
            int status = (int)r.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(status is 200 or 400 or 413 or 415, $"{status} {text}\n{PropertyCheck.Show(body)}");
            if (status is 400 or 413)
            {
                // MLflow's two classes: unreadable input, or input that breaks the signature.
                using var doc = JsonDocument.Parse(text);
                Assert.Contains(doc.RootElement.GetProperty("error_code").GetString(), new[] { "BAD_REQUEST", "INVALID_PARAMETER_VALUE" });
            }
        }
        // The mutations must reach both outcomes, or the test is not testing the parser.
        Assert.True(statuses.GetValueOrDefault(200) > count / 100 && statuses.GetValueOrDefault(400) > count / 100, string.Join(", ", statuses));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await s.Http.GetAsync("/ping")).StatusCode);
    }
}
