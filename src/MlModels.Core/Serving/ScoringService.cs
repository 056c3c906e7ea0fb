using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MlModels.Core.Format;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Onnx;
using MlModels.Core.Scoring.Python;

namespace MlModels.Core.Serving;

/// <summary>
/// MLflow's scoring protocol for one model, independent of the web server: content-type rules, the four JSON input
/// forms and CSV, params, MLflow's status codes, a per-request timeout, and metrics.
/// </summary>
public sealed class ScoringService : IDisposable
{
    private readonly ServingOptions _options;
    private readonly Action<string>? _log;
    private readonly OnnxScorer? _onnx;
    private readonly ScorerPool? _pool;
    private readonly OnnxSplitRequest? _split;
    private readonly ConcurrentBag<CancellationTokenSource> _timeouts = [];
    public ServingMetrics Metrics { get; } = new();

    public MLModel Model { get; }

    public ScoringService(MLModel model, ServingOptions options, Action<string>? log = null)
    {
        Model = model;
        _options = options;
        _log = log;
        if (PredictionEngine.IsNative(model))
        {
            _onnx = PredictionEngine.OnnxScorerFor(model, new OnnxScorerOptions(options.Threads, Spin: true), log);
            _split = OnnxSplitRequest.For(_onnx);
        }
        else _pool = new ScorerPool(model, options, log);
    }

    public bool Ready => _onnx != null || _pool!.Ready;

    /// <summary>True when requests must carry the API key.</summary>
    public bool RequiresKey => !string.IsNullOrEmpty(_options.ApiKey);

    /// <summary>True when the key is not required or matches.</summary>
    public bool Authorized(string? apiKeyHeader, string? authorization)
    {
        if (string.IsNullOrEmpty(_options.ApiKey)) return true;
        var given = apiKeyHeader ?? (authorization?.StartsWith("Bearer ", StringComparison.Ordinal) == true ? authorization[7..] : null);
        return given != null && CryptographicEquals(given, _options.ApiKey);
    }

    private static bool CryptographicEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>
    /// ONNX requests whose body is at most this size are scored on the request's own thread: handing a small request
    /// to another thread costs more than scoring it. Larger ones, and Python models, are scored on another thread, so
    /// the timeout answers even while the work goes on.
    /// </summary>
    public const int InlineBodyLimit = 256 * 1024;

    /// <summary>Handles POST /invocations. <paramref name="contentLength"/>, when the client sent it, sizes the body's buffer.</summary>
    public async Task<ServingResponse> InvokeAsync(string? contentType, Stream body, CancellationToken aborted, long? contentLength = null)
    {
        var start = Stopwatch.GetTimestamp();
        var response = await InvokeCoreAsync(contentType, body, aborted, contentLength).ConfigureAwait(false);
        Metrics.Record(response.Status, Stopwatch.GetElapsedTime(start));
        return response;
    }

