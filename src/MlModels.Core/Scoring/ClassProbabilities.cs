namespace MlModels.Core.Scoring;

/// <summary>
/// A classifier's probability per class for each row (row-major, <see cref="Rows"/> × <see cref="Classes"/>.Count),
/// with the class each column stands for (scikit-learn's <c>classes_</c> order).
/// </summary>
public sealed class ClassProbabilities(IReadOnlyList<object?> classes, double[] values, int rows)
{
    public IReadOnlyList<object?> Classes { get; } = classes;
    public double[] Values { get; } = values;
    public int Rows { get; } = rows;

    /// <summary>Row <paramref name="row"/>'s probabilities, one per class.</summary>
    public ReadOnlySpan<double> Row(int row) => Values.AsSpan(row * Classes.Count, Classes.Count);

    /// <summary>A 2-D array (rows × classes) the worker returned, converted to float64.</summary>
    public static ClassProbabilities From(Prediction values, IReadOnlyList<object?> classes)
    {
        if (values is not TensorPrediction { Tensor: { Shape.Length: 2 } t })
            throw new PredictionShapeException($"predict_proba returned a {values.Kind}, not a 2-D array of one probability per class.",
                PredictionShapeProblem.OutputNotPerRow);
        int rows = (int)t.Shape[0], k = (int)t.Shape[1];
        if (classes.Count != k)
            throw new PredictionShapeException(
                $"predict_proba returned {k} columns for {classes.Count} classes.",
                PredictionShapeProblem.OutputNotPerRow);
        var data = new double[rows * k];
        for (int i = 0; i < data.Length; i++) data[i] = Convert.ToDouble(t.Data.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
        return new ClassProbabilities(classes, data, rows);
    }
}

/// <summary>A prediction, with the class probabilities when the model gives them, else why it does not.</summary>
public sealed record ScoredWithProbabilities(Prediction Prediction, ClassProbabilities? Probabilities, string? NoProbabilitiesReason);

/// <summary>
/// A scorer that can give class probabilities beside its predictions in the same call, as MLflow's evaluator takes them
/// (the raw scikit-learn model's <c>predict_proba</c>).
/// </summary>
public interface IProbabilityScorer
{
    ScoredWithProbabilities PredictWithProbabilities(ModelInput input, IReadOnlyDictionary<string, object?>? parameters, CancellationToken ct);
}
