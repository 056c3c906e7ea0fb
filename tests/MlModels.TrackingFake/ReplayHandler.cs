using System.Net;
using System.Net.Http.Headers;

namespace MlModels.TrackingFake;

/// <summary>The replay as an in-process HttpMessageHandler, for clients built over one.</summary>
public sealed class ReplayHandler(TrackingReplay replay) : HttpMessageHandler
{
    public TrackingReplay Replay { get; } = replay;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content == null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var r = Replay.Handle(request.Method.Method, request.RequestUri!.PathAndQuery, request.Content?.Headers.ContentType?.ToString(),
            request.Headers.Authorization?.ToString(), request.Headers.UserAgent.ToString(), body);
        var response = new HttpResponseMessage((HttpStatusCode)r.Status) { RequestMessage = request };
        response.Content = r.CutAfterBytes >= 0 ? new StreamContent(new CutOffStream(r.Body, r.CutAfterBytes)) : new ByteArrayContent(r.Body);
        if (r.ContentType != null) response.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(r.ContentType);
        response.Content.Headers.ContentLength = r.Body.Length;
        foreach (var (k, v) in r.Headers) response.Headers.TryAddWithoutValidation(k, v);
        return response;
    }

    /// <summary>Hands over the first bytes, then fails as a dropped connection does.</summary>
    private sealed class CutOffStream(byte[] bytes, int cutAfter) : Stream
    {
        private int _pos;
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_pos >= cutAfter) throw new IOException("The connection was closed by the server before the response was complete.");
            var n = Math.Min(count, cutAfter - _pos);
            Array.Copy(bytes, _pos, buffer, offset, n);
            _pos += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => bytes.Length;
        public override long Position { get => _pos; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