    private async Task<ServingResponse> InvokeCoreAsync(string? contentType, Stream body, CancellationToken aborted, long? contentLength)
    {
        // MLflow's server fails on a request without a Content-Type (an HTML 500); this server answers the same status, in words.
        if (contentType == null)
            return ServingResponse.Text(500, "The request has no Content-Type header. Send 'application/json' or 'text/csv'.");
        string mediaType;
        if (contentType is "application/json" or "text/csv") mediaType = contentType; // the common case has nothing to parse
        else
        {
            var (type, parameters) = ParseContentType(contentType);
            var charset = parameters.FirstOrDefault(p => p.Key == "charset").Value ?? "utf-8";
            if (!charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
                return ServingResponse.Text(415, "The scoring server only supports UTF-8");
            var unexpected = parameters.Select(p => p.Key).Where(k => k != "charset").Distinct().ToList();
            if (unexpected.Count > 0)
                return ServingResponse.Text(415,
                    $"Unrecognized content type parameters: {string.Join(", ", unexpected)}. The MLflow Model scoring protocol has changed in " +
                    $"MLflow version 2.0: send 'application/json' with a dataframe_split, dataframe_records, instances or " +
                    $"inputs field, or 'text/csv'.");
            if (type is not ("application/json" or "text/csv"))
                return ServingResponse.Text(415,
                    $"This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '{contentType}'.");
            mediaType = type;
        }

        // The body is read whole (within the size limit Kestrel enforces) before scoring starts.
        bool inline = _onnx != null && contentLength is >= 0 and <= InlineBodyLimit;
        byte[] buffer;
        int length;
        try { (buffer, length) = await ReadBodyAsync(body, contentLength, pooled: inline, aborted).ConfigureAwait(false); }
        catch (RequestBodyException ex) { return UnreadableBody(ex.Status, ex.Message); }
        catch (IOException ex) { return UnreadableBody(400, ex.Message); }

        if (inline && length <= InlineBodyLimit)
        {
            // A short run is not worth stopping when its client goes away, so only the timeout stops it; its token
            // source is reused (TryReset) rather than made and linked for every request.
            var timeout = _timeouts.TryTake(out var spare) && !spare.IsCancellationRequested ? spare : new CancellationTokenSource();
            timeout.CancelAfter(_options.Timeout);
            try { return Score(mediaType, buffer, length, timeout.Token); }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested) { return TimedOut(); }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                if (timeout.TryReset()) _timeouts.Add(timeout);
                else timeout.Dispose();
            }
        }
        if (inline) ArrayPool<byte>.Shared.Return(buffer); // longer than announced: a buffer of its own, since the work may outlive this call
        return await ScoreElsewhereAsync(mediaType, inline ? buffer.AsSpan(0, length).ToArray() : buffer, length, aborted).ConfigureAwait(false);
    }

    /// <summary>
    /// Scores on another thread, answering 504 at the timeout even while the work goes on. A Python request first
    /// waits for a free worker (one being restarted included) without the clock running: the timeout counts from the
    /// moment a worker takes the request, as gunicorn's does under MLflow's server.
    /// </summary>
    private async Task<ServingResponse> ScoreElsewhereAsync(string mediaType, byte[] buffer, int length, CancellationToken aborted)
    {
        IScorer? scorer = null;
        if (_pool != null)
        {
            try { scorer = await Task.Run(() => _pool.Rent(aborted), aborted).ConfigureAwait(false); }
            catch (Exception ex) when (ex is PythonWorkerException or InvalidOperationException)
            {
                _log?.Invoke($"no Python worker could be started: {ex.Message}");
                return ServingResponse.Error(503, "SERVICE_UNAVAILABLE", $"No Python worker is available: {ex.Message}");
            }
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(_options.Timeout);
        var work = Task.Run(() => Score(mediaType, buffer, length, timeout.Token, scorer), CancellationToken.None);
        try
        {
            return await work.WaitAsync(_options.Timeout, aborted).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            timeout.Cancel();
            return TimedOut();
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            return TimedOut();
        }
    }

    /// <summary>
    /// Runs <paramref name="predict"/> on the model's scorer for another protocol (Open Inference), under the same pool
    /// and timeout as MLflow's requests: a Python request waits for a free worker first; past the timeout a
    /// <see cref="TimeoutException"/>; no worker, <see cref="ScorerUnavailableException"/>. Other failures come out as themselves.
    /// An ONNX request whose body is at most <see cref="InlineBodyLimit"/> (<paramref name="bodyLength"/>) is scored on the
    /// caller's thread, as /invocations scores it, with ONNX Runtime stopping the run at the timeout.
    /// </summary>
    public async Task<Prediction> PredictAsync(Func<IScorer, CancellationToken, Prediction> predict, CancellationToken aborted,
        long bodyLength = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(predict);
        if (_onnx != null && bodyLength <= InlineBodyLimit)
        {
            var inline = _timeouts.TryTake(out var spare) && !spare.IsCancellationRequested ? spare : new CancellationTokenSource();
            inline.CancelAfter(_options.Timeout);
            try { return predict(_onnx, inline.Token); }
            catch (OperationCanceledException) when (inline.IsCancellationRequested)
            {
                throw new TimeoutException($"Scoring took longer than the server's timeout of {_options.Timeout.TotalSeconds:N0} s.");
            }
            finally
            {
                if (inline.TryReset()) _timeouts.Add(inline);
                else inline.Dispose();
            }
        }
        IScorer scorer;
        try { scorer = _onnx != null ? _onnx : await Task.Run(() => _pool!.Rent(aborted), aborted).ConfigureAwait(false); }
        catch (Exception ex) when (ex is PythonWorkerException or InvalidOperationException)
        {
            _log?.Invoke($"no Python worker could be started: {ex.Message}");
            throw new ScorerUnavailableException($"No Python worker is available: {ex.Message}", ex);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(_options.Timeout);
        var work = Task.Run(() =>
        {
            try { return predict(scorer, timeout.Token); }
            finally { if (_pool != null) _pool.Return(scorer); }
        }, CancellationToken.None);
        try { return await work.WaitAsync(_options.Timeout, aborted).ConfigureAwait(false); }
        catch (TimeoutException)
        {
            timeout.Cancel();
            throw new TimeoutException($"Scoring took longer than the server's timeout of {_options.Timeout.TotalSeconds:N0} s.");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            throw new TimeoutException($"Scoring took longer than the server's timeout of {_options.Timeout.TotalSeconds:N0} s.");
        }
    }

    /// <summary>
    /// What both scoring endpoints check before reading a body: the API key, then the length the client announced.
    /// Null when the request may go on.
    /// </summary>
    public ServingResponse? Refusal(string? apiKeyHeader, string? authorization, long? contentLength)
    {
        if (!Authorized(apiKeyHeader, authorization))
            return ServingResponse.Error(401, "UNAUTHENTICATED", "A valid API key is required (X-API-Key header or Bearer token).");
        return contentLength > _options.MaxBodyBytes ? TooLarge() : null;
    }

    /// <summary>A body that could not be read: 413 for one past the limit, else the status given (a 4xx), as BAD_REQUEST.</summary>
    public ServingResponse UnreadableBody(int status, string message) => status == 413
        ? TooLarge()
        : ServingResponse.Error(status is >= 400 and < 500 ? status : 400, "BAD_REQUEST", $"The request body could not be read: {message}");

    private ServingResponse TooLarge() =>
        ServingResponse.Error(413, "BAD_REQUEST", $"The request body is larger than the limit of {_options.MaxBodyBytes:N0} bytes.");

    private ServingResponse TimedOut() =>
        ServingResponse.Error(504, "TIMEOUT", $"Scoring took longer than the server's timeout of {_options.Timeout.TotalSeconds:N0} s.");

    /// <summary>Reads the whole body, into a buffer of the announced length where there is one (rented when <paramref name="pooled"/>).</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(Stream body, long? contentLength, bool pooled, CancellationToken ct)
    {
        int size = contentLength is > 0 and < int.MaxValue ? (int)contentLength.Value + 1 : 4096; // +1: the end shows without growing
        var buffer = pooled ? ArrayPool<byte>.Shared.Rent(size) : new byte[size];
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = pooled ? ArrayPool<byte>.Shared.Rent(buffer.Length * 2) : new byte[buffer.Length * 2];
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    if (pooled) ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                int n = await body.ReadAsync(buffer.AsMemory(length), ct).ConfigureAwait(false);
                if (n == 0) return (buffer, length);
                length += n;
            }
        }
        catch
        {
            if (pooled) ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private ServingResponse Score(string mediaType, byte[] body, int length, CancellationToken ct, IScorer? preRented = null)
    {
        // A worker rented before the call is returned here too, whatever happens.
        IScorer? rented = preRented;
        try
        {
            Prediction prediction;
            bool unwrapped = false;
            if (mediaType == "text/csv")
            {
                rented ??= Rent(ct);
                prediction = PredictionEngine.ScoreCsvBody(rented, new MemoryStream(body, 0, length, writable: false), null, ct);
            }
            else
            {
                var bytes = body.AsMemory(0, length);
                if (!System.Text.Unicode.Utf8.IsValid(bytes.Span))
                    return ServingResponse.Error(400, ScoringErrorCodes.BadRequest, "Invalid input. The request body is not valid UTF-8 text.");
                if (_split != null && _split.TryScore(bytes.Span, ct, out var direct))
                    return new ServingResponse(200, "application/json", PredictionJsonWriter.ToBytes(direct!, false));
                using var request = ScoringRequest.Parse(bytes, "the request body");
                rented ??= Rent(ct);
                prediction = PredictionEngine.ScoreRequest(rented, request, null, ct);
                unwrapped = request.IsUnified;
            }
            return new ServingResponse(200, "application/json", PredictionJsonWriter.ToBytes(prediction, unwrapped));
        }
        catch (SchemaViolationException ex) { return ServingResponse.Error(400, ex.ErrorCode, ex.Message); }
        catch (ModelPredictionException ex)
        {
            return ServingResponse.Error(400, ex.ErrorCode,
                "Encountered an unexpected error while evaluating the model. Verify that the serialized input Dataframe is compatible with the " +
                "model for inference. " + ex.Message, ex.Traceback);
        }
        catch (MLModelFormatException ex) { return ServingResponse.Error(400, ScoringErrorCodes.BadRequest, ex.Message); }
        catch (PythonWorkerException ex) when (ex.Kind == PythonWorkerFailure.Timeout) { return ServingResponse.Error(504, "TIMEOUT", ex.Message); }
        catch (OperationCanceledException) { throw; }
        catch (Exception ex)
        {
            _log?.Invoke($"scoring failed: {ex}");
            return ServingResponse.Error(500, "INTERNAL_ERROR", ex.Message);
        }
        finally
        {
            if (rented != null) _pool?.Return(rented);
        }
    }

    private IScorer Rent(CancellationToken ct) => (IScorer?)_onnx ?? _pool!.Rent(ct);

    /// <summary>
    /// A Content-Type split as MLflow's server splits it: the media type exactly as sent (case matters), then each
    /// <c>key=value</c> parameter; the charset's value is compared without case.
    /// </summary>
    public static (string MediaType, IReadOnlyList<KeyValuePair<string, string>> Parameters) ParseContentType(string contentType)
    {
        var parts = contentType.Split(';').Select(p => p.Trim()).ToList();
        var parameters = parts.Skip(1).Select(p =>
        {
            int eq = p.IndexOf('=');
            return eq < 0 ? KeyValuePair.Create(p, "") : KeyValuePair.Create(p[..eq], p[(eq + 1)..]);
        }).ToList();
        return (parts[0], parameters);
    }

    public void Dispose()
    {
        _pool?.Dispose();
        while (_timeouts.TryTake(out var t)) t.Dispose();
    }
}
