using MlModels.Core.Format;

namespace MlModels.Core.Scoring.Onnx;

/// <summary>Wraps a bare .onnx file as an MLflow model folder, as <c>mlflow.onnx.save_model</c> writes one.</summary>
public static class OnnxPackager
{
    /// <summary>The Python version written into the environment files; MLflow records the interpreter it ran in.</summary>
    public const string DefaultPythonVersion = "3.11.9";
    public const string OnnxRuntimePythonVersion = "1.20.1";

    public static MLModel Save(
        string onnxFile,
        string destination,
        bool force = false,
        string pythonVersion = DefaultPythonVersion,
        Action<string>? warn = null,
        CancellationToken ct = default)
    {
        if (!File.Exists(onnxFile)) throw new FileNotFoundException($"ONNX file {onnxFile} does not exist.", onnxFile);
        var onnxVersion = OnnxVersionFor(ReadIrVersion(onnxFile));
        var model = MLModel.Create();
        // Read the graph first: a corrupt file fails here, before anything is written.
        using (var scorer = OnnxScorer.Load(onnxFile, model, null, warn))
        {
            model.Signature = new ModelSignature(
                new Schema(scorer.Inputs.Select(p => new TensorSpec(p.Name, p.Kind.NumpyName(), p.Shape))),
                scorer.Outputs.All(p => p.ValueType == Microsoft.ML.OnnxRuntime.OnnxValueType.ONNX_TYPE_TENSOR)
                    ? new Schema(scorer.Outputs.Select(p => new TensorSpec(p.Name, p.Kind.NumpyName(), p.Shape))) : null);
        }
        model.AddFlavor("onnx", new Dictionary<string, object?>
        {
            ["code"] = null,
            ["data"] = "model.onnx",
            ["onnx_version"] = onnxVersion,
            ["providers"] = new List<object?> { "CUDAExecutionProvider", "CPUExecutionProvider" },
        });
        model.AddFlavor("python_function", new Dictionary<string, object?>
        {
            ["data"] = "model.onnx",
            ["env"] = new Dictionary<string, object?> { ["conda"] = "conda.yaml", ["virtualenv"] = "python_env.yaml" },
            ["loader_module"] = "mlflow.onnx",
            ["python_version"] = pythonVersion,
        });

        var staging = Path.Combine(Path.GetTempPath(), "mlmodels-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        try
        {
            File.Copy(onnxFile, Path.Combine(staging, "model.onnx"));
            var pins = new[] { "mlflow", $"onnx=={onnxVersion}", $"onnxruntime=={OnnxRuntimePythonVersion}" };
            File.WriteAllText(Path.Combine(staging, "requirements.txt"), string.Join("\n", pins) + "\n");
            File.WriteAllText(Path.Combine(staging, "python_env.yaml"),
                $"python: {pythonVersion}\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\ndependencies:\n- -r requirements.txt\n");
            File.WriteAllText(Path.Combine(staging, "conda.yaml"),
                $"channels:\n- conda-forge\ndependencies:\n- python={pythonVersion}\n- pip\n- pip:\n" + string.Concat(pins.Select(p => $"  - {p}\n"))
                    + "name: mlflow-env\n");
            model.Path = staging;
            return ModelStore.Save(model, destination, new SaveOptions(force, warn), ct);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>ModelProto field 1 (ir_version), read from the protobuf header without a protobuf library.</summary>
    public static long ReadIrVersion(string onnxFile)
    {
        using var fs = File.OpenRead(onnxFile);
        if (fs.ReadByte() != 0x08) return 0;
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            int b = fs.ReadByte();
            if (b < 0) return 0;
            value |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        return value;
    }

    /// <summary>The first onnx release that writes a given IR version.</summary>
    public static string OnnxVersionFor(long irVersion) => irVersion switch
    {
        <= 3 => "1.2.0",
        4 => "1.4.0",
        5 => "1.5.0",
        6 => "1.6.0",
        7 => "1.7.0",
        8 => "1.10.0",
        9 => "1.14.0",
        10 => "1.16.0",
        _ => "1.18.0",
    };
}
