namespace MlModels.Core.Evaluation;

/// <summary>
/// Counts of rows by target (row) and prediction (column), over the labels of both in np.unique's order, as
/// scikit-learn's confusion_matrix(y_true, y_pred) gives them.
/// </summary>
/// <param name="Labels">The labels of the rows and of the columns.</param>
/// <param name="Counts">Counts[target, prediction].</param>
public sealed record ConfusionMatrix(IReadOnlyList<string> Labels, long[,] Counts)
{
    /// <summary>
    /// Each row divided by its total (confusion_matrix(normalize="true"), the matrix MLflow plots); a row of a label
    /// no target has is all zeros, as numpy's nan_to_num leaves it.
    /// </summary>
    public double[,] Normalized()
    {
        int n = Counts.GetLength(0);
        var result = new double[n, Counts.GetLength(1)];
        for (int i = 0; i < n; i++)
        {
            long total = 0;
            for (int j = 0; j < Counts.GetLength(1); j++) total += Counts[i, j];
            if (total == 0) continue;
            for (int j = 0; j < Counts.GetLength(1); j++) result[i, j] = (double)Counts[i, j] / total;
        }
        return result;
    }
}
