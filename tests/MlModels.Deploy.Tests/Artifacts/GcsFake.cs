using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Google.Cloud.Storage.V1;

namespace MlModels.Deploy.Tests.Artifacts;

/// <summary>
/// An in-process stand-in for the Cloud Storage JSON API, as an HttpMessageHandler under a StorageClient. It implements
/// only the calls Google.Cloud.Storage.V1 makes for GcsArtifactRepository, after the JSON API reference:
/// <list type="bullet">
/// <item>objects.list, GET /storage/v1/b/{bucket}/o with prefix, delimiter, maxResults (default 1000) and pageToken;
/// items and prefixes are merged in name order and counted together against maxResults, as the service does
/// (https://cloud.google.com/storage/docs/json_api/v1/objects/list);</item>
/// <item>objects.get, GET /storage/v1/b/{bucket}/o/{object}: the metadata, or with alt=media the bytes, honouring a
/// Range header of the form bytes=a-b (206 and Content-Range), with an x-goog-hash header of crc32c and md5
/// (https://cloud.google.com/storage/docs/json_api/v1/objects/get);</item>
/// <item>objects.insert, POST /upload/storage/v1/b/{bucket}/o with uploadType=media (name in the query), multipart
/// (a JSON part and a media part) or resumable (a session URI in Location, then PUTs with Content-Range; 308 and Range
/// for a partial chunk; the library sends this one) (https://cloud.google.com/storage/docs/json_api/v1/objects/insert,
/// https://cloud.google.com/storage/docs/performing-resumable-uploads). A request body with Content-Encoding gzip, as
/// the library sends JSON, is unzipped first.</item>
/// </list>
/// Errors are the API's JSON ({"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}, from
/// https://cloud.google.com/storage/docs/json_api/v1/status-codes): 404 "No such object: b/o" for a missing object and
/// 404 "The specified bucket does not exist." for a missing bucket; 401 for a request without an Authorization header to
/// a bucket marked private. Not implemented: generations and versioning (every object is generation 1), preconditions
/// (ifGenerationMatch and the like), ACLs and IAM, fields/projection (every field is always sent), startOffset,
/// endOffset, matchGlob, customer-supplied encryption, gzip transcoding, resumable session expiry, and any other endpoint
/// (buckets, compose, copy, rewrite, delete), which answer 501.
/// </summary>
public sealed class GcsFake : HttpMessageHandler
{
    public const string BaseUri = "http://gcs.fake.test/storage/v1/";

    private readonly ConcurrentDictionary<string, SortedDictionary<string, Stored>> _buckets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Upload> _sessions = new(StringComparer.Ordinal);
    private int _nextSession;

    public sealed record Stored(byte[] Content, string ContentType);

    private sealed class Upload(string bucket, string name, string contentType)
    {
        public string Bucket { get; } = bucket;
        public string Name { get; } = name;
        public string ContentType { get; } = contentType;
        public MemoryStream Received { get; } = new();
    }

    /// <summary>Buckets that refuse requests without credentials (401), as a private bucket refuses an anonymous client.</summary>
    public HashSet<string> PrivateBuckets { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request, as "METHOD path?query", for tests that count pages.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public GcsFake AddBucket(string bucket)
    {
        _buckets.TryAdd(bucket, new SortedDictionary<string, Stored>(StringComparer.Ordinal));
        return this;
    }

    public GcsFake Put(string bucket, string name, byte[] content, string contentType = "application/octet-stream")
    {
        var objects = _buckets.GetOrAdd(bucket, _ => new SortedDictionary<string, Stored>(StringComparer.Ordinal));
        lock (objects) objects[name] = new Stored(content, contentType);
        return this;
    }

    public Stored? Get(string bucket, string name)
    {
        if (!_buckets.TryGetValue(bucket, out var objects)) return null;
        lock (objects) return objects.GetValueOrDefault(name);
    }

    /// <summary>A client as the library builds one, with this fake under it and no credentials.</summary>
    public StorageClient CreateClient() => new StorageClientBuilder
    {
        BaseUri = BaseUri,
        HttpClientFactory = new Factory(this),
        UnauthenticatedAccess = true,
    }.Build();

    private sealed class Factory(GcsFake fake) : Google.Apis.Http.HttpClientFactory
    {
        protected override HttpMessageHandler CreateHandler(Google.Apis.Http.CreateHttpClientArgs args) => fake;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri!;
        Requests.Enqueue($"{request.Method} {uri.PathAndQuery}");
        var query = ParseQuery(uri.Query);
        // The object name is one percent-encoded segment after /o/; AbsolutePath keeps its %2F.
        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var body = request.Content == null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        // The library gzips JSON request bodies (the resumable session's metadata) and says so in Content-Encoding.
        if (request.Content?.Headers.ContentEncoding.Contains("gzip") == true)
        {
            using var unzipped = new MemoryStream();
            await using (var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress))
                await gzip.CopyToAsync(unzipped, cancellationToken).ConfigureAwait(false);
            body = unzipped.ToArray();
        }

        // /storage/v1/b/{bucket}/o[/{object}] and /upload/storage/v1/b/{bucket}/o
        var upload = segments is ["upload", "storage", "v1", "b", _, "o"];
        if (!upload && segments is not ["storage", "v1", "b", _, "o", ..]) return Error(HttpStatusCode.NotImplemented, "Not in the fake.");
        var bucket = upload ? segments[4] : segments[3];
        if (PrivateBuckets.Contains(bucket) && request.Headers.Authorization == null)
        {
            return Error(HttpStatusCode.Unauthorized,
                $"Anonymous caller does not have storage.objects access to the Google Cloud Storage bucket {bucket}.", "required");
        }
        if (!_buckets.TryGetValue(bucket, out var objects)) return Error(HttpStatusCode.NotFound, "The specified bucket does not exist.");

        if (upload) return Insert(request, query, bucket, objects, body);
        if (segments.Length == 5 && request.Method == HttpMethod.Get) return List(query, bucket, objects);
        if (segments.Length == 6 && request.Method == HttpMethod.Get)
        {
            var name = segments[5];
            Stored? stored;
            lock (objects) stored = objects.GetValueOrDefault(name);
            if (stored == null) return Error(HttpStatusCode.NotFound, $"No such object: {bucket}/{name}");
            return query.GetValueOrDefault("alt") == "media" ? Media(request, stored) : Json(Resource(bucket, name, stored));
        }
        return Error(HttpStatusCode.NotImplemented, "Not in the fake.");
    }

