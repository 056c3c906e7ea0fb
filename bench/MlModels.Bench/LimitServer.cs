using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

/// <summary>
/// The server benchmark's limit: Kestrel reading each POST's body to the end and answering a fixed prediction (the
/// real server's response to the benchmark request), with nothing in between.
/// </summary>
internal static class LimitServer
{
    public static int Run(int port, string body)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
        var app = builder.Build();
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        app.MapGet("/ping", () => "\n");
        app.MapPost("/invocations", async (HttpContext ctx) =>
        {
            var reader = ctx.Request.BodyReader;
            while (true)
            {
                var read = await reader.ReadAsync(ctx.RequestAborted);
                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted) break;
            }
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength = bytes.Length;
            await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
        });
        app.Run();
        return 0;
    }
}
