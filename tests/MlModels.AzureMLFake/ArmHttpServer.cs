using System.Net;
using System.Net.Sockets;

namespace MlModels.AzureMLFake;

/// <summary>
/// The ARM fake over HTTP on 127.0.0.1 and a free port (HttpListener), for tests that reach it by URL (Pester):
/// <c>$s = [MlModels.AzureMLFake.ArmHttpServer]::Start($examples); Publish-MLModelAzureML -ResourceManagerUrl $s.Uri ...</c>
/// </summary>
public sealed class ArmHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpMessageInvoker _invoker;
    private readonly Task _loop;

    private ArmHttpServer(string? examples)
    {
        for (int attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Uri = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add(Uri.ToString());
            try { _listener.Start(); break; }
            catch (HttpListenerException) when (attempt < 5) { }
        }
        Fake = new ArmFake(examples, Uri) { RetryAfterSeconds = 1, PollsPerOperation = 1 };
        _invoker = new HttpMessageInvoker(Fake, disposeHandler: false);
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The fake itself: its calls, violations, resources and fault switches (FailingDeployments, Throttle).</summary>
    public ArmFake Fake { get; }
    /// <summary>The Resource Manager URL to give the cmdlets (-ResourceManagerUrl).</summary>
    public Uri Uri { get; }

    public static ArmHttpServer Start(string? examples = null) => new(examples);

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            _ = Task.Run(() => Serve(ctx));
        }
    }

    private async Task Serve(HttpListenerContext ctx)
    {
        try
        {
            using var request = new HttpRequestMessage(new HttpMethod(ctx.Request.HttpMethod), new Uri(Uri, ctx.Request.RawUrl ?? "/"));
            using var body = new MemoryStream();
            await ctx.Request.InputStream.CopyToAsync(body);
            if (body.Length > 0 || ctx.Request.HttpMethod is "PUT" or "POST" or "PATCH")
            {
                request.Content = new ByteArrayContent(body.ToArray());
                if (ctx.Request.ContentType is { } type) request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
            foreach (var name in ctx.Request.Headers.AllKeys)
                if (name != null && !name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
                    request.Headers.TryAddWithoutValidation(name, ctx.Request.Headers.GetValues(name) ?? []);

            using var response = await _invoker.SendAsync(request, CancellationToken.None);
            ctx.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers)
                foreach (var v in values) ctx.Response.AddHeader(name, v);
            var bytes = response.Content == null ? [] : await response.Content.ReadAsByteArrayAsync();
            if (response.Content?.Headers.ContentType is { } ct) ctx.Response.ContentType = ct.ToString();
            ctx.Response.ContentLength64 = bytes.Length;
            await ctx.Response.OutputStream.WriteAsync(bytes);
            ctx.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            try { ctx.Response.Abort(); } catch (ObjectDisposedException) { }
        }
        catch (Exception ex)
        {
            // A request the fake cannot take (a body it cannot read) is a recorded violation, never a hang.
            lock (Fake) Fake.Violations.Add($"{ctx.Request.HttpMethod} {ctx.Request.RawUrl}: {ex.GetType().Name}: {ex.Message}");
            try
            {
                ctx.Response.StatusCode = 500;
                ctx.Response.Close();
            }
            catch (Exception) { }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _invoker.Dispose();
    }
}
