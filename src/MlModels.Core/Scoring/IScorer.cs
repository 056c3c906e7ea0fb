using MlModels.Core.Format;

namespace MlModels.Core.Scoring;

/// <summary>What every scoring backend offers: plan a table's columns, and run the model on an input it was given.</summary>
public interface IScorer : IDisposable
{
    MLModel Model { get; }

    /// <summary>
    /// True when the backend feeds a DataFrame's columns to the model itself (mlflow.onnx stacks them into its graph
    /// inputs), so a tensor signature does not turn tables into arrays first.
    /// </summary>
    bool FeedsFrames { get; }

    /// <summary>Which of the input's columns the model takes, in what order and as what type.</summary>
    IReadOnlyList<ColumnTarget> PlanColumns(IReadOnlyList<string> sourceNames, Action<string>? warn);

    /// <summary>Runs the model on an input that has been parsed and checked against its schema.</summary>
    Prediction Predict(ModelInput input, IReadOnlyDictionary<string, object?>? parameters);

    /// <summary>
    /// The same, stopping with <see cref="OperationCanceledException"/> when the token is cancelled, where the backend
    /// can stop a run part-way (ONNX Runtime between graph nodes); others run to the end.
    /// </summary>
    Prediction Predict(ModelInput input, IReadOnlyDictionary<string, object?>? parameters, CancellationToken ct) => Predict(input, parameters);
}
