namespace MlModels.Core.Scoring;

/// <summary>Why a prediction cannot take the form asked of it; each has its way around, which the caller names.</summary>
public enum PredictionShapeProblem
{
    /// <summary>The result is not one value per row, so it has no table (CSV) form; JSON holds it.</summary>
    NoTableForm,
    /// <summary>Batches returned results that cannot be joined; scoring the input in one batch avoids it.</summary>
    BatchesDiffer,
    /// <summary>A graph output is not one row per input row; a JSON request with 'inputs' returns the raw tensor.</summary>
    OutputNotPerRow,
}

/// <summary>A prediction that cannot take the form asked of it (a table, one result across batches).</summary>
public sealed class PredictionShapeException(string message, PredictionShapeProblem problem) : InvalidOperationException(message)
{
    public PredictionShapeProblem Problem { get; } = problem;
}
