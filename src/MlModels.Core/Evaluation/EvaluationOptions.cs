using MlModels.Core.Format;

namespace MlModels.Core.Evaluation;

/// <summary>MLflow's <c>model_type</c> values that its default evaluator computes metrics for.</summary>
public enum EvaluationModelType { Regressor, Classifier }

/// <summary>What <c>mlflow.evaluate</c> is told besides the model and the data.</summary>
public sealed record EvaluationOptions
{
    public required EvaluationModelType ModelType { get; init; }
    /// <summary>The column of the data that holds the targets (MLflow's <c>targets</c>); it is not given to the model.</summary>
    public required string Target { get; init; }
    /// <summary>The positive class of a binary classifier (MLflow's <c>pos_label</c>); null: the last of the sorted labels.</summary>
    public string? PositiveLabel { get; init; }
    /// <summary>
    /// For models that return several columns: the one that holds the prediction (MLflow's <c>predictions</c>); null: the
    /// only column, else <c>prediction</c>, <c>label</c>, <c>output_label</c>, else the first.
    /// </summary>
    public string? PredictionColumn { get; init; }
    /// <summary>
    /// The output of an ONNX classifier that holds one probability per class; null: <c>probabilities</c> or
    /// <c>output_probability</c> (skl2onnx's names) when the model has one.
    /// </summary>
    public string? ProbabilityOutput { get; init; }
    public IReadOnlyDictionary<string, object?>? Params { get; init; }
    /// <summary>Keep a sample of a regressor's rows for its plots (only when the plots are drawn).</summary>
    public bool KeepSample { get; init; } = true;
    /// <summary>Where the per-row table goes (inputs, target, prediction), or null.</summary>
    public EvalTableWriter? Table { get; init; }
}

/// <summary>One model's metrics, with what the plots are drawn from.</summary>
public sealed record ModelMetrics(MLModel Model, IReadOnlyDictionary<string, double> Metrics, ClassifierMetrics? Classifier,
    RegressionSample? Regression);

/// <summary>The outcome of an evaluation: the candidate's metrics, the baseline's, and the rows they came from.</summary>
public sealed record EvaluationOutcome(ModelMetrics Candidate, ModelMetrics? Baseline, long RowCount);
