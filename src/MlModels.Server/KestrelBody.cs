using MlModels.Core.Serving;

namespace MlModels.Server;

/// <summary>
/// A request body that turns Kestrel's <see cref="BadHttpRequestException"/> (too large, too slow, bad framing) into
/// Core's <see cref="RequestBodyException"/> with the same status, so Core answers it without knowing ASP.NET.
/// </summary>
internal sealed class KestrelBody(Stream inner) : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        try { return inner.Read(buffer, offset, count); }
        catch (BadHttpRequestException ex) { throw Translate(ex); }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try { return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false); }
        catch (BadHttpRequestException ex) { throw Translate(ex); }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private static RequestBodyException Translate(BadHttpRequestException ex) => new(ex.StatusCode, ex.Message, ex);

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
