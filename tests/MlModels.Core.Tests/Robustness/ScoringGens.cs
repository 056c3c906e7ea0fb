using CsCheck;

namespace MlModels.Core.Tests.Robustness;

/// <summary>Valid MLflow JSON requests and CSV bodies for a model with columns x1, x2, x3 (and params k, mode, factor, flags).</summary>
internal static class ScoringGens
{
    private static readonly Gen<string> Column = Gen.OneOf("x1", "x2", "x3");
    private static readonly Gen<string> Extra = Gen.OneOf(Gen.OneOf("f0", "f0", "f1", "x1", "x1.1", "", "extra col"), Gens.Name);

    /// <summary>The model's three columns in any order, with extra and repeated names mixed in.</summary>
    private static readonly Gen<string[]> Header =
        Gen.Select(Gen.Shuffle(new[] { "x1", "x2", "x3" }), Extra.Array[0, 3], Gen.Int[0, 3]).Select((cols, extra, at) =>
        {
            var l = cols.ToList();
            foreach (var e in extra) l.Insert(Math.Min(at, l.Count), e);
            return l.ToArray();
        });

    private static readonly Gen<string> Number = Gen.OneOf(
        Gen.Double[-1e3, 1e3].Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Int[-100, 100].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.OneOf("0", "-0", "1e3", "1.5E-3"));

    private static readonly Gen<string> Params = Gen.OneOf(
        Gen.Const(""),
        Gen.Select(Gen.Int[0, 9], Gen.OneOf("sum", "mean"), Number, Gen.Bool)
            .Select((k, mode, factor, flag) => $", \"params\": {{\"k\": {k}, \"mode\": \"{mode}\", \"factor\": {factor}, \"flags\": [{(flag ? "true" : "false")}]}}"));

    public static readonly Gen<string> Request =
        Gen.Select(Header, Number.Array[1, 4].Array[1, 5], Gen.Int[0, 2], Params).Select((header, cells, form, ps) =>
        {
            var rows = cells.Select(r => Enumerable.Range(0, header.Length).Select(i => r[i % r.Length]).ToArray()).ToArray();
            var cols = string.Join(", ", header.Select(Gens.Quote));
            var records = "[" + string.Join(", ", rows.Select(r => Gens.Object(header.Select((h, i) => (h, r[i]))))) + "]";
            var body = form switch
            {
                0 => $"\"dataframe_split\": {{\"columns\": [{cols}], \"data\": [{string.Join(", ", rows.Select(r => "[" + string.Join(", ", r) + "]"))}]}}",
                1 => $"\"dataframe_records\": {records}",
                _ => $"\"instances\": {records}",
            };
            return "{" + body + ps + "}";
        });

    public static readonly Gen<string> Csv =
        Gen.Select(Header, Number.Array[1, 4].Array[1, 6], Gen.Bool, Gen.Bool).Select((header, cells, crlf, trailing) =>
        {
            var nl = crlf ? "\r\n" : "\n";
            static string Cell(string name) => name.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + name.Replace("\"", "\"\"") + "\"" : name;
            var lines = new List<string> { string.Join(",", header.Select(Cell)) };
            lines.AddRange(cells.Select(r => string.Join(",", Enumerable.Range(0, header.Length).Select(i => r[i % r.Length]))));
            return string.Join(nl, lines) + (trailing ? nl : "");
        });
}
