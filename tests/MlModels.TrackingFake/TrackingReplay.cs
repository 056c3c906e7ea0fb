using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MlModels.TrackingFake;

/// <summary>One recorded exchange of tests/conformance/tracking/exchanges.jsonl.</summary>
public sealed record Exchange(int Index, string Flow, string Step, string Method, string Path, string? RequestContentType,
    JsonNode? RequestBody, int Status, string? ResponseContentType, JsonNode? ResponseBody);

/// <summary>
/// A request the fake received: what was sent, and the recorded exchange it matched (null: none did), or the endpoint
/// whose written answer it got (<see cref="ReplayOptions.AcceptLogging"/>).
/// </summary>
public sealed record ReceivedCall(
    string Method, string PathAndQuery, string NormalisedPath, string? Authorization, string? UserAgent, string? ContentType, Exchange? Matched,
    string? Written = null);

public sealed record ReplayResponse(int Status, string? ContentType, byte[] Body, IReadOnlyDictionary<string, string> Headers, int CutAfterBytes = -1);

/// <summary>Faults and checks on top of the replay.</summary>
public sealed class ReplayOptions
{
    /// <summary>The flows served (null: all). Each request must match one of their recorded requests.</summary>
    public IReadOnlyList<string>? Flows { get; set; }
    /// <summary>When set, a request without exactly this Authorization header is answered 401, as MLflow's basic-auth app does.</summary>
    public string? RequiredAuthorization { get; set; }
    /// <summary>The first N requests are answered 429 with Retry-After.</summary>
    public int TooManyRequestsFirst { get; set; }
    public string RetryAfterSeconds { get; set; } = "0";
    /// <summary>Downloads whose path ends with this are cut off after half their bytes (the first <see cref="CutOffTimes"/> times).</summary>
    public string? CutOffDownloadEndingWith { get; set; }
    public int CutOffTimes { get; set; } = 1;
    /// <summary>
    /// A server started with <c>--default-artifact-root &lt;root&gt; --no-serve-artifacts</c>: every answer is the recorded
    /// one field for field, with the recorded <c>mlflow-artifacts:/</c> locations under this root instead
    /// (<c>mlflow-artifacts:/1/&lt;run&gt;/artifacts</c> becomes <c>&lt;root&gt;/1/&lt;run&gt;/artifacts</c>, as MLflow's store names them).
    /// </summary>
    public string? ArtifactRoot { get; set; }
    /// <summary>
    /// Beside the replay, take what a client logs to the runs the served flows know, answered as MLflow's REST API
    /// documents it where no recording matches (see <see cref="TrackingReplay"/>): runs/log-batch, uploads to and
    /// listings of a run's artifact root through the proxy, runs/update of a run created through the fake. What was logged
    /// is kept (<see cref="TrackingReplay.LoggedMetrics"/>, <see cref="TrackingReplay.UploadedArtifacts"/>, ...) and shows
    /// in later runs/get answers and listings. Off (the default), the replay is strict.
    /// </summary>
    public bool AcceptLogging { get; set; }
}

/// <summary>
/// The replaying fake of MLflow 2.12.2's tracking server. Ids the recording replaced by placeholders get fixed values
/// here; a request is turned back into placeholders and must equal a recorded request of the served flows (method,
/// path with query, JSON body; uploads byte-equal to the fixture file); the answer is the recorded one with the
/// placeholders filled in, errors included. A request that matches nothing is answered 501 and recorded in
/// <see cref="Mismatches"/>.
/// <para>
/// Recorded answers: every answer of the replay is one recorded in tests/conformance/tracking (exchanges.jsonl, MLflow
/// 2.12.2's server answering MLflow 2.12.2's client; its README describes the flows).
/// </para>
/// <para>
/// Written answers, only with <see cref="ReplayOptions.AcceptLogging"/> and only for requests no recording matches,
/// are not recorded: they are written from MLflow's REST API documentation and, for the exact error texts, the
/// server's code of MLflow 2.x (mlflow/server/handlers.py, mlflow/utils/validation.py, the SQL store's log_batch; read,
/// not run against 2.12.2, so a message may differ from 2.12.2's in its wording), for these endpoints:
/// <c>POST /api/2.0/mlflow/runs/log-batch</c> (200 <c>{}</c> for a run the served flows know; 400
/// INVALID_PARAMETER_VALUE for a missing run_id, a metric without key, value or timestamp, a param or tag without key,
/// a name MLflow refuses, more than MLflow's batch limits or a param key twice; 404 RESOURCE_DOES_NOT_EXIST
/// "Run with id=... not found" for another run), <c>PUT /api/2.0/mlflow-artifacts/artifacts/&lt;path&gt;</c> (200
/// <c>{}</c> for a file under a known run's artifact root when its artifacts are proxied; 400 "Invalid path" for '..'),
/// <c>GET /api/2.0/mlflow-artifacts/artifacts?path=&lt;folder&gt;</c> (the files uploaded, for a folder under a known
/// run's artifact root; <c>{}</c> when none) and <c>POST /api/2.0/mlflow/runs/update</c> (run_info, for a run created
/// through the fake, to FINISHED, FAILED or KILLED). What was logged also amends recorded answers: runs/get shows the
/// run's latest metric value per key (highest step, then timestamp, then value; NaN as "NaN", infinities as the
/// largest doubles, as the SQL store keeps them), the params and tags logged and the status set, and the proxy's
/// listings show the files uploaded. Recorded log-batch requests, uploads and updates are kept the same way.
/// </para>
/// </summary>
public sealed partial class TrackingReplay
{
    private readonly List<Exchange> _exchanges;
    private readonly HashSet<int> _consumed = [];
    private readonly ReplayOptions _options;
    private readonly List<(string Placeholder, string Value, Regex Pattern)> _bindings = [];
    private readonly object _gate = new();
    private int _throttled;
    private int _cutOff;

