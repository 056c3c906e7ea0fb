using System.Diagnostics;
using System.Text;
using CsCheck;

namespace MlModels.Core.Tests.Robustness;

/// <summary>
/// Runs a property over a fixed number of cases, each from a seed drawn from a fixed stream, so every run checks the
/// same inputs. A failing case is shrunk by CsCheck from its seed, and the message gives the seed and smallest input;
/// such inputs are then kept as named regression tests (fuzz/regressions, FuzzRegressionTests).
/// </summary>
internal static class PropertyCheck
{
    /// <summary>A case taking longer than this is reported as a hang: every parser is linear in its input.</summary>
    public static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(10);

    public static void ForAll<T>(Gen<T> gen, Action<T> property, int cases, ulong stream, Func<T, string>? print = null)
    {
        var seeds = new PCG((uint)stream, 0x5EED_2026UL + stream);
        void Timed(T value)
        {
            var clock = Stopwatch.StartNew();
            property(value);
            if (clock.Elapsed > HangLimit) throw new TimeoutException($"One case took {clock.Elapsed.TotalSeconds:N1} s.");
        }
        for (int i = 0; i < cases; i++)
        {
            var seed = seeds.ToString();
            seeds.Next64();
            try { gen.Sample(Timed, seed: seed, iter: 1, threads: 1, print: print); }
            catch (Exception first)
            {
                // Shrink from the failing seed; CsCheck's exception then names the smallest input it found.
                try { gen.Sample(Timed, seed: seed, iter: 2000, threads: 1, print: print); }
                catch (Exception shrunk)
                {
                    throw new Xunit.Sdk.XunitException($"case {i} (seed {seed}) failed; shrunk:\n{shrunk.Message}\n{Cause(shrunk)}\nfirst:\n{first.Message}\n{Cause(first)}");
                }
                throw;
            }
        }
    }

    private static string Cause(Exception ex) => ex.InnerException is { } inner
        ? string.Join("\n", inner.ToString().Split('\n').Take(8))
        : "";

    public static string Show(byte[] bytes) => "UTF-8: " + Encoding.UTF8.GetString(bytes).Replace("\n", "\\n").Replace("\r", "\\r") + "\nbase64: " + Convert.ToBase64String(bytes);
}

/// <summary>Generators shared by the parser properties: JSON and YAML building blocks, and mutations of valid text.</summary>
internal static class Gens
{
    public static readonly Gen<string> Name = Gen.OneOf(
        Gen.OneOf("x1", "x2", "x3", "a", "b", "f0", "f0", "f1", "pH", "sulphates", "", " ", "0", "1", "name with space", "é", "日本", "a,b", "a\"b", "quote'd", "\\u0000"),
        Gen.String[Gen.Char["abcxyz_019"], 1, 8]);

    /// <summary>JSON number text, including forms that stretch the readers: exponents, huge integers, negative zero.</summary>
    public static readonly Gen<string> Number = Gen.OneOf(
        Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Double[-1e6, 1e6].Select(d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.OneOf("0", "-0", "1e5", "1E-5", "2.5e308", "1e999", "-1e999", "9223372036854775807", "9223372036854775808", "123456789012345678901234567890", "0.1", "3.10"));

    public static string Quote(string s)
    {
        var sb = new StringBuilder();
        MlModels.Core.Format.PyJson.WriteString(sb, s);
        return sb.ToString();
    }

    public static readonly Gen<string> JsonScalar = Gen.OneOf(Number, Name.Select(Quote), Gen.OneOf("true", "false", "null", "\"1.5\"", "\"abc\"", "\"2024-01-31 12:00:00\""));

    public static readonly Gen<string> JsonValue = Gen.OneOf(
        JsonScalar,
        JsonScalar.Array[0, 4].Select(a => "[" + string.Join(", ", a) + "]"),
        Gen.Select(Name, JsonScalar).Array[0, 3].Select(kv => "{" + string.Join(", ", kv.Select(p => Quote(p.Item1) + ": " + p.Item2)) + "}"));

    /// <summary>A JSON object written from key/value pairs as given: keys may repeat, as Python's json.loads allows.</summary>
    public static string Object(IEnumerable<(string Key, string Value)> pairs) => "{" + string.Join(", ", pairs.Select(p => Quote(p.Key) + ": " + p.Value)) + "}";

    private static readonly string[] Tokens =
    [
        "{", "}", "[", "]", ",", ":", ": ", "\"", "'", "\\", "\\u", "\\ud800", "\\udc00x", "\n", "\r\n", "\t", " ", "- ", "-", "#", "&a ", "*a", "*b",
        "<<: ", "!!python/object:os.system ", "!!binary ", "!!+", "!x ", "? ", "|", ">", "%YAML 1.1\n", "---\n", "...\n", "null", "true", "NaN", "Infinity",
        "1e999", "-0", "0x_", "._", "1:20", "99999999999999999999", "\"name\": \"x\", ", "\"type\": \"tensor\", ", "\"shape\": [-1, \"a\"], ",
        "\"type\": \"array\", \"items\": ", "\0", "\uFEFF", "é", "\U0001F600", "\"\"", ",,", "\"a\"\"b\"", "\"x1\"", "x1", "f0", "f0,f0,",
    ];

    private static readonly byte[][] RawBytes = [[0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF0, 0x9F], [0x00], [0xEF, 0xBB, 0xBF]];

    /// <summary>Valid text with 1 to 6 edits: tokens of the formats inserted, ranges deleted, duplicated or truncated, invalid UTF-8.</summary>
    public static Gen<byte[]> Mutated(Gen<string> valid) =>
        Gen.Select(valid, Gen.Select(Gen.Int[0, 5], Gen.Double[0, 1], Gen.Int[0, 24], Gen.Int[0, Tokens.Length - 1]).Array[1, 6],
            (text, ops) => Apply(Encoding.UTF8.GetBytes(text), ops));

    private static byte[] Apply(byte[] input, (int Kind, double At, int Length, int Token)[] ops)
    {
        var b = new List<byte>(input);
        foreach (var (kind, at, length, token) in ops)
        {
            int pos = (int)(at * b.Count);
            int len = Math.Min(length, b.Count - pos);
            switch (kind)
            {
                case 0: b.InsertRange(pos, Encoding.UTF8.GetBytes(Tokens[token])); break;
                case 1: b.RemoveRange(pos, len); break;
                case 2: b.InsertRange(pos, b.GetRange(pos, len)); break;
                case 3: if (pos < b.Count) b[pos] = (byte)(b[pos] ^ (1 << (token % 8))); break;
                case 4: b.RemoveRange(pos, b.Count - pos); break;
                default: b.InsertRange(pos, RawBytes[token % RawBytes.Length]); break;
            }
        }
        return b.ToArray();
    }
}
