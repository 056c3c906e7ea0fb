using System.Net;
using System.Net.Sockets;

namespace MlModels.TrackingFake;

/// <summary>
/// The replay over HTTP on 127.0.0.1 and a free port (HttpListener), for tests that reach it by URL (Pester).
/// <c>$s = [MlModels.TrackingFake.ReplayHttpServer]::Start($corpus, $options); $env:MLFLOW_TRACKING_URI = $s.Uri</c>
/// </summary>
public sealed class ReplayHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    private ReplayHttpServer(TrackingReplay replay)
    {
        Replay = replay;
        for (int attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Uri = $"http://127.0.0.1:{port}";
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add(Uri + "/");
            try { _listener.Start(); break; }
            catch (HttpListenerException) when (attempt < 5) { }
        }
        _loop = Task.Run(LoopAsync);
    }

    public TrackingReplay Replay { get; }
    public string Uri { get; }

    public static ReplayHttpServer Start(string corpusDir, ReplayOptions? options = null) => new(new TrackingReplay(corpusDir, options));

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
            using var ms = new MemoryStream();
            await ctx.Request.InputStream.CopyToAsync(ms);
            var r = Replay.Handle(ctx.Request.HttpMethod, ctx.Request.RawUrl ?? "/", ctx.Request.ContentType, ctx.Request.Headers["Authorization"], ctx.Request.UserAgent, ms.ToArray());
            ctx.Response.StatusCode = r.Status;
            if (r.ContentType != null) ctx.Response.ContentType = r.ContentType;
            foreach (var (k, v) in r.Headers) ctx.Response.AddHeader(k, v);
            ctx.Response.ContentLength64 = r.Body.Length;
            if (r.CutAfterBytes >= 0)
            {
                await ctx.Response.OutputStream.WriteAsync(r.Body.AsMemory(0, r.CutAfterBytes));
                await ctx.Response.OutputStream.FlushAsync();
                ctx.Response.Abort();
                return;
            }
            await ctx.Response.OutputStream.WriteAsync(r.Body);
            ctx.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            try { ctx.Response.Abort(); } catch (ObjectDisposedException) { }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