    public TrackingReplay(string corpusDir, ReplayOptions? options = null)
    {
        CorpusDir = corpusDir;
        _options = options ?? new ReplayOptions();
        All = File.ReadLines(Path.Combine(corpusDir, "exchanges.jsonl")).Where(l => l.Trim().Length > 0).Select(Parse).ToList();
        // Served in the order the flows were given, then as recorded: an earlier flow's answer is given first.
        _exchanges = All.Where(e => _options.Flows == null || _options.Flows.Contains(e.Flow))
            .OrderBy(e => _options.Flows == null ? 0 : _options.Flows.ToList().IndexOf(e.Flow)).ThenBy(e => e.Index).ToList();
        if (_exchanges.Count == 0) throw new ArgumentException("No recorded exchanges in the flows asked for.");
        for (int n = 1; n <= 4; n++)
        {
            Bind($"<run_id:{n}>", RunId(n));
            Bind($"<experiment_id:{n}>", ExperimentId(n));
            Bind($"<run_name:{n}>", $"brave-fox-{n}");
        }
        Bind("<server_dir>", "/srv/mlflow-replay");
        InitRuns();
    }

    public string CorpusDir { get; }
    public IReadOnlyList<Exchange> All { get; }
    public List<ReceivedCall> Calls { get; } = [];
    public List<string> Mismatches { get; } = [];

    public static string RunId(int n) => $"5d1f0c0e6b4a4f8e9a3b2c1d0e9f8a{n:x2}";
    public static string ExperimentId(int n) => (424240 + n).ToString(CultureInfo.InvariantCulture);

    /// <summary>Recorded exchanges of a flow that no request has matched yet.</summary>
    public IReadOnlyList<Exchange> Unconsumed(string flow)
    {
        lock (_gate) return _exchanges.Where(e => e.Flow == flow && !_consumed.Contains(e.Index)).ToList();
    }

    /// <summary>A fixture file with its placeholders filled in, as the recording uploaded it.</summary>
    public byte[] FixtureBytes(string relative) => Fill(File.ReadAllBytes(Path.Combine(CorpusDir, "fixture-model", relative)));

    private void Bind(string placeholder, string value) =>
        _bindings.Add((placeholder, value, new Regex($"(?<![0-9a-z]){Regex.Escape(value)}(?![0-9a-z])")));

    public ReplayResponse Handle(string method, string pathAndQuery, string? contentType, string? authorization, string? userAgent, byte[] body)
    {
        lock (_gate) return HandleLocked(method, pathAndQuery, contentType, authorization, userAgent, body);
    }

