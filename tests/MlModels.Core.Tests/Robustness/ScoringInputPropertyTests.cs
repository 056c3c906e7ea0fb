using System.Text;
using CsCheck;
using MlModels.Fuzz;

namespace MlModels.Core.Tests.Robustness;

/// <summary>
/// MLflow JSON requests and CSV bodies against the scoring service of a small ONNX model (columns x1, x2, x3):
/// valid ones score (200); mutated ones get 200, 400, 413 or 415 with MLflow's error body, never 500.
/// </summary>
[Trait("Category", "Fast")]
public class ScoringInputPropertyTests
{
    [Fact]
    public void JsonRequest_Valid_Scores() =>
        PropertyCheck.ForAll(ScoringGens.Request, r =>
        {
            var response = Targets.Serve("application/json", Encoding.UTF8.GetBytes(r));
            Assert.True(response.Status == 200, $"{response.Status}: {Encoding.UTF8.GetString(response.Body)}");
        }, 800, 21, r => r);

    [Fact]
    public void JsonRequest_Mutated_NeverAnInternalError() =>
        PropertyCheck.ForAll(Gens.Mutated(ScoringGens.Request), Targets.Request, 2000, 22, PropertyCheck.Show);

    [Fact]
    public void Csv_Valid_ScoresWithRepeatedNamesRenamedAsPandasDoes() =>
        PropertyCheck.ForAll(ScoringGens.Csv, c =>
        {
            var response = Targets.Serve("text/csv", Encoding.UTF8.GetBytes(c));
            Assert.True(response.Status == 200, $"{response.Status}: {Encoding.UTF8.GetString(response.Body)}");
        }, 800, 23, c => c);

    [Fact]
    public void Csv_Mutated_NeverAnInternalError() =>
        PropertyCheck.ForAll(Gens.Mutated(ScoringGens.Csv), Targets.Csv, 2000, 24, PropertyCheck.Show);
}
