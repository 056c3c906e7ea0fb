using System.Text.Json;

namespace MlModels.Deploy.AzureML;

/// <summary>
/// The subscription to use when none is given and no Az PowerShell context has one: AZURE_SUBSCRIPTION_ID, then the az
/// CLI's default (the <c>isDefault</c> entry of azureProfile.json in AZURE_CONFIG_DIR or ~/.azure).
/// </summary>
public static class AzureSubscription
{
    public static string? Default(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var fromEnv = environment("AZURE_SUBSCRIPTION_ID");
        if (!string.IsNullOrWhiteSpace(fromEnv)) return fromEnv.Trim();
        var dir = environment("AZURE_CONFIG_DIR");
        if (string.IsNullOrEmpty(dir)) dir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".azure");
        var profile = Path.Combine(dir, "azureProfile.json");
        if (!File.Exists(profile)) return null;
        try
        {
            // az writes this file with a UTF-8 byte order mark.
            using var doc = JsonDocument.Parse(File.ReadAllText(profile));
            if (!doc.RootElement.TryGetProperty("subscriptions", out var subs) || subs.ValueKind != JsonValueKind.Array) return null;
            foreach (var s in subs.EnumerateArray())
                if (s.TryGetProperty("isDefault", out var d) && d.ValueKind == JsonValueKind.True && s.TryGetProperty("id", out var id))
                    return id.GetString();
        }
        catch (JsonException) { }
        return null;
    }
}
