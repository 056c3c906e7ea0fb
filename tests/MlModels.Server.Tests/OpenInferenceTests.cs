using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using MlModels.Core.Serving;
using MlModels.Core.Tests;
using YamlDotNet.RepresentationModel;

namespace MlModels.Server.Tests;

/// <summary>
/// The Open Inference Protocol's REST endpoints (tests/specs/open-inference): every route, the datatypes and MLServer's
/// content types, the error statuses; every request sent and every answer got is validated against the OpenAPI file's
/// schemas, with unknown members refused.
/// </summary>
[Trait("Category", "Fast")]
public class OpenInferenceTests
{
    private const string Linear = "linear";

    // ---- the OpenAPI file's schemas as JSON Schema ------------------------------------------------------------------

    private static readonly Lazy<JsonObject> Defs = new(LoadDefs);

    /// <summary><c>components.schemas</c> of the YAML file: refs to $defs, x-examples dropped, additionalProperties false where absent.</summary>
    private static JsonObject LoadDefs()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(TestPaths.RepoRoot, "tests/specs/open-inference/open_inference_rest.yaml")))
            yaml.Load(reader);
        var root = (JsonObject)ToJson(yaml.Documents[0].RootNode)!;
        var schemas = (JsonObject)root["components"]!["schemas"]!.DeepClone();
        Close(schemas);
        return schemas;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children
            .Where(kv => ((YamlScalarNode)kv.Key).Value != "x-examples")
            .Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Value: "true" or "false" } s when s.Style == YamlDotNet.Core.ScalarStyle.Plain => JsonValue.Create(s.Value == "true"),
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => null,
    };

    private static void Close(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["$ref"] is JsonValue r) o["$ref"] = r.GetValue<string>().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
                if (o["type"]?.GetValue<string>() == "object" && o["properties"] is JsonObject && !o.ContainsKey("additionalProperties"))
                    o["additionalProperties"] = false;
                foreach (var (_, child) in o.ToList()) Close(child);
                break;
            case JsonArray a:
                foreach (var child in a) Close(child);
                break;
        }
    }

    /// <summary>Fails the test with the validator's errors unless <paramref name="json"/> is a valid <paramref name="schema"/>.</summary>
    private static void AssertValid(string schema, string json)
    {
        var doc = new JsonObject { ["$defs"] = Defs.Value.DeepClone(), ["$ref"] = "#/$defs/" + schema };
        var compiled = JsonSchema.FromText(doc.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
        using var instance = JsonDocument.Parse(json);
        var result = compiled.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{schema} refuses {json}:\n" + string.Join("\n", (result.Details ?? []).Where(d => d.Errors != null)
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Get(RunningServer s, string path, string schema)
    {
        var r = await s.Http.GetAsync(path);
        var text = await r.Content.ReadAsStringAsync();
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        AssertValid(r.IsSuccessStatusCode ? schema : "metadata_model_error_response", text);
        return (r.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>POSTs an inference request (validated first, unless it is meant to be malformed) and validates the answer.</summary>
    private static async Task<(HttpStatusCode Status, JsonElement Body)> Infer(RunningServer s, string body, string model = Linear,
        string? version = null, bool validRequest = true)
    {
        if (validRequest) AssertValid("inference_request", body);
        var path = $"/v2/models/{model}" + (version == null ? "" : $"/versions/{version}") + "/infer";
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var r = await s.Http.PostAsync(path, content);
        var text = await r.Content.ReadAsStringAsync();
        AssertValid(r.IsSuccessStatusCode ? "inference_response" : "inference_error_response", text);
        return (r.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string Columns(string datatype, string x1, string x2, string x3, string shape = "[2]", string? parameters = null) =>
        $$"""
        {"id": "req-1", {{(parameters == null ? "" : $"\"parameters\": {parameters}, ")}}"inputs": [
          {"name": "x1", "shape": {{shape}}, "datatype": "{{datatype}}", "data": {{x1}}},
          {"name": "x2", "shape": {{shape}}, "datatype": "{{datatype}}", "data": {{x2}}},
          {"name": "x3", "shape": {{shape}}, "datatype": "{{datatype}}", "data": {{x3}}}]}
        """;

    private static string OneTensor(string datatype, string data, string shape = "[2, 3]", string name = "input", string? parameters = null) =>
        $$"""{"inputs": [{"name": "{{name}}", "shape": {{shape}}, "datatype": "{{datatype}}", "data": {{data}}}]{{(parameters == null ? "" : $", \"parameters\": {parameters}")}}}""";

    private static string Error(JsonElement body) => body.GetProperty("error").GetString()!;

    private static string Outputs(JsonElement body) => body.GetProperty("outputs").GetRawText();

    // ---- health and metadata ----------------------------------------------------------------------------------------

    [Fact]
    public async Task HealthAndServerMetadata_Answer()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var live = await s.Http.GetAsync("/v2/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("{\"live\":true}", await live.Content.ReadAsStringAsync());
        var ready = await s.Http.GetAsync("/v2/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("{\"ready\":true}", await ready.Content.ReadAsStringAsync());
        foreach (var path in new[] { "/v2", "/v2/" })
        {
            var (status, body) = await Get(s, path, "metadata_server_response");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("mlmodels", body.GetProperty("name").GetString());
            Assert.Equal(MlModels.Core.ModuleVersion.Full, body.GetProperty("version").GetString());
            Assert.Equal("[]", body.GetProperty("extensions").GetRawText());
        }
    }

    [Fact]
    public async Task ModelMetadata_ColumnSignature_IsOneTensorPerColumn()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        foreach (var path in new[] { "/v2/models/linear", "/v2/models/linear/versions/1" })
        {
            var (status, body) = await Get(s, path, "metadata_model_response");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("""
                {"name":"linear","versions":["1"],"platform":"mlflow","inputs":[{"name":"x1","datatype":"FP64","shape":[-1,1]},{"name":"x2","datatype":"FP64","shape":[-1,1]},{"name":"x3","datatype":"FP64","shape":[-1,1]}],"outputs":[]}
                """, body.GetRawText());
        }
    }

    [Fact]
    public async Task ModelMetadata_TensorSignature_IsTheTensors()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.TensorModel());
        var (status, body) = await Get(s, "/v2/models/linear-tensor", "metadata_model_response");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""[{"name":"input","datatype":"FP32","shape":[-1,3]}]""", body.GetProperty("inputs").GetRawText());
        Assert.Equal("""[{"name":"variable","datatype":"FP32","shape":[-1,1]}]""", body.GetProperty("outputs").GetRawText());
    }

    [Fact]
    public async Task ModelReady_Answers_ForTheModelAndItsVersion()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        foreach (var path in new[] { "/v2/models/linear/ready", "/v2/models/linear/versions/1/ready" })
        {
            var r = await s.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("{\"name\":\"linear\",\"ready\":true}", await r.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [InlineData("GET", "/v2/models/other")]
    [InlineData("GET", "/v2/models/linear/versions/2")]
    [InlineData("GET", "/v2/models/other/ready")]
    [InlineData("GET", "/v2/models/linear/versions/2/ready")]
    [InlineData("POST", "/v2/models/other/infer")]
    [InlineData("POST", "/v2/models/linear/versions/2/infer")]
    public async Task UnknownModelOrVersion_Is404(string method, string path)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST") request.Content = new StringContent(Columns("FP64", "[1, 0]", "[2, 0]", "[3, 0]"), Encoding.UTF8, "application/json");
        var r = await s.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        var text = await r.Content.ReadAsStringAsync();
        AssertValid("inference_error_response", text);
        Assert.Contains("linear", Error(JsonDocument.Parse(text).RootElement));
    }

    [Fact]
    public async Task ModelName_IsTheServersSetting_AndTheCommandLineCarriesIt()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel(), new ServingOptions { ModelName = "house-prices" });
        Assert.Equal(HttpStatusCode.OK, (await Get(s, "/v2/models/house-prices", "metadata_model_response")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Get(s, "/v2/models/linear", "metadata_model_response")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Infer(s, Columns("FP64", "[1, 0]", "[2, 0]", "[3, 0]"), "house-prices", "1")).Status);

        var settings = new ServerSettings { ModelPath = "/m", ModelName = "house-prices" };
        Assert.Equal("house-prices", ServerCommandLine.Parse(ServerCommandLine.For(settings)).ModelName);
        Assert.Equal("house-prices", settings.ToServingOptions(null).ModelName);
    }

    // ---- inference: DataFrames ('pd') -------------------------------------------------------------------------------

    [Theory]
    [InlineData("[1, 0]", "[2, 0]", "[3, 0]", "[2]")]
    [InlineData("[[1], [0]]", "[[2], [0]]", "[[3], [0]]", "[2, 1]")]
    [InlineData("[1, 0]", "[[2], [0]]", "[[3, 0]]", "[2, 1]")]
    public async Task ColumnModel_TakesOneInputPerColumn_FlatOrNested(string x1, string x2, string x3, string shape)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var (status, body) = await Infer(s, Columns("FP64", x1, x2, x3, shape));
        Assert.Equal(HttpStatusCode.OK, status);
        // A DataFrame: one output per column, [N, 1], as MLServer's PandasCodec writes it.
        Assert.Equal("""
            {"model_name":"linear","model_version":"1","id":"req-1","parameters":{"content_type":"pd"},"outputs":[{"name":"variable","shape":[2,1],"datatype":"FP32","data":[4.75,0.25]}]}
            """, body.GetRawText());
    }

    [Theory]
    [InlineData("INT8")]
    [InlineData("INT16")]
    [InlineData("INT32")]
    [InlineData("UINT8")]
    [InlineData("UINT16")]
    [InlineData("UINT32")]
    [InlineData("FP16")]
    [InlineData("FP32")]
    [InlineData("FP64")]
    public async Task ColumnModel_TakesTheDatatypesThatWidenToItsColumns(string datatype)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var (status, body) = await Infer(s, Columns(datatype, "[1, 0]", "[2, 0]", "[3, 0]", parameters: "{\"content_type\": \"pd\"}"));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("""[{"name":"variable","shape":[2,1],"datatype":"FP32","data":[4.75,0.25]}]""", Outputs(body));
    }

    /// <summary>MLflow's _enforce_mlflow_datatype: only widening casts; int64 into float64 loses precision past 2^53, so it is refused.</summary>
    [Theory]
    [InlineData("INT64", "[1, 0]", "Can not safely convert int64 to float64")]
    [InlineData("UINT64", "[1, 0]", "Can not safely convert uint64 to float64")]
    [InlineData("BOOL", "[true, false]", "Can not safely convert bool to float64")]
    [InlineData("BYTES", "[\"1\", \"0\"]", "Can not safely convert str to float64")]
    public async Task ColumnModel_RefusesDatatypesThatDoNotWiden_400(string datatype, string x1, string message)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var body = $$"""
            {"inputs": [{"name": "x1", "shape": [2], "datatype": "{{datatype}}", "data": {{x1}}},
              {"name": "x2", "shape": [2], "datatype": "FP64", "data": [2, 0]}, {"name": "x3", "shape": [2], "datatype": "FP64", "data": [3, 0]}]}
            """;
        var (status, answer) = await Infer(s, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, Error(answer));
    }

    [Fact]
    public async Task ColumnModel_TakesTheModelsParams()
    {
        // The linear fixture's graph ignores k, but its param schema checks it: a string for a long is refused.
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        Assert.Equal(HttpStatusCode.OK, (await Infer(s, Columns("FP64", "[1, 0]", "[2, 0]", "[3, 0]", parameters: "{\"k\": 3}"))).Status);
        var (status, body) = await Infer(s, Columns("FP64", "[1, 0]", "[2, 0]", "[3, 0]", parameters: "{\"k\": \"three\"}"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("k", Error(body));
    }

    [Fact]
    public async Task ColumnModel_RefusesOneArray_np_400()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var (status, body) = await Infer(s, OneTensor("FP64", "[1, 2, 3, 0, 0, 0]", name: "x1", parameters: "{\"content_type\": \"np\"}"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("column-based signature", Error(body));
    }

    // ---- inference: tensors ('np', 'dict') --------------------------------------------------------------------------

    [Theory]
    [InlineData(null)]
    [InlineData("\"np\"")]
    [InlineData("\"dict\"")]
    public async Task TensorModel_TakesItsNamedTensor(string? contentType)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.TensorModel());
        foreach (var data in new[] { "[1, 2, 3, 0, 0, 0]", "[[1, 2, 3], [0, 0, 0]]" })
        {
            var request = OneTensor("FP32", data, parameters: contentType == null ? null : $"{{\"content_type\": {contentType}}}");
            var (status, body) = await Infer(s, request, "linear-tensor");
            Assert.Equal(HttpStatusCode.OK, status);
            // A dict of arrays: one output per key (MLServer's TensorDictCodec), each [N, 1] as the array is.
            Assert.Equal("""
                {"model_name":"linear-tensor","model_version":"1","parameters":{"content_type":"dict"},"outputs":[{"name":"variable","shape":[2,1],"datatype":"FP32","parameters":{"content_type":"np"},"data":[4.75,0.25]}]}
                """, body.GetRawText());
        }
    }

    /// <summary>MLflow's _enforce_tensor_spec: an array's dtype must be the spec's (float32 here); MLServer does not cast.</summary>
    [Theory]
    [InlineData("BOOL", "[true, false, true, false, true, false]")]
    [InlineData("UINT8", "[1, 2, 3, 0, 0, 0]")]
    [InlineData("UINT16", "[1, 2, 3, 0, 0, 0]")]
    [InlineData("UINT32", "[1, 2, 3, 0, 0, 0]")]
    [InlineData("UINT64", "[1, 2, 3, 0, 0, 0]")]
    [InlineData("INT8", "[1, 2, 3, 0, 0, 0]")]
    [InlineData("INT16", "[1, 2, 3, 0, 0, 0]")]
    [InlineData("INT32", "[1, 2, 3, 0, 0, 0]")]
    [InlineData("INT64", "[1, 2, 3, 0, 0, 0]")]
    [InlineData("FP16", "[1, 2, 3, 0, 0, 0]")]
    [InlineData("FP64", "[1, 2, 3, 0, 0, 0]")]
    public async Task TensorModel_RefusesEveryDatatypeButItsOwn_400(string datatype, string data)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.TensorModel());
        var (status, body) = await Infer(s, OneTensor(datatype, data), "linear-tensor");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("does not match expected dtype float32 (send the input as FP32)", Error(body));
    }

    [Fact]
    public async Task TensorModel_ShapeAgainstItsSpec_400()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.TensorModel());
        var (status, body) = await Infer(s, OneTensor("FP32", "[1, 2, 3, 4]", "[1, 4]"), "linear-tensor");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("does not match expected shape (-1, 3)", Error(body));
    }

    private static MlModels.Core.Format.MLModel Wrapped(string fixture) => MlModels.Core.Scoring.Onnx.OnnxPackager.Save(
        Path.Combine(TestPaths.RepoRoot, "tests/fixtures/onnx", fixture + ".onnx"), Path.Combine(TestPaths.NewTempDir(), fixture));

    /// <summary>Named tensors of several dtypes, strings among them: BYTES in, BYTES out with content type "str".</summary>
    [Fact]
    public async Task MultiInputModel_TakesNamedTensors_BytesIncluded()
    {
        await using var s = await RunningServer.StartAsync(Wrapped("multi"));
        var (_, meta) = await Get(s, "/v2/models/multi", "metadata_model_response");
        Assert.Equal("""[{"name":"a","datatype":"FP64","shape":[-1]},{"name":"b","datatype":"FP64","shape":[-1]},{"name":"name","datatype":"BYTES","shape":[-1]}]""",
            meta.GetProperty("inputs").GetRawText());
        var request = """
            {"inputs": [{"name": "name", "shape": [2], "datatype": "BYTES", "data": ["p", "q"]},
              {"name": "a", "shape": [2], "datatype": "FP64", "data": [1, 2]}, {"name": "b", "shape": [2], "datatype": "FP64", "data": [0.5, 1]}]}
            """;
        var (status, body) = await Infer(s, request, "multi");
        Assert.True(status == HttpStatusCode.OK, body.GetRawText());
        Assert.Equal("""
            [{"name":"total","shape":[2,1],"datatype":"FP64","parameters":{"content_type":"np"},"data":[2,4]},{"name":"name_out","shape":[2,1],"datatype":"BYTES","parameters":{"content_type":"str"},"data":["p","q"]}]
            """, Outputs(body));
        // The same outputs, one asked for.
        (status, body) = await Infer(s, request[..^1] + ", \"outputs\": [{\"name\": \"name_out\"}]}", "multi");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("name_out", Assert.Single(body.GetProperty("outputs").EnumerateArray()).GetProperty("name").GetString());
        // A name the signature does not know, and one it needs left out.
        (status, body) = await Infer(s, request.Replace("\"b\"", "\"c\"", StringComparison.Ordinal), "multi");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("has no input 'c'", Error(body));
    }

    /// <summary>An ONNX classifier: labels as INT64, the ZipMap's per-row dicts as JSON text (pd_json).</summary>
    [Fact]
    public async Task ClassifierModel_LabelsAndProbabilities()
    {
        await using var s = await RunningServer.StartAsync(Wrapped("classifier"));
        var (status, body) = await Infer(s, OneTensor("FP32", "[[1, 2, 3], [0, 0, 0]]"), "classifier");
        Assert.True(status == HttpStatusCode.OK, body.GetRawText());
        var outputs = body.GetProperty("outputs");
        Assert.Equal("label", outputs[0].GetProperty("name").GetString());
        Assert.Equal("INT64", outputs[0].GetProperty("datatype").GetString());
        Assert.Equal("[2,1]", outputs[0].GetProperty("shape").GetRawText());
        Assert.Equal("probabilities", outputs[1].GetProperty("name").GetString());
        Assert.Equal("BYTES", outputs[1].GetProperty("datatype").GetString());
        Assert.Equal("pd_json", outputs[1].GetProperty("parameters").GetProperty("content_type").GetString());
    }

    // ---- requested outputs ------------------------------------------------------------------------------------------

    [Fact]
    public async Task RequestedOutputs_FilterTheAnswer_AndAnUnknownOneIs400()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var asked = Columns("FP64", "[1, 0]", "[2, 0]", "[3, 0]")[..^1] + ", \"outputs\": [{\"name\": \"variable\"}]}";
        var (status, body) = await Infer(s, asked);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("variable", body.GetProperty("outputs")[0].GetProperty("name").GetString());
        var unknown = Columns("FP64", "[1, 0]", "[2, 0]", "[3, 0]")[..^1] + ", \"outputs\": [{\"name\": \"output0\"}]}";
        (status, body) = await Infer(s, unknown);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("'output0'", Error(body));
    }

    // ---- errors ----------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("{\"inputs\": [", "not an inference request")]
    [InlineData("[]", "not an inference request")]
    [InlineData("{\"id\": \"1\"}", "no \"inputs\"")]
    [InlineData("{\"inputs\": [{\"name\": \"x1\", \"shape\": [2], \"datatype\": \"FP64\"}]}", "no \"data\"")]
    [InlineData("{\"inputs\": [{\"name\": \"x1\", \"shape\": [2], \"data\": [1, 2]}]}", "no \"datatype\"")]
    [InlineData("{\"inputs\": [{\"name\": \"x1\", \"datatype\": \"FP64\", \"data\": [1, 2]}]}", "no \"shape\"")]
    [InlineData("{\"inputs\": [{\"name\": \"x1\", \"shape\": \"2\", \"datatype\": \"FP64\", \"data\": [1, 2]}]}", "not an inference request")]
    public async Task MalformedBody_Is400(string body, string message)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var (status, answer) = await Infer(s, body, validRequest: false);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, Error(answer));
    }

    [Theory]
    [InlineData("FP64", "[3]", "[1, 2]", "has the shape [3], which holds 3 values, but its data has 2")]
    [InlineData("FP64", "[2, 2]", "[[1, 2], [3]]", "has the shape [2, 2], which holds 4 values, but its data has 3")]
    [InlineData("FP8", "[2]", "[1, 2]", "datatype 'FP8', which is not one of the protocol's")]
    [InlineData("BF16", "[2]", "[1, 2]", "datatype 'BF16', which is not one of the protocol's")]
    [InlineData("INT32", "[2]", "[1.5, 2]", "is not a whole number that int32 holds")]
    [InlineData("UINT8", "[2]", "[300, 2]", "is not a whole number that uint8 holds")]
    [InlineData("FP64", "[2]", "[\"1\", 2]", "is not a number")]
    [InlineData("BYTES", "[2]", "[1, 2]", "is not a string")]
    [InlineData("BOOL", "[2]", "[1, 0]", "is not true or false")]
    public async Task DataThatDisagreesWithItsShapeOrDatatype_Is400(string datatype, string shape, string data, string message)
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var body = $$"""{"inputs": [{"name": "x1", "shape": {{shape}}, "datatype": "{{datatype}}", "data": {{data}}}]}""";
        var (status, answer) = await Infer(s, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(message, Error(answer));
    }

    [Fact]
    public async Task TensorNameTheSignatureDoesNotKnow_Is400()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var body = Columns("FP64", "[1, 0]", "[2, 0]", "[3, 0]").Replace("\"x3\"", "\"x4\"", StringComparison.Ordinal);
        var (status, answer) = await Infer(s, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("has no input 'x4'", Error(answer));
    }

    [Fact]
    public async Task MissingColumn_Is400()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel());
        var body = """{"inputs": [{"name": "x1", "shape": [1], "datatype": "FP64", "data": [1]}]}""";
        var (status, answer) = await Infer(s, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Model is missing inputs ['x2', 'x3']", Error(answer));
    }

    [Fact]
    public async Task BodyOverTheLimit_Is413()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel(), new ServingOptions { MaxBodyBytes = 1024 });
        var big = "[" + string.Join(", ", Enumerable.Repeat("1.0", 600)) + "]";
        var (status, body) = await Infer(s, Columns("FP64", big, big, big, "[600]"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("larger than the limit", Error(body));
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimit_Is413()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel(), new ServingOptions { MaxBodyBytes = 1024 });
        var big = "[" + string.Join(", ", Enumerable.Repeat("1.0", 600)) + "]";
        // No Content-Length: Kestrel stops the body at the limit while it is read.
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(Columns("FP64", big, big, big, "[600]"))));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/linear/infer") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        var r = await s.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        AssertValid("inference_error_response", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ApiKey_IsRequiredWhenSet_401()
    {
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel(), new ServingOptions { ApiKey = "k1" });
        var (status, _) = await Infer(s, Columns("FP64", "[1, 0]", "[2, 0]", "[3, 0]"));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        s.Http.DefaultRequestHeaders.Add("X-API-Key", "k1");
        Assert.Equal(HttpStatusCode.OK, (await Infer(s, Columns("FP64", "[1, 0]", "[2, 0]", "[3, 0]"))).Status);
    }

    /// <summary>The schema check has teeth: an unknown member, a missing one, a wrong type are refused.</summary>
    [Theory]
    [InlineData("inference_request", "{\"inputs\": [], \"extra\": 1}")]
    [InlineData("inference_request", "{\"inputs\": [{\"name\": \"a\", \"shape\": [1], \"datatype\": \"FP32\"}]}")]
    [InlineData("inference_response", "{\"model_name\": \"m\", \"outputs\": [{\"name\": \"a\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [null]}]}")]
    [InlineData("metadata_model_response", "{\"name\": \"m\", \"platform\": \"p\", \"inputs\": [{\"name\": \"a\", \"datatype\": \"FP32\", \"shape\": [1], \"parameters\": {}}]}")]
    [InlineData("metadata_server_response", "{\"name\": \"m\", \"version\": \"1\"}")]
    public void SchemaCheck_RefusesWhatTheSpecificationDoesNotAllow(string schema, string json) =>
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertValid(schema, json));

    // ---- a Python model, through the worker --------------------------------------------------------------------------

    private static string PythonFixtures()
    {
        Prerequisites.Require(Prerequisites.PythonHas("sklearn, pandas, cloudpickle"), "python3-sklearn, python3-pandas and python3-cloudpickle (Debian)");
        var dir = TestPaths.NewTempDir();
        using var p = System.Diagnostics.Process.Start(Prerequisites.DebianPython,
            [Path.Combine(TestPaths.RepoRoot, "tests/fixtures/make_python_models.py"), dir]);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return dir;
    }

    private static ServingOptions PythonOptions() => new()
    {
        Timeout = TimeSpan.FromSeconds(60),
        Python = new MlModels.Core.Scoring.Python.PythonOptions(Prerequisites.DebianPython, MlModels.Core.Scoring.Python.EnvManager.Local,
            TimeSpan.FromSeconds(60)),
    };

    [SkippableFact]
    [Trait("Category", "Python")]
    public async Task PythonModels_ScoreThroughTheWorker_ArrayAndSeries_AndOneThatRaisesIs400()
    {
        var dir = PythonFixtures();
        var one = Columns("FP64", "[1, 0]", "[2, 0]", "[3, 0]");
        await using (var s = await RunningServer.StartAsync(
            MlModels.Core.Format.ModelStore.Load(Path.Combine(dir, "sklearn-linear-pickle")), PythonOptions()))
        {
            var (status, body) = await Infer(s, one, "sklearn-linear-pickle");
            Assert.True(status == HttpStatusCode.OK, body.GetRawText());
            // An ndarray: the one output "output-1" (NumpyRequestCodec), [N] given as [N, 1].
            var output = body.GetProperty("outputs")[0];
            Assert.Equal("output-1", output.GetProperty("name").GetString());
            Assert.Equal("[2,1]", output.GetProperty("shape").GetRawText());
            Assert.Equal("FP64", output.GetProperty("datatype").GetString());
            Assert.Equal("np", body.GetProperty("parameters").GetProperty("content_type").GetString());
        }
        await using (var s = await RunningServer.StartAsync(
            MlModels.Core.Format.ModelStore.Load(Path.Combine(dir, "python-model-artifact")), PythonOptions()))
        {
            // (x1 + x2) * scale + 10, scale from the request's parameters.
            var (status, body) = await Infer(s, Columns("FP64", "[1, 0]", "[2, 0]", "[3, 0]", parameters: "{\"scale\": 2.0}"),
                "python-model-artifact");
            Assert.True(status == HttpStatusCode.OK, body.GetRawText());
            Assert.Equal("[16,10]", body.GetProperty("outputs")[0].GetProperty("data").GetRawText());
        }
        await using (var s = await RunningServer.StartAsync(
            MlModels.Core.Format.ModelStore.Load(Path.Combine(dir, "custom-behaviour")), PythonOptions()))
        {
            var (status, body) = await Infer(s, Columns("FP64", "[111]", "[1]", "[1]", "[1]"), "custom-behaviour");
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Contains("model refuses x1 == 111", Error(body));
        }
    }

    // ---- the specification's own example ----------------------------------------------------------------------------

    /// <summary>
    /// inference_rest.md's request example, sent to a server whose model is named as in it ("mymodel"). It is a valid
    /// inference_request by the schema, but its input1 says shape [3] and gives one value, so a server that checks
    /// data against shape answers 400 (and the linear model has no input0 or input1 either).
    /// </summary>
    [Fact]
    public async Task SpecificationExample_Request_IsSchemaValid_AndItsShapeMismatchIs400()
    {
        var doc = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests/specs/open-inference/inference_rest.md"));
        int at = doc.IndexOf("POST /v2/models/mymodel/infer", StringComparison.Ordinal);
        int start = doc.IndexOf('{', at);
        var request = Balanced(doc, start);
        await using var s = await RunningServer.StartAsync(RunningServer.LinearModel(), new ServingOptions { ModelName = "mymodel" });
        var (status, body) = await Infer(s, request, "mymodel");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("'input1' has the shape [3], which holds 3 values, but its data has 1", Error(body));
        // Corrected to one value, the names are what the linear model refuses.
        (status, body) = await Infer(s, request.Replace("\"shape\" : [ 3 ]", "\"shape\" : [ 1 ]", StringComparison.Ordinal), "mymodel");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("has no input 'input0'", Error(body));
    }

    /// <summary>
    /// The document's example answered as it describes: a Python model with the example's inputs (input0 UINT32
    /// [2, 2], input1 BOOL) that returns the [3, 2] FP32 "output0" of the example's response; input1's shape is
    /// corrected to its one value, and the requested output0 is what comes back.
    /// </summary>
    [SkippableFact]
    [Trait("Category", "Python")]
    public async Task SpecificationExample_AnsweredByAModelWithItsInputs()
    {
        Prerequisites.Require(Prerequisites.PythonHas("numpy"), "python3-numpy (Debian)");
        var dir = Path.Combine(TestPaths.NewTempDir(), "mymodel");
        Directory.CreateDirectory(Path.Combine(dir, "code"));
        File.WriteAllText(Path.Combine(dir, "code", "example.py"), """
            import numpy as np
            class M:
                def predict(self, inputs, params=None):
                    assert inputs["input0"].dtype == np.uint32 and inputs["input0"].shape == (2, 2), inputs["input0"]
                    assert inputs["input1"].dtype == np.bool_, inputs["input1"]
                    return {"output0": np.array([[1.0, 1.1], [2.0, 2.1], [3.0, 3.1]], dtype=np.float32),
                            "other": np.zeros(3, dtype=np.float32)}
            def _load_pyfunc(path):
                return M()
            """);
        File.WriteAllText(Path.Combine(dir, "MLmodel"), """
            flavors:
              python_function:
                loader_module: example
                code: code
                python_version: 3.11.2
            signature:
              inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "uint32", "shape": [-1, 2]}, "name": "input0"}, {"type": "tensor", "tensor-spec": {"dtype": "bool", "shape": [-1]}, "name": "input1"}]'
            utc_time_created: '2025-01-01 00:00:00.000001'
            """);
        var doc = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests/specs/open-inference/inference_rest.md"));
        var request = Balanced(doc, doc.IndexOf('{', doc.IndexOf("POST /v2/models/mymodel/infer", StringComparison.Ordinal)))
            .Replace("\"shape\" : [ 3 ]", "\"shape\" : [ 1 ]", StringComparison.Ordinal);
        await using var s = await RunningServer.StartAsync(MlModels.Core.Format.ModelStore.Load(dir), PythonOptions());
        var (status, body) = await Infer(s, request, "mymodel");
        Assert.True(status == HttpStatusCode.OK, body.GetRawText());
        Assert.Equal("42", body.GetProperty("id").GetString());
        Assert.Equal("""
            [{"name":"output0","shape":[3,2],"datatype":"FP32","parameters":{"content_type":"np"},"data":[1,1.1,2,2.1,3,3.1]}]
            """, Outputs(body));
    }

    /// <summary>The example response, with the comma the document leaves out after "id", is a valid inference_response.</summary>
    [Fact]
    public void SpecificationExample_Response_IsSchemaValid()
    {
        var doc = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests/specs/open-inference/inference_rest.md"));
        int at = doc.IndexOf("HTTP/1.1 200 OK", StringComparison.Ordinal);
        var response = Balanced(doc, doc.IndexOf('{', at)).Replace("\"42\"\n", "\"42\",\n", StringComparison.Ordinal);
        var json = JsonNode.Parse(response)!.AsObject();
        json["model_name"] = "mymodel"; // required by the schema; the document's example omits it
        AssertValid("inference_response", json.ToJsonString());
    }

    private static string Balanced(string text, int start)
    {
        int depth = 0;
        for (int i = start; i < text.Length; i++)
        {
            if (text[i] == '{') depth++;
            else if (text[i] == '}' && --depth == 0) return text[start..(i + 1)];
        }
        throw new InvalidDataException("unbalanced example");
    }
}
