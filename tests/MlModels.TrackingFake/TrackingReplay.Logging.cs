using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MlModels.TrackingFake;

/// <summary>A metric value logged through runs/log-batch, as the fake took it.</summary>
public sealed record LoggedMetric(string Key, double Value, long Timestamp, long Step);

// ReplayOptions.AcceptLogging: the written answers (see TrackingReplay's summary) and what they keep.
public sealed partial class TrackingReplay
{
    private const string Api = "/api/2.0/mlflow";
    private const string ArtifactsApi = "/api/2.0/mlflow-artifacts/artifacts";
    private const string InvalidParameter = "INVALID_PARAMETER_VALUE";
    private const string SeeTheDocs = " See the API docs for more information about request parameters.";

    // mlflow/utils/validation.py: names, run ids and the batch limits.
    private static readonly Regex ValidName = new(@"^[/\w.\- ]*$");
    private static readonly Regex ValidRunId = new(@"^[a-zA-Z0-9][\w\-]{0,255}$");
    private const int MaxMetricsPerBatch = 1000;
    private const int MaxParamsTagsPerBatch = 100;
    private const int MaxEntitiesPerBatch = 1000;

    private readonly Dictionary<string, RunState> _runs = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, byte[]> _uploads = new(StringComparer.Ordinal);

    private sealed class RunState(JsonObject info, string? artifactPath)
    {
        /// <summary>The run's info as the recording first answered it, placeholders filled in.</summary>
        public JsonObject Info { get; } = info;
        /// <summary>Where its artifact root is below the proxy; null when its artifacts are not proxied.</summary>
        public string? ArtifactPath { get; } = artifactPath;
        /// <summary>The run exists: it existed before the served flows, or the fake has answered its runs/create.</summary>
        public bool Known { get; set; }
        public bool Created { get; set; }
        public string? Status { get; set; }
        public long? EndTime { get; set; }
        public List<LoggedMetric> Metrics { get; } = [];
        public List<KeyValuePair<string, string>> Params { get; } = [];
        public List<KeyValuePair<string, string>> Tags { get; } = [];
    }

    /// <summary>The metric values logged to the run through runs/log-batch (recorded requests too), in the order taken.</summary>
    public IReadOnlyList<LoggedMetric> LoggedMetrics(string runId)
    {
        lock (_gate) return _runs.TryGetValue(runId, out var r) ? r.Metrics.ToList() : [];
    }

    /// <summary>The params logged to the run through runs/log-batch.</summary>
    public IReadOnlyDictionary<string, string> LoggedParams(string runId)
    {
        lock (_gate) return Table(_runs.TryGetValue(runId, out var r) ? r.Params : []);
    }

    /// <summary>The tags set on the run through runs/log-batch.</summary>
    public IReadOnlyDictionary<string, string> LoggedTags(string runId)
    {
        lock (_gate) return Table(_runs.TryGetValue(runId, out var r) ? r.Tags : []);
    }

    private static Dictionary<string, string> Table(List<KeyValuePair<string, string>> entries) =>
        entries.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>The status a runs/update through the fake set on the run; null when none did.</summary>
    public string? RunStatus(string runId)
    {
        lock (_gate) return _runs.TryGetValue(runId, out var r) ? r.Status : null;
    }

    /// <summary>Every file uploaded through the proxy, by its path below the proxy (<c>&lt;experiment&gt;/&lt;run&gt;/artifacts/...</c>).</summary>
    public IReadOnlyDictionary<string, byte[]> Uploads
    {
        get { lock (_gate) return new SortedDictionary<string, byte[]>(_uploads, StringComparer.Ordinal); }
    }

    /// <summary>The files uploaded through the proxy under the run's artifact root, by their path relative to it.</summary>
    public IReadOnlyDictionary<string, byte[]> UploadedArtifacts(string runId)
    {
        lock (_gate)
        {
            var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
            if (!_runs.TryGetValue(runId, out var r) || r.ArtifactPath == null) return result;
            foreach (var (path, bytes) in _uploads)
                if (path.StartsWith(r.ArtifactPath + "/", StringComparison.Ordinal)) result[path[(r.ArtifactPath.Length + 1)..]] = bytes;
            return result;
        }
    }

