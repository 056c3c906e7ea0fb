using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using MlModels.Core.Format;

namespace MlModels.Core.Scoring.Onnx;

/// <summary>
/// The model file is valid, but this ONNX Runtime cannot run it: it lacks an operator at the version the model uses,
/// or the model is stamped with an opset newer than it knows. <see cref="ErrorId"/> says which.
/// </summary>
public sealed partial class OnnxUnsupportedException : Exception
{
    private OnnxUnsupportedException(string message, string errorId, string file, string? op, int? opset, Exception inner) : base(message, inner)
    {
        ErrorId = errorId;
        File = file;
        Operator = op;
        Opset = opset;
    }

    /// <summary><c>OnnxOperatorNotImplemented</c>, <c>OnnxOpsetNotSupported</c> or <c>OnnxFeatureNotImplemented</c>.</summary>
    public string ErrorId { get; }
    public string File { get; }
    /// <summary>The operator ONNX Runtime has no implementation for, e.g. <c>AveragePool</c>.</summary>
    public string? Operator { get; }
    /// <summary>The opset version at issue: the operator's version, or the model's opset.</summary>
    public int? Opset { get; }

    /// <summary>What a failed session load means: this exception when ONNX Runtime lacks support, else a format error.</summary>
    public static Exception FromLoad(OnnxRuntimeException ex, string onnxFile)
    {
        var name = Path.GetFileName(onnxFile);
        var runtime = $"ONNX Runtime {RuntimeVersion()}";
        var m = MissingKernel().Match(ex.Message);
        if (m.Success)
        {
            var op = m.Groups["op"].Value;
            var opset = int.Parse(m.Groups["ver"].Value, System.Globalization.CultureInfo.InvariantCulture);
            var node = m.Groups["node"].Value;
            return new OnnxUnsupportedException(
                $"{runtime} has no implementation of the operator {op} as defined in opset {opset} (node '{node}' in {name}), for the " +
                    $"input types the model gives it. " +
                $"The model file is valid; re-export the model with a newer ONNX opset (for example torch.onnx.export(..., opset_version=17), " +
                $"tf2onnx --opset 17, skl2onnx target_opset=17), or convert it with onnx.version_converter.convert_version.",
                "OnnxOperatorNotImplemented", onnxFile, op, opset, ex);
        }
        m = OpsetTooNew().Match(ex.Message);
        if (m.Success)
        {
            var opset = int.Parse(m.Groups["opset"].Value, System.Globalization.CultureInfo.InvariantCulture);
            var max = m.Groups["max"].Value;
            return new OnnxUnsupportedException(
                $"{name} is stamped with opset {opset} of {m.Groups["domain"].Value}, newer than {runtime} supports (up to opset {max}). " +
                $"Re-export the model with opset {max} or lower.",
                "OnnxOpsetNotSupported", onnxFile, null, opset, ex);
        }
        if (ex.Message.StartsWith("[ErrorCode:NotImplemented]", StringComparison.Ordinal))
            return new OnnxUnsupportedException(
                $"{runtime} cannot run {name}: {Strip(ex.Message)}",
                "OnnxFeatureNotImplemented",
                onnxFile,
                null,
                null,
                ex);
        return new MLModelFormatException($"ONNX Runtime cannot load {onnxFile}: {ex.Message}", onnxFile, null, null, "flavors.onnx.data", ex);
    }

    private static string Strip(string message)
        => message.StartsWith('[') && message.IndexOf(']') is var i and > 0 ? message[(i + 1)..].Trim() : message;

    private static string RuntimeVersion()
    {
        try { return OrtEnv.Instance().GetVersionString(); }
        catch (OnnxRuntimeException) { return "(unknown version)"; }
    }

    [GeneratedRegex(@"Could not find an implementation for (?<op>[\w.]+)\((?<ver>\d+)\) node with name '(?<node>[^']*)'")]
    private static partial Regex MissingKernel();

    [GeneratedRegex(
        @"Opset (?<opset>\d+) is under development.*?official support for domain (?<domain>[\w.]+) is till opset (?<max>\d+)",
        RegexOptions.Singleline)]
    private static partial Regex OpsetTooNew();
}
