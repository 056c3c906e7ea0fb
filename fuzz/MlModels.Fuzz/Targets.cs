using System.Text;
using System.Text.Json;
using MlModels.Core.Format;
using MlModels.Core.Format.Yaml;
using MlModels.Core.Scoring;
using MlModels.Core.Scoring.Onnx;
using MlModels.Core.Scoring.Python;
using MlModels.Core.Serving;

namespace MlModels.Fuzz;

/// <summary>
/// One target per parser the module exposes. Each turns bytes into a result or one of the module's typed errors
/// (<see cref="MLModelFormatException"/>, <see cref="SchemaViolationException"/>); anything else escapes, which afl
/// records as a crash and the regression test (tests/MlModels.Core.Tests/Robustness) reports as a failure.
/// The server targets also fail on any answer but 200, 400, 413 and 415.
/// </summary>
public static class Targets
{
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["mlmodel"] = MLmodel,
        ["signature"] = Signature,
        ["example"] = Example,
        ["env"] = Environment,
        ["request"] = Request,
        ["csv"] = Csv,
        ["frame"] = Frame,
    };

    /// <summary>Text the way File.ReadAllText reads a file (BOM detection, invalid UTF-8 replaced).</summary>
    public static string Text(byte[] bytes)
    {
        using var reader = new StreamReader(new MemoryStream(bytes), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    private static T? Expect<T>(Func<T> parse) where T : class
    {
        try { return parse(); }
        catch (MLModelFormatException) { return null; }
        catch (SchemaViolationException) { return null; }
    }

    /// <summary>MLmodel YAML: what loads has typed fields that read without throwing, and saves to YAML that loads as the same model.</summary>
    public static void MLmodel(byte[] data)
    {
        var model = Expect(() => ModelStore.Parse(Text(data), "MLmodel"));
        if (model == null) return;
        Touch(model);
        var yaml = model.ToYaml();
        MLModel again;
        try { again = ModelStore.Parse(yaml, "MLmodel (as written)"); }
        catch (MLModelFormatException ex) { throw new InvalidOperationException($"A model that loaded does not load once written: {ex.Message}\n{yaml}", ex); }
        if (!PlainValues.DeepEquals(again.ToDictionary(), model.ToDictionary()))
            throw new InvalidOperationException($"A model written and read back changed:\n{yaml}");
    }

    private static void Touch(MLModel m)
    {
        _ = (m.Name, m.ArtifactPath, m.RunId, m.ModelUuid, m.ModelId, m.MlflowVersion, m.DatabricksRuntime, m.UtcTimeCreated, m.ToString());
        _ = (m.Metadata, m.AdditionalFields.Count, m.SavedInputExampleInfo?.ToString(), m.SavedInputExampleInfo?.PandasOrient, m.SavedInputExampleInfo?.ServingInputPath);
        foreach (var f in m.Flavors.Values) _ = (f.LoaderModule, f.Code, f.Data, f.PythonVersion, f.PredictFn, f.Env, f.ToString());
        Touch(m.Signature);
    }

    private static void Touch(ModelSignature? s)
    {
        if (s == null) return;
        foreach (var schema in new[] { s.Inputs, s.Outputs })
        {
            if (schema == null) continue;
            _ = (schema.HasNames, schema.ToString(), schema.ToJson());
            foreach (var c in schema.Columns) _ = (c.Name, c.Type, c.Required, c.TypeName);
            foreach (var t in schema.Tensors) _ = (t.Name, t.DType, t.Shape, t.ToString());
        }
        if (s.Params != null)
        {
            _ = (s.Params.ToString(), s.Params.ToJson());
            foreach (var p in s.Params.Params) _ = (p.Name, p.Type, p.Default, p.Shape);
        }
        _ = (s.ToJson(), s.ToDictionary(), s.ToString());
    }

    /// <summary>Signature JSON (Set-MLModelSignature's input): what parses reads and writes back to the same signature.</summary>
    public static void Signature(byte[] data)
    {
        var sig = Expect(() => ModelSignature.ParseJson(Text(data)));
        if (sig == null) return;
        Touch(sig);
        var json = sig.ToJson();
        ModelSignature again;
        try { again = ModelSignature.ParseJson(json); }
        catch (MLModelFormatException ex) { throw new InvalidOperationException($"A signature that parsed does not parse once written: {ex.Message}\n{json}", ex); }
        if (again.ToJson() != json) throw new InvalidOperationException($"A signature written and read back changed:\n{json}\n{again.ToJson()}");
    }

    /// <summary>A saved input example, in each of the forms MLflow writes.</summary>
    public static void Example(byte[] data)
    {
        var text = Text(data);
        foreach (var (type, orient) in new[] { ("dataframe", "split"), ("dataframe", "records"), ((string?)null, (string?)null), ("ndarray", null) })
        {
            var ex = Expect(() => InputExample.Parse(text, type, orient, "input_example.json"));
            if (ex?.Rows != null && ex.Columns == null) throw new InvalidOperationException("An example with rows has no columns.");
        }
    }

    /// <summary>python_env.yaml and conda.yaml.</summary>
    public static void Environment(byte[] data)
    {
        var text = Text(data);
        _ = Expect(() => EnvironmentFiles.ParsePythonEnv(text, "python_env.yaml"));
        var conda = Expect(() => EnvironmentFiles.ParseConda(text, "conda.yaml"));
        _ = conda?.PythonVersion;
    }

    // Built on first use: instrumented code may run only inside the fuzzing loop.
    private static Schema RichSchema => LazyRich.Value.Schema;
    private static ParamSchema RichParams => LazyRich.Value.Params;

    private static readonly Lazy<(Schema Schema, ParamSchema Params)> LazyRich = new(() => (Schema.Parse("""
        [{"type": "double", "name": "a", "required": true}, {"type": "long", "name": "b", "required": true},
         {"type": "string", "name": "c", "required": false}, {"type": "boolean", "name": "d", "required": false},
         {"type": "float", "name": "e", "required": false}, {"type": "integer", "name": "f", "required": false},
         {"type": "datetime", "name": "g", "required": false}, {"type": "binary", "name": "h", "required": false},
         {"type": "array", "items": {"type": "double"}, "name": "i", "required": false}]
        """, "inputs"), ParamSchema.Parse("""
        [{"name": "k", "type": "long", "default": 1, "shape": null}, {"name": "mode", "type": "string", "default": "sum", "shape": null},
         {"name": "factor", "type": "double", "default": 1.5, "shape": null}, {"name": "flags", "type": "boolean", "default": [true], "shape": [-1]}]
        """, "params")));

    /// <summary>An MLflow JSON scoring request: the parser with a schema of every column type, then the whole server path.</summary>
    public static void Request(byte[] data)
    {
        var text = Text(data);
        Expect(() =>
        {
            using var request = ScoringRequest.Parse(text, "request");
            var given = request.Params is JsonElement p ? p.EnumerateObject().GroupBy(x => PyJson.Name(x)).ToDictionary(g => g.Key, g => (object?)g.Last().Value) : null;
            ParamsEnforcement.Apply(RichParams, given, null);
            var table = request.Format switch
            {
                "dataframe_split" => JsonTable.FromSplit(request.Data),
                "dataframe_records" => JsonTable.FromRecords(request.Data, request.Format),
                _ when request.Data.ValueKind == JsonValueKind.Object => JsonTable.FromColumns(request.Data.EnumerateObject().Select(x => KeyValuePair.Create(x.Name, x.Value)).ToList(), request.Format == "instances"),
                _ => null,
            };
            if (table != null)
            {
                table.ToFrame(names => ColumnPlan.Create(RichSchema, names, _ => ElementKind.Object, null));
                table.ToFrame(names => ColumnPlan.Create(null, names, _ => ElementKind.Object, null));
            }
            else TensorConversion.FromJson(request.Data, ElementKind.Float32, "input");
            return request;
        });
        Serve("application/json", data);
    }

    /// <summary>A CSV file or body: the reader with a schema of every column type and without one, then the server path.</summary>
    public static void Csv(byte[] data)
    {
        Expect(() => CsvInput.Read(new MemoryStream(data), "input.csv", names => ColumnPlan.Create(RichSchema, names, _ => ElementKind.Object, null), 4).ToList());
        Expect(() => CsvInput.Read(new MemoryStream(data), "input.csv", names => ColumnPlan.Create(null, names, _ => ElementKind.Float64, null), 4).ToList());
        Serve("text/csv", data);
    }

    /// <summary>The Python worker's reply frames, read one after another until the stream ends.</summary>
    public static void Frame(byte[] data)
    {
        var stream = new MemoryStream(data);
        try
        {
            while (true)
            {
                var (header, payload) = WorkerFrames.Read(stream, "fuzz");
                _ = (WorkerFrames.Text(header, "type"), WorkerFrames.Text(header, "error"), WorkerFrames.Int(header, "rows"), payload.Length);
            }
        }
        catch (EndOfStreamException) { }
        catch (PythonWorkerException) { }
    }

    private static readonly Lazy<ScoringService> Service = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), $"mlmodels-fuzz-{System.Environment.ProcessId}", "linear");
        var m = OnnxPackager.Save(Path.Combine(RepoRoot(), "tests/fixtures/onnx/linear.onnx"), dir, force: true);
        m.Signature = new ModelSignature(
            new Schema([new ColumnSpec("x1", DataType.Double), new ColumnSpec("x2", DataType.Double), new ColumnSpec("x3", DataType.Double)]),
            null, RichParams);
        return new ScoringService(ModelStore.Save(m, dir, new SaveOptions(Force: true)), new ServingOptions { Timeout = TimeSpan.FromSeconds(30), Threads = 1 });
    });

    /// <summary>Posts a body to the linear ONNX model's scoring service (columns x1, x2, x3; params k, mode, factor, flags).</summary>
    public static ServingResponse Serve(string contentType, byte[] body)
    {
        var response = Service.Value.InvokeAsync(contentType, new MemoryStream(body), CancellationToken.None).GetAwaiter().GetResult();
        if (response.Status is not (200 or 400 or 413 or 415))
            throw new InvalidOperationException($"The server answered {response.Status}: {Encoding.UTF8.GetString(response.Body)}");
        return response;
    }

    public static string RepoRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, System.Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "MlModels.PowerShell.sln"))) return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (MlModels.PowerShell.sln).");
    }
}
