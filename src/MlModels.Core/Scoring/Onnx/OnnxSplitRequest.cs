using System.Buffers;
using System.Text.Json;

namespace MlModels.Core.Scoring.Onnx;

/// <summary>
/// The server's short way for the commonest request: <c>{"dataframe_split": {"columns": [...], "data": [[numbers], ...]}}</c>
/// to an ONNX graph with one float input of shape [N, k] (no column signature, no params). The numbers are read
/// straight into the stacked input tensor, with the conversions the general path makes (a JSON number read as a
/// double, then narrowed to float32 where the input is float32). Anything else — another form, a key repeated or
/// out of place, a string, null or non-finite value, a backslash anywhere, a row of another width — is declined, and
/// the general path answers it, errors included, so the answer never depends on which way a request went.
/// </summary>
public sealed class OnnxSplitRequest
{
    private readonly OnnxScorer _scorer;
    private readonly OnnxPort _input;

    private OnnxSplitRequest(OnnxScorer scorer, OnnxPort input)
    {
        _scorer = scorer;
        _input = input;
    }

    /// <summary>The short way for this scorer, or null where its model needs the general path for every request.</summary>
    public static OnnxSplitRequest? For(OnnxScorer scorer)
    {
        var signature = scorer.Model.Signature;
        if (signature?.Params != null) return null;
        if (signature?.Inputs is { IsTensorBased: false, Columns.Count: > 0 }) return null;
        if (scorer.Inputs.Count != 1) return null;
        var input = scorer.Inputs[0];
        if (input.Kind is not (ElementKind.Float32 or ElementKind.Float64) || input.Shape.Length != 2) return null;
        // The general path converts to the signature's type when it names one; the short way only where that is the input's own.
        var tensors = signature?.Inputs?.Tensors;
        var spec = tensors?.FirstOrDefault(t => t.Name == input.Name) ?? (tensors?.Count == 1 ? tensors[0] : null);
        if (spec != null && (!ElementKinds.TryFromNumpy(spec.DType, out var kind) || kind != input.Kind)) return null;
        return new OnnxSplitRequest(scorer, input);
    }

    /// <summary>Scores the body if it has the shape this way takes; false (nothing done) otherwise.</summary>
    public bool TryScore(ReadOnlySpan<byte> body, CancellationToken ct, out Prediction? prediction)
    {
        prediction = null;
        if (body.IndexOf((byte)'\\') >= 0) return false;
        int columns = -1, rows = 0;
        double[] values = ArrayPool<double>.Shared.Rent(64);
        try
        {
            if (!TryRead(body, ref values, ref columns, ref rows)) return false;
            if (rows == 0 || columns <= 0 || (_input.Shape[1] > 0 && _input.Shape[1] != columns)) return false;
            int n = rows * columns;
            if (_scorer.TryPredictBound(values.AsSpan(0, n), rows, ct, out var bound, out var refused))
            {
                prediction = new TablePrediction(bound!);
                return true;
            }
            TensorData stacked;
            if (_input.Kind == ElementKind.Float32)
            {
                var f = ArrayPool<float>.Shared.Rent(n);
                for (int i = 0; i < n; i++) f[i] = (float)values[i];
                stacked = new TensorData(ElementKind.Float32, [rows, columns], f);
                try { prediction = new TablePrediction(_scorer.PredictStacked(stacked, rows, ct)); }
                finally { ArrayPool<float>.Shared.Return(f); }
            }
            else
            {
                stacked = new TensorData(ElementKind.Float64, [rows, columns], values);
                prediction = new TablePrediction(_scorer.PredictStacked(stacked, rows, ct));
            }
            if (refused) _scorer.StopBinding();
            return true;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(values);
        }
    }

    /// <summary>Reads the request's numbers row by row into <paramref name="values"/>; false on anything it does not take.</summary>
    private static bool TryRead(ReadOnlySpan<byte> body, ref double[] values, ref int columns, ref int rows)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals("dataframe_split"u8)) return false;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            bool sawColumns = false, sawData = false;
            int count = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("columns"u8) && !sawColumns)
                {
                    sawColumns = true;
                    if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) return false;
                    int names = 0;
                    while (reader.Read() && reader.TokenType == JsonTokenType.String) names++;
                    if (reader.TokenType != JsonTokenType.EndArray) return false;
                    if (columns >= 0 && columns != names) return false;
                    columns = names;
                }
                else if (reader.ValueTextEquals("data"u8) && !sawData)
                {
                    sawData = true;
                    if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) return false;
                    while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
                    {
                        int width = 0;
                        while (reader.Read() && reader.TokenType == JsonTokenType.Number)
                        {
                            if (!reader.TryGetDouble(out var v) || !double.IsFinite(v)) return false;
                            if (count == values.Length)
                            {
                                var bigger = ArrayPool<double>.Shared.Rent(values.Length * 2);
                                values.AsSpan().CopyTo(bigger);
                                ArrayPool<double>.Shared.Return(values);
                                values = bigger;
                            }
                            values[count++] = v;
                            width++;
                        }
                        if (reader.TokenType != JsonTokenType.EndArray) return false;
                        if (columns >= 0 && width != columns) return false;
                        if (rows == 0 && columns < 0) columns = width; // "columns" may come after "data"
                        if (width != columns) return false;
                        rows++;
                    }
                    if (reader.TokenType != JsonTokenType.EndArray) return false;
                }
                else return false;
            }
            if (reader.TokenType != JsonTokenType.EndObject || !sawColumns || !sawData) return false;
            if (!reader.Read() || reader.TokenType != JsonTokenType.EndObject) return false;
            return !reader.Read(); // nothing after the document
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
