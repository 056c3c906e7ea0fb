using System.Globalization;

namespace MlModels.Core.Format;

/// <summary>MLflow's <c>str(datetime.utcnow())</c> form: <c>2023-01-26 03:00:10.504501</c> (no fraction when it is zero).</summary>
public static class Timestamps
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-ddTHH:mm:ss",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFzzz", "yyyy-MM-ddTHH:mm:ss.FFFFFFFzzz", "yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", "yyyy-MM-dd",
    ];

    public static string Format(DateTime utc)
    {
        utc = utc.Kind == DateTimeKind.Local ? utc.ToUniversalTime() : utc;
        var micro = (utc.Ticks % TimeSpan.TicksPerSecond) / 10;
        var s = utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        return micro == 0 ? s : s + "." + micro.ToString("000000", CultureInfo.InvariantCulture);
    }

    public static bool TryParse(object? value, out DateTime utc)
    {
        switch (value)
        {
            case DateTime dt: utc = DateTime.SpecifyKind(dt, DateTimeKind.Utc); return true;
            case Yaml.YamlTimestamp ts: return TryParse(ts.Text, out utc);
            case string s when DateTime.TryParseExact(s.Trim(), Formats, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed):
                utc = DateTime.SpecifyKind(parsed, DateTimeKind.Utc);
                return true;
            case double or long when Convert.ToDouble(value, CultureInfo.InvariantCulture) is var secs && secs > 0 && secs < 4e9:
                // Some writers store epoch seconds.
                utc = DateTime.UnixEpoch.AddSeconds(secs);
                return true;
            default:
                utc = default;
                return false;
        }
    }
}
