using MlModels.Core.Format;

namespace MlModels.Core.Scoring;

/// <summary>What every scoring backend offers: plan the input columns, score a batch, score a tensor request.</summary>
public interface IScorer : IDisposable
{
    MLModel Model { get; }

    /// <summary>Which of the input's columns the model takes, in what order and as what type.</summary>
    IReadOnlyList<ColumnTarget> PlanColumns(IReadOnlyList<string> sourceNames, Action<string>? warn);

    /// <summary>Scores one batch of converted columns.</summary>
    Frame Predict(Frame input, IReadOnlyDictionary<string, object?>? parameters);

    /// <summary>Scores the tensor forms of an MLflow request (inputs/instances not given as records).</summary>
    object PredictTensors(ScoringRequest request, IReadOnlyDictionary<string, object?>? parameters);
}
