namespace MlModels.Server;

/// <summary>
/// <c>MlModels.Server healthcheck [PORT]</c>: asks this container's server for the Open Inference Protocol's readiness
/// (<c>/v2/health/ready</c>, the same state as /ping) and exits 0 when it answers 200. Images use it as their
/// HEALTHCHECK, so a base image needs neither a shell nor curl.
/// </summary>
internal static class HealthCheck
{
    public const string Command = "healthcheck";

    public static async Task<int> RunAsync(string[] args)
    {
        var port = args.Length > 1
            ? args[1]
            : MlModels.Core.Serving.ServerCommandLine.ServePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!int.TryParse(port, out var p) || p is < 1 or > 65535)
        {
            await Console.Error.WriteLineAsync($"healthcheck: '{port}' is not a port.");
            return 2;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(4) };
        try
        {
            using var r = await http.GetAsync($"http://127.0.0.1:{p}/v2/health/ready");
            return r.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"healthcheck: {ex.Message}");
            return 1;
        }
    }
}