    private ReplayResponse HandleLocked(string method, string pathAndQuery, string? contentType, string? authorization, string? userAgent, byte[] body)
    {
        var normPath = Normalise(pathAndQuery);
        if (_options.RequiredAuthorization != null && authorization != _options.RequiredAuthorization)
        {
            Calls.Add(new ReceivedCall(method, pathAndQuery, normPath, authorization, userAgent, contentType, null));
            return new ReplayResponse(401, "text/html; charset=utf-8",
                Encoding.UTF8.GetBytes("You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate."),
                new Dictionary<string, string> { ["WWW-Authenticate"] = "Basic realm=\"mlflow\"" });
        }
        if (_throttled < _options.TooManyRequestsFirst)
        {
            _throttled++;
            Calls.Add(new ReceivedCall(method, pathAndQuery, normPath, authorization, userAgent, contentType, null));
            return Json(429, """{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "Too many requests."}""", new Dictionary<string, string> { ["Retry-After"] = _options.RetryAfterSeconds });
        }
        if (method is "POST" && !IsArtifactPath(normPath))
        {
            if (contentType == null) return Json(400, """{"error_code": "INVALID_PARAMETER_VALUE", "message": "Bad Request. Content-Type header is missing."}""");
            if (!contentType.Split(';')[0].Trim().Equals("application/json", StringComparison.OrdinalIgnoreCase))
                return Json(400, """{"error_code": "INVALID_PARAMETER_VALUE", "message": "Bad Request. Content-Type must be one of ['application/json']."}""");
        }

        var candidates = _exchanges.Where(e => e.Method == method && e.Path == normPath && BodyMatches(e, body)).ToList();
        var match = candidates.FirstOrDefault(e => !_consumed.Contains(e.Index)) ?? candidates.LastOrDefault();
        if (match == null && _options.AcceptLogging && Written(method, pathAndQuery, body) is { } written)
        {
            Calls.Add(new ReceivedCall(method, pathAndQuery, normPath, authorization, userAgent, contentType, null, written.Endpoint));
            return written.Response;
        }
        Calls.Add(new ReceivedCall(method, pathAndQuery, normPath, authorization, userAgent, contentType, match));
        if (match == null)
        {
            var sameLine = _exchanges.Where(e => e.Method == method && e.Path == normPath).Select(e => $"{e.Flow}/{e.Step}").ToList();
            var detail = $"{method} {normPath} body {Describe(body)}" + (sameLine.Count > 0 ? $" (the request line matches {string.Join(", ", sameLine)}, the body does not)" : " (no recorded request has this method and path)");
            Mismatches.Add(detail);
            return Json(501, JsonSerializer.Serialize(new Dictionary<string, string> { ["error_code"] = "REPLAY_MISMATCH", ["message"] = "No recorded exchange matches " + detail }));
        }
        _consumed.Add(match.Index);
        if (_options.AcceptLogging) Observe(match, pathAndQuery, body);

        var cut = -1;
        if (_options.CutOffDownloadEndingWith != null && method == "GET" && match.Status == 200 && IsArtifactPath(normPath) && !normPath.Contains('?')
            && normPath.EndsWith(_options.CutOffDownloadEndingWith, StringComparison.Ordinal) && _cutOff < _options.CutOffTimes)
        {
            _cutOff++;
            cut = 0;
        }
        var response = Answer(match, pathAndQuery);
        return cut == 0 ? response with { CutAfterBytes = response.Body.Length / 2 } : response;
    }

    private ReplayResponse Answer(Exchange e, string pathAndQuery)
    {
        byte[] bytes;
        var ct = e.ResponseContentType;
        if (ct != null && ct.StartsWith("application/json", StringComparison.Ordinal))
        {
            var node = FillNode(e.ResponseBody);
            if (_options.AcceptLogging) node = Amend(e, pathAndQuery, node);
            bytes = Encoding.UTF8.GetBytes(JsonText(node));
        }
        else if (e.ResponseBody is JsonObject o && o["base64"] is JsonValue b64)
            bytes = Convert.FromBase64String(b64.GetValue<string>());
        else
            bytes = Encoding.UTF8.GetBytes(FillText(e.ResponseBody?.GetValue<string>() ?? ""));
        return new ReplayResponse(e.Status, ct, bytes, new Dictionary<string, string>());
    }

    /// <summary>An answer's JSON text; the recorded mlflow-artifacts:/ locations under <see cref="ReplayOptions.ArtifactRoot"/> when set.</summary>
    private string JsonText(JsonNode? node)
    {
        var json = node?.ToJsonString() ?? "null";
        if (_options.ArtifactRoot == null) return json;
        return json.Replace("\"mlflow-artifacts:/", "\"" + _options.ArtifactRoot.TrimEnd('/') + "/", StringComparison.Ordinal);
    }

    private static ReplayResponse Json(int status, string json, Dictionary<string, string>? headers = null) =>
        new(status, "application/json", Encoding.UTF8.GetBytes(json), headers ?? new Dictionary<string, string>());

    private static bool IsArtifactPath(string path) => path.StartsWith("/api/2.0/mlflow-artifacts/", StringComparison.Ordinal);

