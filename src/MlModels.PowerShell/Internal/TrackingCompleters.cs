using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using MlModels.Core.Tracking;

namespace MlModels.PowerShell.Internal;

/// <summary>
/// Completes registered model names from the registry, when one is configured (-TrackingUri on the line, or
/// MLFLOW_TRACKING_URI). Asks once, briefly, without retries; no server or no answer means no completions.
/// </summary>
public sealed class RegisteredModelNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName,
        string parameterName,
        string wordToComplete,
        CommandAst commandAst,
        IDictionary fakeBoundParameters)
    {
        var prefix = wordToComplete.Trim('\'', '"');
        var names = CompleterQueries.Ask(fakeBoundParameters, (c, ct) => CompleterQueries.ModelNames(c, prefix, ct));
        return names.Select(n => new CompletionResult(Quote(n), n, CompletionResultType.ParameterValue, $"registered model {n}"));
    }

    internal static string Quote(string s)
        => s.IndexOfAny([' ', '\'', '"', '$', '`', '@', '(', ')', '{', '}', ',', ';', '&', '|']) >= 0 ? $"'{s.Replace("'", "''")}'" : s;
}

/// <summary>Completes the aliases of the registered model named by -Name on the same line.</summary>
public sealed class ModelAliasCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(
        string commandName,
        string parameterName,
        string wordToComplete,
        CommandAst commandAst,
        IDictionary fakeBoundParameters)
    {
        if (fakeBoundParameters["Name"] is not string name || name.Length == 0) return [];
        var prefix = wordToComplete.Trim('\'', '"');
        var aliases = CompleterQueries.Ask(fakeBoundParameters, (c, ct) => CompleterQueries.Aliases(c, name, ct));
        return aliases.Where(a => a.Alias.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(a => new CompletionResult(
                RegisteredModelNameCompleter.Quote(a.Alias),
                a.Alias,
                CompletionResultType.ParameterValue,
                $"{name}@{a.Alias} → version {a.Version}"));
    }
}

internal static class CompleterQueries
{
    public static IReadOnlyList<T> Ask<T>(IDictionary bound, Func<TrackingClient, CancellationToken, Task<IReadOnlyList<T>>> query)
    {
        try
        {
            var uri = bound["TrackingUri"] as string;
            if (string.IsNullOrEmpty(uri)
                && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TrackingSettings.TrackingUriVariable))) return [];
            var settings = TrackingSettings.Resolve(uri, azureAuth: MlModels.Deploy.AzureML.AzureMLTrackingAuth.Create);
            settings = settings with { Retry = settings.Retry with { MaxRetries = 0, Timeout = TimeSpan.FromSeconds(3) } };
            using var client = new TrackingClient(settings);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            return query(client, cts.Token).GetAwaiter().GetResult();
        }
        catch (Exception) { return []; } // completion never fails the line being typed
    }

    public static async Task<IReadOnlyList<string>> ModelNames(TrackingClient c, string prefix, CancellationToken ct)
    {
        var like = prefix.Replace("'", "\\'").Replace("%", "\\%").Replace("_", "\\_");
        var models = await c.SearchRegisteredModelsAsync($"name LIKE '{like}%'", 100, ct).ConfigureAwait(false);
        return models.Select(m => m.Name).Order(StringComparer.OrdinalIgnoreCase).ToList();
    }

    public static async Task<IReadOnlyList<RegisteredModelAlias>> Aliases(TrackingClient c, string name, CancellationToken ct) =>
        (await c.GetRegisteredModelAsync(name, ct).ConfigureAwait(false)).Aliases ?? [];
}
