using System.Net;
using System.Net.Sockets;

namespace MlModels.KubernetesFake;

/// <summary>
/// The API server fake over HTTP on 127.0.0.1 and a free port (HttpListener), for tests that reach it through a kubeconfig
/// (Pester): <c>$s = [MlModels.KubernetesFake.KubeApiHttpServer]::Start(); $s.WriteKubeconfig($path, 'fake')</c>.
/// </summary>
public sealed class KubeApiHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    private KubeApiHttpServer()
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
        _loop = Task.Run(LoopAsync);
    }

    public static KubeApiHttpServer Start() => new();

    public KubeApiFake Fake { get; } = new();
    public Uri Uri { get; private set; } = null!;

    /// <summary>Writes a kubeconfig whose context <paramref name="context"/> reaches this server with the fake's token.</summary>
    public string WriteKubeconfig(string path, string context = "fake", string? ns = null)
    {
        File.WriteAllText(path, Kubeconfig(Uri, Fake.Token, context, ns));
        return path;
    }

    /// <summary>A kubeconfig with one cluster, user and context (current), as kubectl writes them.</summary>
    public static string Kubeconfig(Uri server, string token, string context, string? ns) => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: {context}-cluster
          cluster:
            server: {server.AbsoluteUri.TrimEnd('/')}
        users:
        - name: {context}-user
          user:
            token: {token}
        contexts:
        - name: {context}
          context:
            cluster: {context}-cluster
            user: {context}-user{(ns == null ? "" : $"\n    namespace: {ns}")}
        current-context: {context}

        """;

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync().ConfigureAwait(false); }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException) { return; }
            _ = Task.Run(() => ServeAsync(ctx));
        }
    }

    private async Task ServeAsync(HttpListenerContext ctx)
    {
        try
        {
            using var request = new HttpRequestMessage(new HttpMethod(ctx.Request.HttpMethod), new Uri(Uri, ctx.Request.RawUrl));
            foreach (var key in ctx.Request.Headers.AllKeys)
                if (key != null) request.Headers.TryAddWithoutValidation(key, ctx.Request.Headers.GetValues(key) ?? []);
            if (ctx.Request.HasEntityBody)
            {
                using var ms = new MemoryStream();
                await ctx.Request.InputStream.CopyToAsync(ms).ConfigureAwait(false);
                request.Content = new ByteArrayContent(ms.ToArray());
            }
            using var response = await Fake.HandleAsync(request, CancellationToken.None).ConfigureAwait(false);
            ctx.Response.StatusCode = (int)response.StatusCode;
            ctx.Response.ContentType = response.Content.Headers.ContentType?.ToString();
            var body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            await ctx.Response.OutputStream.WriteAsync(body).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException) { }
        finally { ctx.Response.Close(); }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
