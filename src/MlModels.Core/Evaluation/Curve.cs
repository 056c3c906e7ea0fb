namespace MlModels.Core.Evaluation;

/// <summary>One line of a plot MLflow's default evaluator draws, with the legend text MLflow gives it.</summary>
/// <param name="Label">The legend text ("AUC=0.912", "label=b,AP=0.871", "Class 1").</param>
/// <param name="X">The x values (false positive rate, recall, or fraction of the sample).</param>
/// <param name="Y">The y values (true positive rate, precision, or lift), one per x.</param>
/// <param name="Auc">The area the legend names (ROC AUC, average precision), or null where it names none.</param>
public sealed record Curve(string Label, double[] X, double[] Y, double? Auc);
