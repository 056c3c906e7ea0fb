namespace MlModels.Core.Evaluation;

/// <summary>
/// An append-only list in fixed chunks: growing it never copies what it holds, and no chunk is large enough for the
/// large object heap, so a million rows cost their bytes and no more.
/// </summary>
internal sealed class RowStore<T>
    where T : unmanaged
{
    private const int ChunkSize = 8192;
    private readonly List<T[]> _chunks = [];

    public long Count { get; private set; }

    public T this[long index] => _chunks[(int)(index / ChunkSize)][index % ChunkSize];

    public void Add(T value)
    {
        int offset = (int)(Count % ChunkSize);
        if (offset == 0) _chunks.Add(new T[ChunkSize]);
        _chunks[^1][offset] = value;
        Count++;
    }
}