    /// <summary>The runs the served flows answer about; one first seen in a runs/create answer exists once that is answered.</summary>
    private void InitRuns()
    {
        foreach (var e in _exchanges)
        {
            if (e.Status != 200 || RunInfoOf(e.ResponseBody) is not { } recorded) continue;
            var info = (JsonObject)FillNode(recorded)!;
            if (StringOf(info["run_id"]) is not { } runId || _runs.ContainsKey(runId)) continue;
            _runs[runId] = new RunState(info, ProxyPathOf(StringOf(info["artifact_uri"]))) { Known = PathOf(e.Path) != Api + "/runs/create" };
        }
    }

    private static JsonObject? RunInfoOf(JsonNode? body) =>
        body is JsonObject o ? ((o["run"] as JsonObject)?["info"] ?? o["run_info"]) as JsonObject : null;

    private string? ProxyPathOf(string? artifactUri)
    {
        const string Scheme = "mlflow-artifacts:";
        if (_options.ArtifactRoot != null || artifactUri == null || !artifactUri.StartsWith(Scheme, StringComparison.Ordinal)) return null;
        var rest = artifactUri[Scheme.Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal)) rest = rest.IndexOf('/', 2) is var slash and >= 0 ? rest[slash..] : "";
        return rest.Trim('/');
    }

    /// <summary>What a recorded request that was answered logged, created or ended, kept as the written answers keep it.</summary>
    private void Observe(Exchange match, string pathAndQuery, byte[] body)
    {
        if (match.Status != 200) return;
        var path = PathOf(match.Path);
        if (match.Method == "POST" && path == Api + "/runs/create"
            && RunInfoOf(match.ResponseBody)?["run_id"] is JsonValue id && _runs.TryGetValue(FillText(id.GetValue<string>()), out var created))
        {
            created.Known = created.Created = true;
        }
        else if (match.Method == "POST" && path == Api + "/runs/update")
        {
            var req = ParseObject(body);
            if ((StringOf(req["run_id"]) ?? StringOf(req["run_uuid"])) is { } runId && _runs.TryGetValue(runId, out var run))
            {
                run.Status = StringOf(req["status"]) ?? run.Status;
                run.EndTime = TryLong(req["end_time"], out var end) ? end : run.EndTime;
            }
        }
        else if (match.Method == "POST" && path == Api + "/runs/log-batch")
        {
            if (ParseBatch(ParseObject(body), out var batch) == null && _runs.TryGetValue(batch.RunId, out var run)) Keep(run, batch);
        }
        else if (match.Method == "PUT" && path.StartsWith(ArtifactsApi + "/", StringComparison.Ordinal))
        {
            _uploads[ArtifactPathOf(PathOf(pathAndQuery))] = body;
        }
    }

    /// <summary>Recorded answers with what was logged: runs/get's status, metrics, params and tags; the proxy's listings.</summary>
    private JsonNode? Amend(Exchange e, string pathAndQuery, JsonNode? node)
    {
        if (e.Status != 200 || e.Method != "GET" || node is not JsonObject answer) return node;
        var path = PathOf(e.Path);
        if (path == Api + "/runs/get" && answer["run"] is JsonObject run && run["info"] is JsonObject info
            && StringOf(info["run_id"]) is { } runId && _runs.TryGetValue(runId, out var state))
        {
            run["info"] = WithStatus(info, state);
            if (Data(run["data"] as JsonObject, state) is { } data) run["data"] = data;
        }
        else if (path == ArtifactsApi && QueryValue(pathAndQuery, "path") is { } folder)
        {
            return Listing(folder, answer["files"] as JsonArray);
        }
        return node;
    }

    /// <summary>The written answer to a request no recording matches, or null when the fake has none (a mismatch).</summary>
    private (string Endpoint, ReplayResponse Response)? Written(string method, string pathAndQuery, byte[] body)
    {
        var path = PathOf(pathAndQuery);
        if (method == "POST" && path == Api + "/runs/log-batch") return ("runs/log-batch", LogBatch(body));
        if (method == "POST" && path == Api + "/runs/update" && UpdateRun(body) is { } updated) return ("runs/update", updated);
        if (method == "PUT" && path.StartsWith(ArtifactsApi + "/", StringComparison.Ordinal) && Upload(path, body) is { } uploaded)
            return ("mlflow-artifacts/artifacts (upload)", uploaded);
        if (method == "GET" && path == ArtifactsApi && QueryValue(pathAndQuery, "path") is { } folder && UnderKnownRoot(folder, orRoot: true))
            return ("mlflow-artifacts/artifacts (list)", JsonAnswer(200, Listing(folder, null)));
        return null;
    }

    private sealed record Batch(
        string RunId, List<LoggedMetric> Metrics, List<KeyValuePair<string, string>> Params, List<KeyValuePair<string, string>> Tags);

    /// <summary>runs/log-batch: the handler's checks, then the store's (validation, limits, the run), then the values are kept.</summary>
    private ReplayResponse LogBatch(byte[] body)
    {
        if (ParseBatch(ParseObject(body), out var batch) is { } refused) return refused;
        var error = ValidRunId.IsMatch(batch.RunId) ? null : $"Invalid run ID: '{batch.RunId}'";
        error ??= batch.Metrics.Select(m => NameError("metric", m.Key)).FirstOrDefault(m => m != null)
            ?? batch.Params.Select(p => NameError("parameter", p.Key)).FirstOrDefault(m => m != null)
            ?? batch.Tags.Select(t => NameError("tag", t.Key)).FirstOrDefault(m => m != null);
        error ??= Limit("metrics", MaxMetricsPerBatch, batch.Metrics.Count)
            ?? Limit("params", MaxParamsTagsPerBatch, batch.Params.Count)
            ?? Limit("tags", MaxParamsTagsPerBatch, batch.Tags.Count)
            ?? Limit("metrics, params, and tags", MaxEntitiesPerBatch, batch.Metrics.Count + batch.Params.Count + batch.Tags.Count);
        var dupes = batch.Params.Select((p, i) => (p.Key, i)).Where(p => batch.Params.Take(p.i).Any(q => q.Key == p.Key)).Select(p => p.Key).ToList();
        if (error == null && dupes.Count > 0)
            error = $"Duplicate parameter keys have been submitted: [{string.Join(", ", dupes.Select(PyStr))}]. "
                + "Please ensure the request contains only one param value per param key.";
        if (error != null) return Error(400, InvalidParameter, error);
        if (!_runs.TryGetValue(batch.RunId, out var run) || !run.Known)
            return Error(404, "RESOURCE_DOES_NOT_EXIST", $"Run with id={batch.RunId} not found");
        Keep(run, batch);
        return Json(200, "{}");
    }

    /// <summary>The request's run and entities; an answer when the handler's schema refuses it (mlflow/server/handlers.py _log_batch).</summary>
    private static ReplayResponse? ParseBatch(JsonObject req, out Batch batch)
    {
        batch = new Batch("", [], [], []);
        var runId = StringOf(req["run_id"]);
        if (string.IsNullOrEmpty(runId)) return Error(400, InvalidParameter, "Missing value for required parameter 'run_id'." + SeeTheDocs);
        var schema = new[] { ("metrics", new[] { "key", "value", "timestamp" }), ("params", new[] { "key" }), ("tags", new[] { "key" }) };
        foreach (var (field, required) in schema)
        {
            var value = req[field];
            if (value == null) continue;
            if (value is not JsonArray items || items.Any(i => i is not JsonObject o || required.Any(k => o[k] == null || StringOf(o[k]) == "")))
            {
                return Error(400, InvalidParameter,
                    $"Invalid value {PyRepr(value)} for parameter '{field}' supplied. Hint: Value was of type '{PyType(value)}'." + SeeTheDocs);
            }
        }
        batch = batch with { RunId = runId };
        foreach (var m in Items(req["metrics"]))
        {
            var key = StringOf(m["key"]) ?? m["key"]!.ToJsonString();
            if (!TryDouble(m["value"], out var value))
            {
                return Error(400, InvalidParameter, $"Got invalid value {PyRepr(m["value"])} for metric '{key}' "
                    + $"(timestamp={PyRepr(m["timestamp"])}). Please specify value as a valid double (64-bit floating point)");
            }
            if (!TryLong(m["timestamp"], out var timestamp) || timestamp < 0)
            {
                return Error(400, InvalidParameter, $"Got invalid timestamp {PyRepr(m["timestamp"])} for metric '{key}' "
                    + $"(value={PyRepr(m["value"])}). Timestamp must be a nonnegative long (64-bit integer) ");
            }
            long step = 0;
            if (m["step"] != null && !TryLong(m["step"], out step))
            {
                return Error(400, InvalidParameter, $"Got invalid step {PyRepr(m["step"])} for metric '{key}' (value={PyRepr(m["value"])}). "
                    + "Step must be a valid long (64-bit integer).");
            }
            batch.Metrics.Add(new LoggedMetric(key, value, timestamp, step));
        }
        foreach (var p in Items(req["params"])) batch.Params.Add(new(StringOf(p["key"]) ?? "", StringOf(p["value"]) ?? ""));
        foreach (var t in Items(req["tags"])) batch.Tags.Add(new(StringOf(t["key"]) ?? "", StringOf(t["value"]) ?? ""));
        return null;
    }

    private static void Keep(RunState run, Batch batch)
    {
        run.Metrics.AddRange(batch.Metrics);
        foreach (var p in batch.Params) Set(run.Params, p);
        foreach (var t in batch.Tags) Set(run.Tags, t);
    }

    private static void Set(List<KeyValuePair<string, string>> list, KeyValuePair<string, string> entry)
    {
        var i = list.FindIndex(e => e.Key == entry.Key);
        if (i < 0) list.Add(entry);
        else list[i] = entry;
    }

    /// <summary>runs/update of a run created through the fake, to a terminal status: its run_info, as the handler answers.</summary>
    private ReplayResponse? UpdateRun(byte[] body)
    {
        var req = ParseObject(body);
        var runId = StringOf(req["run_id"]) ?? StringOf(req["run_uuid"]);
        var status = StringOf(req["status"]);
        if (runId == null || !_runs.TryGetValue(runId, out var run) || !run.Created) return null;
        if (status is not ("FINISHED" or "FAILED" or "KILLED")) return null;
        run.Status = status;
        run.EndTime = TryLong(req["end_time"], out var end) ? end : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return JsonAnswer(200, new JsonObject { ["run_info"] = WithStatus(run.Info, run) });
    }

    /// <summary>An upload under a known run's proxied artifact root, kept; '..' is refused as the server refuses it.</summary>
    private ReplayResponse? Upload(string path, byte[] body)
    {
        var artifact = ArtifactPathOf(path);
        if (artifact.Split('/').Contains("..")) return Error(400, InvalidParameter, "Invalid path");
        if (!UnderKnownRoot(artifact, orRoot: false)) return null;
        _uploads[artifact] = body;
        return Json(200, "{}");
    }

    private bool UnderKnownRoot(string path, bool orRoot) =>
        _runs.Values.Any(r => r.Known && r.ArtifactPath is { } root
            && ((orRoot && path == root) || path.StartsWith(root + "/", StringComparison.Ordinal)));

    /// <summary>The proxy's listing of a folder: the entries directly under it (names), sorted; <c>{}</c> when there are none.</summary>
    private JsonObject Listing(string folder, JsonArray? recorded)
    {
        var entries = new SortedDictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var entry in recorded ?? new JsonArray())
            if (entry is JsonObject o && StringOf(o["path"]) is { } name) entries[name] = o.DeepClone();
        var prefix = folder.TrimEnd('/') + "/";
        foreach (var (path, bytes) in _uploads)
        {
            if (!path.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = path[prefix.Length..];
            var slash = rest.IndexOf('/');
            if (slash >= 0) entries.TryAdd(rest[..slash], new JsonObject { ["path"] = rest[..slash], ["is_dir"] = true });
            else entries[rest] = new JsonObject { ["path"] = rest, ["is_dir"] = false, ["file_size"] = bytes.Length };
        }
        return entries.Count == 0 ? new JsonObject() : new JsonObject { ["files"] = new JsonArray(entries.Values.ToArray()) };
    }

    private static JsonObject WithStatus(JsonObject info, RunState run)
    {
        if (run.Status == null) return (JsonObject)info.DeepClone();
        var result = new JsonObject();
        foreach (var (key, value) in info)
        {
            if (key == "end_time") continue;
            result[key] = key == "status" ? run.Status : value?.DeepClone();
            if (key == "start_time" && run.EndTime != null) result["end_time"] = run.EndTime;
        }
        return result;
    }

    /// <summary>A run's data with what was logged: the latest metric value per key, params and tags; null when nothing was.</summary>
    private static JsonObject? Data(JsonObject? recorded, RunState run)
    {
        if (run.Metrics.Count == 0 && run.Params.Count == 0 && run.Tags.Count == 0) return null;
        var metrics = Items(recorded?["metrics"]).Select(m => (JsonObject)m.DeepClone()).ToList();
        foreach (var m in run.Metrics)
        {
            var i = metrics.FindIndex(x => StringOf(x["key"]) == m.Key);
            if (i < 0) metrics.Add(MetricJson(m));
            else if (Newer(m, metrics[i])) metrics[i] = MetricJson(m);
        }
        var data = new JsonObject();
        if (metrics.Count > 0) data["metrics"] = new JsonArray(metrics.ToArray<JsonNode?>());
        foreach (var (field, logged) in new[] { ("params", run.Params), ("tags", run.Tags) })
        {
            var entries = Items(recorded?[field]).Select(e => KeyValuePair.Create(StringOf(e["key"]) ?? "", StringOf(e["value"]) ?? "")).ToList();
            foreach (var e in logged) Set(entries, e);
            if (entries.Count > 0)
                data[field] = new JsonArray(entries.Select(e => (JsonNode?)new JsonObject { ["key"] = e.Key, ["value"] = e.Value }).ToArray());
        }
        foreach (var (key, value) in recorded ?? new JsonObject())
            if (!data.ContainsKey(key)) data[key] = value?.DeepClone();
        return data;
    }

    /// <summary>The SQL store's order of a key's values: (step, timestamp, value).</summary>
    private static bool Newer(LoggedMetric m, JsonObject recorded)
    {
        TryLong(recorded["step"], out var step);
        TryLong(recorded["timestamp"], out var timestamp);
        TryDouble(recorded["value"], out var value);
        return (m.Step, m.Timestamp, m.Value).CompareTo((step, timestamp, value)) > 0;
    }

    /// <summary>A metric as runs/get answers it from the SQL store: NaN as "NaN", an infinity as the largest double of its sign.</summary>
    private static JsonObject MetricJson(LoggedMetric m) => new()
    {
        ["key"] = m.Key,
        ["value"] = double.IsNaN(m.Value) ? JsonValue.Create("NaN")
            : double.IsInfinity(m.Value) ? JsonValue.Create(m.Value > 0 ? double.MaxValue : double.MinValue) : JsonValue.Create(m.Value),
        ["timestamp"] = m.Timestamp,
        ["step"] = m.Step,
    };

    private ReplayResponse JsonAnswer(int status, JsonNode node) => Json(status, JsonText(node));

    private static ReplayResponse Error(int status, string code, string message) =>
        Json(status, JsonSerializer.Serialize(new Dictionary<string, string> { ["error_code"] = code, ["message"] = message }));

    private static string? Limit(string name, int limit, int count) =>
        count > limit
            ? $"A batch logging request can contain at most {limit} {name}. Got {count} {name}. "
                + $"Please split up {name} across multiple requests and try again."
            : null;

    /// <summary>mlflow.utils.validation's name check: the characters it allows, and no name that a path would normalise.</summary>
    private static string? NameError(string kind, string name)
    {
        if (!ValidName.IsMatch(name))
            return $"Invalid {kind} name: '{name}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
                + "spaces ( ), and slashes (/).";
        var norm = NormPath(name);
        if (norm != name || norm == "." || norm.StartsWith("..", StringComparison.Ordinal) || norm.StartsWith('/'))
        {
            return $"Invalid {kind} name: '{name}'. Names may be treated as files in certain cases, and must not resolve to other names "
                + $"when treated as such. This name would resolve to '{norm}'";
        }
        return null;
    }

    /// <summary>Python's posixpath.normpath.</summary>
    private static string NormPath(string path)
    {
        if (path.Length == 0) return ".";
        var twoSlashes = path.StartsWith("//", StringComparison.Ordinal) && !path.StartsWith("///", StringComparison.Ordinal);
        int initial = twoSlashes ? 2 : path.StartsWith('/') ? 1 : 0;
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part != ".." || (initial == 0 && parts.Count == 0) || (parts.Count > 0 && parts[^1] == "..")) parts.Add(part);
            else if (parts.Count > 0) parts.RemoveAt(parts.Count - 1);
        }
        var result = new string('/', initial) + string.Join('/', parts);
        return result.Length == 0 ? "." : result;
    }

    private static string PathOf(string pathAndQuery) => pathAndQuery.IndexOf('?') is var q and >= 0 ? pathAndQuery[..q] : pathAndQuery;

    /// <summary>The artifact path of a proxy URL's path, its segments percent-decoded.</summary>
    private static string ArtifactPathOf(string path) =>
        string.Join('/', path[(ArtifactsApi.Length + 1)..].Split('/').Select(Uri.UnescapeDataString));

    /// <summary>A query parameter, form-decoded.</summary>
    private static string? QueryValue(string pathAndQuery, string name)
    {
        var q = pathAndQuery.IndexOf('?');
        if (q < 0) return null;
        foreach (var pair in pathAndQuery[(q + 1)..].Split('&'))
        {
            var eq = pair.IndexOf('=');
            var key = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
            if (key == name) return eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
        }
        return null;
    }

    /// <summary>The body as the server reads it: JSON, and anything but an object as <c>{}</c>.</summary>
    private static JsonObject ParseObject(byte[] body)
    {
        try { return body.Length > 0 && JsonNode.Parse(body) is JsonObject o ? o : new JsonObject(); }
        catch (JsonException) { return new JsonObject(); }
    }

    private static IEnumerable<JsonObject> Items(JsonNode? node) => node is JsonArray a ? a.OfType<JsonObject>() : [];

    private static string? StringOf(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>A double as protobuf's JSON reads one: a number, or a string holding one, "NaN", "Infinity" or "-Infinity".</summary>
    private static bool TryDouble(JsonNode? node, out double value)
    {
        value = 0;
        if (node is not JsonValue v) return false;
        if (v.GetValueKind() == JsonValueKind.Number) return v.TryGetValue(out value);
        if (!v.TryGetValue<string>(out var s)) return false;
        switch (s)
        {
            case "NaN": value = double.NaN; return true;
            case "Infinity": value = double.PositiveInfinity; return true;
            case "-Infinity": value = double.NegativeInfinity; return true;
            default: return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
        }
    }

    /// <summary>An int64 as protobuf's JSON reads one: an integral number, or a string holding one.</summary>
    private static bool TryLong(JsonNode? node, out long value)
    {
        value = 0;
        if (node is not JsonValue v) return false;
        if (v.GetValueKind() == JsonValueKind.Number) return v.TryGetValue(out value);
        return v.TryGetValue<string>(out var s) && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A JSON value as Python's repr writes the value json.loads makes of it (the server's error messages quote those).</summary>
    private static string PyRepr(JsonNode? node) => node switch
    {
        null => "None",
        JsonObject o => "{" + string.Join(", ", o.Select(p => PyStr(p.Key) + ": " + PyRepr(p.Value))) + "}",
        JsonArray a => "[" + string.Join(", ", a.Select(PyRepr)) + "]",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => PyStr(node.GetValue<string>()),
            JsonValueKind.True => "True",
            JsonValueKind.False => "False",
            _ => node.ToJsonString(),
        },
    };

    private static string PyType(JsonNode? node) => node switch
    {
        null => "NoneType",
        JsonObject => "dict",
        JsonArray => "list",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "str",
            JsonValueKind.True or JsonValueKind.False => "bool",
            _ => node.ToJsonString().IndexOfAny(['.', 'e', 'E']) >= 0 ? "float" : "int",
        },
    };

    private static string PyStr(string s)
    {
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c == quote => "\\" + c,
                _ => c.ToString(),
            });
        }
        return sb.Append(quote).ToString();
    }
}
