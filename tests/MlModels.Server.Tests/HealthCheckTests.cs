using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MlModels.Server.Tests;

/// <summary>The image's HEALTHCHECK command: a plain GET of /v2/health/ready on the loopback port.</summary>
[Trait("Category", "Fast")]
public class HealthCheckTests
{
    [Fact]
    public async Task AReadyServer_IsHealthy()
    {
        await using var server = await RunningServer.StartAsync(RunningServer.LinearModel());
        Assert.Equal(200, await HealthCheck.StatusAsync(server.BaseAddress.Port, CancellationToken.None));
        Assert.Equal(0, await HealthCheck.RunAsync([HealthCheck.Command, server.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
    }

    [Fact]
    public async Task AnotherStatus_NoListener_OrABadPort_IsUnhealthy()
    {
        // A listener that answers what a server not ready yet answers.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var answer = Task.Run(async () =>
        {
            using var c = await listener.AcceptTcpClientAsync();
            var s = c.GetStream();
            var request = new byte[512];
            var n = await s.ReadAsync(request);
            Assert.StartsWith("GET /v2/health/ready HTTP/1.1\r\n", Encoding.ASCII.GetString(request, 0, n), StringComparison.Ordinal);
            await s.WriteAsync("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"u8.ToArray());
        });
        Assert.Equal(503, await HealthCheck.StatusAsync(port, CancellationToken.None));
        await answer;
        listener.Stop();

        // Nothing listens on the port now.
        Assert.Equal(1, await HealthCheck.RunAsync([HealthCheck.Command, port.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
        Assert.Equal(2, await HealthCheck.RunAsync([HealthCheck.Command, "70000"]));
    }
}