    private bool BodyMatches(Exchange e, byte[] body)
    {
        if (e.Method == "PUT" && IsArtifactPath(e.Path) && e.RequestBody is JsonValue fv && fv.GetValue<string>() is var fixture && fixture.StartsWith("fixture-model/", StringComparison.Ordinal))
        {
            var expected = File.ReadAllBytes(Path.Combine(CorpusDir, fixture));
            return Normalise(body).AsSpan().SequenceEqual(expected);
        }
        if (e.RequestBody == null) return body.Length == 0;
        JsonNode? sent;
        try { sent = body.Length == 0 ? null : JsonNode.Parse(body); }
        catch (JsonException)
        {
            return e.RequestBody is JsonValue rv && rv.TryGetValue<string>(out var raw) && Normalise(Encoding.UTF8.GetString(body)) == raw;
        }
        return JsonNode.DeepEquals(Canonical(NormaliseNode(sent, null)), Canonical(e.RequestBody.DeepClone()));
    }

    /// <summary>JSON held in a string field (model_json) compared as JSON, since its key order does not matter to the server.</summary>
    private static JsonNode? Canonical(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(p => p.Key).ToList())
                {
                    var v = o[key];
                    if (key == "model_json" && v is JsonValue s && s.TryGetValue<string>(out var text))
                    {
                        try { o[key] = Canonical(JsonNode.Parse(text)); } catch (JsonException) { }
                    }
                    else Canonical(v);
                }
                return o;
            case JsonArray a:
                foreach (var item in a) Canonical(item);
                return a;
            default:
                return node;
        }
    }

    private static readonly HashSet<string> TimeFields = ["start_time", "end_time", "timestamp", "creation_time", "last_update_time", "creation_timestamp", "last_updated_timestamp"];

    private JsonNode? NormaliseNode(JsonNode? node, string? key)
    {
        switch (node)
        {
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (k, v) in o) copy[k] = NormaliseNode(v, k);
                return copy;
            case JsonArray a:
                return new JsonArray(a.Select(v => NormaliseNode(v, null)).ToArray());
            case JsonValue v when key != null && TimeFields.Contains(key) && v.TryGetValue<long>(out _):
                return JsonValue.Create("<timestamp>");
            case JsonValue v when v.TryGetValue<string>(out var s):
                return JsonValue.Create(Normalise(s));
            default:
                return node?.DeepClone();
        }
    }

    private string Normalise(string s)
    {
        foreach (var (placeholder, _, pattern) in _bindings) s = pattern.Replace(s, placeholder);
        return s;
    }

    private byte[] Normalise(byte[] bytes)
    {
        try { return Encoding.UTF8.GetBytes(Normalise(new UTF8Encoding(false, true).GetString(bytes))); }
        catch (DecoderFallbackException) { return bytes; }
    }

    private string FillText(string s)
    {
        foreach (var (placeholder, value, _) in _bindings) s = s.Replace(placeholder, value, StringComparison.Ordinal);
        return s.Replace("<timestamp>", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    private byte[] Fill(byte[] bytes)
    {
        try { return Encoding.UTF8.GetBytes(FillText(new UTF8Encoding(false, true).GetString(bytes))); }
        catch (DecoderFallbackException) { return bytes; }
    }

    private JsonNode? FillNode(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, FillNode(p.Value)))),
        JsonArray a => new JsonArray(a.Select(FillNode).ToArray()),
        JsonValue v when v.TryGetValue<string>(out var s) && s == "<timestamp>" => JsonValue.Create(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
        JsonValue v when v.TryGetValue<string>(out var s) => JsonValue.Create(FillText(s)),
        _ => node?.DeepClone(),
    };

    private static string Describe(byte[] body)
    {
        var s = Encoding.UTF8.GetString(body);
        return body.Length == 0 ? "(none)" : s.Length > 300 ? s[..300] + "..." : s;
    }

    private static int _index;

    private static Exchange Parse(string line)
    {
        var o = JsonNode.Parse(line)!.AsObject();
        var headers = o["request_headers"] as JsonObject;
        return new Exchange(Interlocked.Increment(ref _index), o["flow"]!.GetValue<string>(), o["step"]!.GetValue<string>(), o["method"]!.GetValue<string>(),
            o["path"]!.GetValue<string>(), headers?["Content-Type"]?.GetValue<string>(), o["request_body"]?.DeepClone(),
            o["status"]!.GetValue<int>(), o["response_content_type"]?.GetValue<string>(), o["response_body"]?.DeepClone());
    }
}
