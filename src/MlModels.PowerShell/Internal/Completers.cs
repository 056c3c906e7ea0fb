using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace MlModels.PowerShell.Internal;

/// <summary>Completes flavor names: the flavors MLflow ships.</summary>
public sealed class FlavorNameCompleter : IArgumentCompleter
{
    internal static readonly string[] KnownFlavors =
    [
        "python_function", "sklearn", "onnx", "pytorch", "tensorflow", "keras", "xgboost", "lightgbm", "catboost", "spark", "mleap",
        "h2o", "statsmodels", "transformers", "sentence_transformers", "langchain", "openai", "prophet", "pmdarima", "spacy",
        "fastai", "paddle", "diviner", "johnsnowlabs", "crate", "llama_index", "dspy",
    ];

    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName,
        string parameterName,
        string wordToComplete,
        CommandAst commandAst,
        IDictionary fakeBoundParameters)
    {
        var prefix = wordToComplete.Trim('\'', '"');
        return KnownFlavors.Where(f => f.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(f => new CompletionResult(f, f, CompletionResultType.ParameterValue, $"MLflow flavor {f}"));
    }
}
