namespace MlModels.Core.Scoring;

/// <summary>Column names the way pandas' <c>read_csv</c> gives them, which is what MLflow's CSV input goes through.</summary>
public static class PandasNames
{
    /// <summary>
    /// An empty header cell becomes <c>Unnamed: i</c>; a repeated name gets <c>.1</c>, <c>.2</c>, ... skipping names the
    /// header already has, so <c>f0,f0</c> reads as <c>f0</c>, <c>f0.1</c> and the first one is what a schema takes
    /// (pandas' C parser, <c>_get_header</c>).
    /// </summary>
    public static List<string> FromCsvHeader(IReadOnlyList<string> header)
    {
        var names = header.Select((h, i) => h.Length == 0 ? $"Unnamed: {i}" : h).ToList();
        // How often each name stands in the header as it is being renamed (pandas tests "col in this_header").
        var present = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var n in names) present[n] = present.GetValueOrDefault(n) + 1;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        // Named columns are renamed before unnamed ones, so that given names are kept.
        var order = Enumerable.Range(0, names.Count).Where(i => header[i].Length > 0)
            .Concat(Enumerable.Range(0, names.Count).Where(i => header[i].Length == 0));
        foreach (var i in order)
        {
            var old = names[i];
            var col = old;
            int count = counts.GetValueOrDefault(col);
            if (count > 0)
            {
                while (count > 0)
                {
                    counts[old] = count + 1;
                    col = $"{old}.{count}";
                    count = present.GetValueOrDefault(col) > 0 ? count + 1 : counts.GetValueOrDefault(col);
                }
                present[old]--;
                present[col] = present.GetValueOrDefault(col) + 1;
                names[i] = col;
            }
            counts[col] = count + 1;
        }
        return names;
    }
}
