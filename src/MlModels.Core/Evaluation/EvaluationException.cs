namespace MlModels.Core.Evaluation;

/// <summary>
/// Data that MLflow's default evaluator (or the scikit-learn functions it calls) refuses: a missing or non-finite
/// target or prediction, labels that do not fit a binary classifier. Carries the place where it knows it.
/// </summary>
public sealed class EvaluationException(string message) : Exception(message)
{
    /// <summary>The 1-based row (in the order rows were added), when one row is at fault.</summary>
    public long? Row { get; init; }

    /// <summary>What in the row is at fault: "target", "prediction" or "probabilities".</summary>
    public string? Column { get; init; }
}
