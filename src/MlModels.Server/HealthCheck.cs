using System.Net.Sockets;
using System.Text;

namespace MlModels.Server;

/// <summary>
/// <c>MlModels.Server healthcheck [PORT]</c>: asks this container's server for the Open Inference Protocol's readiness
/// (<c>/v2/health/ready</c>, the same state as /ping) and exits 0 when it answers 200. Images use it as their
/// HEALTHCHECK, so a base image needs neither a shell nor curl. One plain HTTP/1.1 request over a socket: HttpClient
/// would bring its TLS and HTTP/2 code into the native server (about 2 MB) for a loopback GET.
/// </summary>
internal static class HealthCheck
{
    public const string Command = "healthcheck";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(4);

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
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            var status = await StatusAsync(p, cts.Token);
            if (status == 200) return 0;
            await Console.Error.WriteLineAsync($"healthcheck: /v2/health/ready answered {status} (127.0.0.1:{p})");
            return 1;
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            var why = ex is OperationCanceledException ? $"no answer within {Timeout.TotalSeconds:0} s" : ex.Message;
            await Console.Error.WriteLineAsync($"healthcheck: {why} (127.0.0.1:{p})");
            return 1;
        }
    }

    /// <summary>The status code of GET /v2/health/ready on the loopback port, from the response's status line.</summary>
    internal static async Task<int> StatusAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync("GET /v2/health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"u8.ToArray(), cancellationToken);
        var buffer = new byte[256];
        int read = 0, n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
        {
            read += n;
            if (Array.IndexOf(buffer, (byte)'\n', 0, read) >= 0) break;
        }
        // "HTTP/1.1 200 OK": the three digits after the first space.
        var line = Encoding.ASCII.GetString(buffer, 0, read).Split('\n')[0];
        var parts = line.Split(' ');
        return parts.Length >= 2 && parts[0].StartsWith("HTTP/", StringComparison.Ordinal) && int.TryParse(parts[1], out var code)
            ? code
            : throw new IOException($"not an HTTP answer: '{line.TrimEnd('\r')}'");
    }
}