    private static HttpResponseMessage List(Dictionary<string, string> query, string bucket, SortedDictionary<string, Stored> objects)
    {
        var prefix = query.GetValueOrDefault("prefix") ?? "";
        var delimiter = query.GetValueOrDefault("delimiter");
        var max = query.TryGetValue("maxResults", out var m) ? int.Parse(m, CultureInfo.InvariantCulture) : 1000;
        var after = query.TryGetValue("pageToken", out var t) ? Encoding.UTF8.GetString(Convert.FromBase64String(t)) : null;

        // Each entry: an object, or the prefix that stands for the objects below a delimiter, once, in name order.
        var entries = new List<(string Key, string? Object, Stored? Stored)>();
        lock (objects)
        {
            foreach (var (name, stored) in objects)
            {
                if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var cut = delimiter is { Length: > 0 } ? name.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) : -1;
                if (cut < 0) entries.Add((name, name, stored));
                else if (name[..(cut + delimiter!.Length)] is var folder && (entries.Count == 0 || entries[^1].Key != folder))
                    entries.Add((folder, null, null));
            }
        }
        var page = entries.Where(e => after == null || string.CompareOrdinal(e.Key, after) > 0).Take(max + 1).ToList();
        var result = new JsonObject { ["kind"] = "storage#objects" };
        var shown = page.Take(max).ToList();
        var items = new JsonArray(shown.Where(e => e.Object != null).Select(e => (JsonNode)Resource(bucket, e.Object!, e.Stored!)).ToArray());
        var prefixes = new JsonArray(shown.Where(e => e.Object == null).Select(e => (JsonNode)JsonValue.Create(e.Key)).ToArray());
        if (items.Count > 0) result["items"] = items;
        if (prefixes.Count > 0) result["prefixes"] = prefixes;
        if (page.Count > max) result["nextPageToken"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(shown[^1].Key));
        return Json(result);
    }

    private static HttpResponseMessage Media(HttpRequestMessage request, Stored stored)
    {
        var content = stored.Content;
        var status = HttpStatusCode.OK;
        long from = 0, to = content.Length - 1;
        if (request.Headers.Range is { Unit: "bytes", Ranges.Count: 1 } range && content.Length > 0)
        {
            var r = range.Ranges.Single();
            from = r.From ?? Math.Max(0, content.Length - r.To!.Value);
            to = r.From == null ? content.Length - 1 : Math.Min(r.To ?? content.Length - 1, content.Length - 1);
            if (from >= content.Length) return Error(HttpStatusCode.RequestedRangeNotSatisfiable, "The requested range cannot be satisfied.");
            status = HttpStatusCode.PartialContent;
        }
        var response = new HttpResponseMessage(status)
        {
            Content = new ByteArrayContent(content, (int)from, content.Length == 0 ? 0 : (int)(to - from + 1)),
        };
        response.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(stored.ContentType);
        if (status == HttpStatusCode.PartialContent) response.Content.Headers.ContentRange = new ContentRangeHeaderValue(from, to, content.Length);
        response.Headers.TryAddWithoutValidation("x-goog-hash", $"crc32c={Crc32C(content)},md5={Convert.ToBase64String(MD5.HashData(content))}");
        return response;
    }

    private HttpResponseMessage Insert(
        HttpRequestMessage request,
        Dictionary<string, string> query,
        string bucket,
        SortedDictionary<string, Stored> objects,
        byte[] body)
    {
        string name;
        string contentType;
        switch (query.GetValueOrDefault("uploadType"))
        {
            case "media":
                name = query.GetValueOrDefault("name") ?? "";
                contentType = request.Content?.Headers.ContentType?.ToString() ?? "application/octet-stream";
                break;
            case "multipart":
                (name, contentType, body) = Multipart(request, body);
                break;
            case "resumable" when request.Method == HttpMethod.Post:
            {
                var metadata = body.Length > 0 ? JsonNode.Parse(body)!.AsObject() : [];
                name = (string?)metadata["name"] ?? query.GetValueOrDefault("name") ?? "";
                contentType = (string?)metadata["contentType"]
                    ?? (request.Headers.TryGetValues("X-Upload-Content-Type", out var v) ? v.First() : "application/octet-stream");
                var id = Interlocked.Increment(ref _nextSession).ToString(CultureInfo.InvariantCulture);
                _sessions[id] = new Upload(bucket, name, contentType);
                var started = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent([]) };
                started.Headers.Location = new Uri($"http://gcs.fake.test/upload/storage/v1/b/{bucket}/o?uploadType=resumable&upload_id={id}");
                return started;
            }
            case "resumable" when request.Method == HttpMethod.Put:
            {
                if (!_sessions.TryGetValue(query.GetValueOrDefault("upload_id") ?? "", out var session))
                    return Error(HttpStatusCode.NotFound, "No such upload session.");
                var range = request.Content?.Headers.ContentRange;
                if (body.Length > 0)
                {
                    if (range?.From != session.Received.Length) return Error(HttpStatusCode.BadRequest, "The chunk does not continue the upload.");
                    session.Received.Write(body);
                }
                if (range?.Length is not { } total || session.Received.Length < total)
                {
                    var partial = new HttpResponseMessage((HttpStatusCode)308) { Content = new ByteArrayContent([]) };
                    if (session.Received.Length > 0) partial.Headers.TryAddWithoutValidation("Range", $"bytes=0-{session.Received.Length - 1}");
                    return partial;
                }
                _sessions.TryRemove(query["upload_id"], out _);
                (name, contentType, body) = (session.Name, session.ContentType, session.Received.ToArray());
                break;
            }
            default:
                return Error(HttpStatusCode.BadRequest, "Unknown uploadType.", "invalid");
        }
        if (name.Length == 0) return Error(HttpStatusCode.BadRequest, "Required: object name.", "required");
        var stored = new Stored(body, contentType);
        lock (objects) objects[name] = stored;
        return Json(Resource(bucket, name, stored));
    }

    /// <summary>multipart/related: the object's JSON metadata, then its bytes.</summary>
    private static (string Name, string ContentType, byte[] Content) Multipart(HttpRequestMessage request, byte[] body)
    {
        var boundary = request.Content!.Headers.ContentType!.Parameters.First(p => p.Name == "boundary").Value!.Trim('"');
        var text = Encoding.Latin1.GetString(body);
        var parts = text.Split("--" + boundary).Skip(1).Where(p => !p.StartsWith("--", StringComparison.Ordinal)).ToArray();
        string Payload(string part) => part[(part.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..^2];
        var metadata = JsonNode.Parse(Payload(parts[0]))!.AsObject();
        var media = Payload(parts[1]);
        var contentType = (string?)metadata["contentType"] ?? "application/octet-stream";
        return ((string?)metadata["name"] ?? "", contentType, Encoding.Latin1.GetBytes(media));
    }

    private static JsonObject Resource(string bucket, string name, Stored stored) => new()
    {
        ["kind"] = "storage#object",
        ["id"] = $"{bucket}/{name}/1",
        ["name"] = name,
        ["bucket"] = bucket,
        ["generation"] = "1",
        ["metageneration"] = "1",
        ["contentType"] = stored.ContentType,
        // int64 fields are strings in the JSON API.
        ["size"] = stored.Content.Length.ToString(CultureInfo.InvariantCulture),
        ["md5Hash"] = Convert.ToBase64String(MD5.HashData(stored.Content)),
        ["crc32c"] = Crc32C(stored.Content),
        ["storageClass"] = "STANDARD",
        ["timeCreated"] = "2024-04-18T00:00:00.000Z",
        ["updated"] = "2024-04-18T00:00:00.000Z",
    };

    private static HttpResponseMessage Json(JsonNode node) => new(HttpStatusCode.OK)
    {
        Content = new StringContent(node.ToJsonString(), Encoding.UTF8, "application/json"),
    };

    private static HttpResponseMessage Error(HttpStatusCode status, string message, string? reason = null)
    {
        reason ??= status switch
        {
            HttpStatusCode.NotFound => "notFound",
            HttpStatusCode.Unauthorized => "required",
            _ => "invalid",
        };
        var error = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = (int)status,
                ["message"] = message,
                ["errors"] = new JsonArray(new JsonObject { ["message"] = message, ["domain"] = "global", ["reason"] = reason }),
            },
        };
        var response = Json(error);
        response.StatusCode = status;
        return response;
    }

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
            result[key] = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
        }
        return result;
    }

    /// <summary>CRC-32C (Castagnoli), big-endian and base64 as the API writes it.</summary>
    private static string Crc32C(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        crc = ~crc;
        return Convert.ToBase64String([(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc]);
    }
}
