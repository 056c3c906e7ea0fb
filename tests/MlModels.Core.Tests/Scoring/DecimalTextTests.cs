using System.Globalization;
using MlModels.Core.Scoring;
using nietras.SeparatedValues;

namespace MlModels.Core.Tests.Scoring;

[Trait("Category", "Fast")]
public class DecimalTextTests
{
    private static readonly string[] Plain =
    [
        "0", "-0", "+0", "0.0", "-0.000000", "1", "-1", "+1.5", "1.", ".5", "-.5", "3.712557", "-4.477383", "1e5", "1E5", "1e+5",
        "2.5e-3", "-7E-10", "16777216", "16777217", "16777215", "0.1", "0.2", "0.3", "123456.7", "9999999", "1e10", "1e-10",
        "4.999999", "1234567890123456789", "0.0000000000000000000000001", "00000000000000000000000012.5", "9007199254740993",
        "9007199254740992", "1e22", "1e-22", "0e99999", "5e-324", "3.4028235e38",
    ];

    private static readonly string[] NotPlain =
    [
        "", " 1", "1 ", " 1.5 ", "\"1\"", "nan", "NaN", "NAN", "inf", "+inf", "-inf", "Infinity", "-Infinity", "1e", "1e+", "e5", ".", "-",
        "+", "1.2.3", "0x10", "1,5", "1_000", "--1", "1e5.5", "12345678901234567890", "1e99999", "١٢", "1d", "1f",
    ];

    private static uint Bits(float f) => BitConverter.SingleToUInt32Bits(f);

    private static ulong Bits(double d) => BitConverter.DoubleToUInt64Bits(d);

    [Fact]
    public void PlainDecimals_GiveTheCorrectlyRoundedValue_BitForBit()
    {
        foreach (var s in Plain)
        {
            if (DecimalText.TryParse(s, out float f)) Assert.True(Bits(float.Parse(s, CultureInfo.InvariantCulture)) == Bits(f), s);
            if (DecimalText.TryParse(s, out double d)) Assert.True(Bits(double.Parse(s, CultureInfo.InvariantCulture)) == Bits(d), s);
        }
        Assert.True(DecimalText.TryParse("-0", out float negativeZero));
        Assert.True(float.IsNegative(negativeZero));
        Assert.True(DecimalText.TryParse("3.712557", out float common));
        Assert.Equal(3.712557f, common);
    }

    [Fact]
    public void OtherText_IsLeftToTheGeneralParsers()
    {
        foreach (var s in NotPlain)
        {
            Assert.False(DecimalText.TryParse(s, out float _), s);
            Assert.False(DecimalText.TryParse(s, out double _), s);
        }
    }

    [Fact]
    public void RandomDecimals_MatchDotNetsParser()
    {
        var rng = new Random(11);
        for (int i = 0; i < 200_000; i++)
        {
            var s = RandomDecimal(rng);
            if (DecimalText.TryParse(s, out float f)) Assert.True(Bits(float.Parse(s, CultureInfo.InvariantCulture)) == Bits(f), s);
            if (DecimalText.TryParse(s, out double d)) Assert.True(Bits(double.Parse(s, CultureInfo.InvariantCulture)) == Bits(d), s);
        }
    }

    private static string RandomDecimal(Random rng)
    {
        var sb = new System.Text.StringBuilder();
        if (rng.Next(3) == 0) sb.Append(rng.Next(2) == 0 ? '-' : '+');
        int intDigits = rng.Next(0, 12), fracDigits = rng.Next(0, 12);
        for (int i = 0; i < intDigits; i++) sb.Append((char)('0' + rng.Next(10)));
        if (fracDigits > 0 || rng.Next(2) == 0) sb.Append('.');
        for (int i = 0; i < fracDigits; i++) sb.Append((char)('0' + rng.Next(10)));
        if (intDigits + fracDigits == 0) sb.Append('7');
        if (rng.Next(4) == 0) sb.Append(rng.Next(2) == 0 ? 'e' : 'E').Append(rng.Next(-30, 31));
        return sb.ToString();
    }

    // What CsvInput stored before the short way: Sep's parser (csFastFloat), then .NET's and pandas' spellings.
    private static float GeneralParse(SepReader.Col col)
    {
        if (col.TryParse<float>() is float v) return v;
        var dest = new float[1];
        Assert.True(ValueConversion.TryParseText(col.Span, ElementKind.Float32, dest, 0), col.ToString());
        return dest[0];
    }

    [Fact]
    public void CsvCells_ReadAsTheGeneralParsersReadThem()
    {
        var cells = Plain.Where(s => s.Length > 0 && s != "0e99999" && s != "5e-324")
            .Concat(["\"1.5\"", "\"-2e3\"", " 1.5", "2.5 ", "nan", "NaN", "inf", "-inf", "Infinity", "-Infinity", "1.000000000000000000000001",
                "0.123456789012345678901234567890", "-0.0"])
            .ToList();
        var text = "a\n" + string.Concat(cells.Select(c => c + "\n"));
        var path = Path.Combine(TestPaths.NewTempDir(), "cells.csv");
        File.WriteAllText(path, text);
        var frame = Assert.Single(CsvInput.Read(path, names => [new ColumnTarget(names[0], ElementKind.Float32, 0, true, null)], 10_000));
        var values = (float[])frame.Columns[0].Values;
        using var reader = Sep.Reader(o => o with { HasHeader = true, Unescape = true }).FromText(text);
        int r = 0;
        foreach (var row in reader)
        {
            var expected = GeneralParse(row[0]);
            Assert.True(Bits(expected) == Bits(values[r]), $"row {r + 1}: {row[0].ToString()}");
            r++;
        }
        Assert.Equal(cells.Count, r);
    }

    [Fact]
    public void CsvEmptyField_IsMissing_AndBadNumber_IsNamedWithLineAndColumn()
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "bad.csv");
        File.WriteAllText(path, "a,b\n1.5,\n2.5,1.5.5\n");
        ColumnPlanner planner = names => names.Select((n, i) => new ColumnTarget(n, ElementKind.Float32, i, true, null)).ToList();
        var ex = Assert.Throws<SchemaViolationException>(() => CsvInput.Read(path, planner, 10_000).ToList());
        Assert.Equal($"{path}, line 3, column 'b': cannot convert '1.5.5' to float32.", ex.Message);

        File.WriteAllText(path, "a,b\n1.5,\n");
        var frame = Assert.Single(CsvInput.Read(path, planner, 10_000));
        Assert.True(float.IsNaN(((float[])frame.Columns[1].Values)[0]));
        Assert.Equal(1.5f, ((float[])frame.Columns[0].Values)[0]);
    }
}
