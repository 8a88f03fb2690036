using System.Globalization;
using System.Text;

namespace Ppcls.Inference;

/// <summary>
/// Python's repr of the values PaddleClas prints (ints, floats, strings, lists, dicts), so a
/// result line reads as PaddleClas's `logger.info(result)` does:
/// `[{'class_ids': [8, 7], 'scores': [0.92473, 7e-05], 'file_name': 'a.jpg', 'label_names': ['hen', 'cock']}]`.
/// </summary>
public static class PythonRepr
{
    /// <summary>The shortest text that reads back as <paramref name="value"/>, in Python's spelling (`1.0`, `7e-05`, `1e+16`).</summary>
    public static string Float(double value) => Format(value, Math.Abs(value).ToString("R", CultureInfo.InvariantCulture));

    /// <summary>numpy's repr of a float32 scalar: its shortest float32 round-trip digits in Python's layout (`0.93`, not `0.9300000071525574`).</summary>
    public static string Float32(float value) => Format(value, Math.Abs(value).ToString("R", CultureInfo.InvariantCulture));

    static string Format(double value, string shortest)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        if (value == 0) return double.IsNegative(value) ? "-0.0" : "0.0";
        // The shortest round-trip digits (as Python's repr), then Python's layout: positional for
        // decimal exponents -4 .. 15, scientific outside.
        var (digits, exponent) = ShortestDigits(shortest);
        string sign = value < 0 ? "-" : "";
        if (exponent is < -4 or >= 16)
        {
            string mantissa = digits.Length == 1 ? digits : $"{digits[0]}.{digits[1..]}";
            return $"{sign}{mantissa}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
        }
        if (exponent < 0) return $"{sign}0.{new string('0', -exponent - 1)}{digits}";
        if (digits.Length <= exponent + 1) return $"{sign}{digits}{new string('0', exponent + 1 - digits.Length)}.0";
        return $"{sign}{digits[..(exponent + 1)]}.{digits[(exponent + 1)..]}";
    }

    /// <summary>The significant digits of .NET's shortest round-trip form (of a positive value) and the decimal exponent of the first.</summary>
    static (string Digits, int Exponent) ShortestDigits(string text)
    {
        int exponent = 0;
        int e = text.IndexOf('E');
        if (e >= 0)
        {
            exponent = int.Parse(text[(e + 1)..], CultureInfo.InvariantCulture);
            text = text[..e];
        }
        int point = text.IndexOf('.');
        string whole = point < 0 ? text : text[..point];
        string fraction = point < 0 ? "" : text[(point + 1)..];
        string all = (whole + fraction).TrimStart('0');
        int leadingZeros = (whole + fraction).Length - all.Length;
        exponent += whole.Length - 1 - leadingZeros;
        return (all.TrimEnd('0') is { Length: > 0 } d ? d : "0", exponent);
    }

    /// <summary>A Python string literal: single quotes unless the text holds one and no double quote.</summary>
    public static string String(string value)
    {
        char quote = value.Contains('\'') && !value.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '\n': sb.Append(@"\n"); break;
                case '\r': sb.Append(@"\r"); break;
                case '\t': sb.Append(@"\t"); break;
                default:
                    if (c == quote) sb.Append('\\');
                    sb.Append(c);
                    break;
            }
        }
        return sb.Append(quote).ToString();
    }

    public static string List<T>(IEnumerable<T> items, Func<T, string> repr) => "[" + string.Join(", ", items.Select(repr)) + "]";

    public static string Ints(IEnumerable<int> values) => List(values, v => v.ToString(CultureInfo.InvariantCulture));
    public static string Floats(IEnumerable<double> values) => List(values, Float);
    public static string Strings(IEnumerable<string> values) => List(values, String);

    /// <summary>A batch's results as PaddleClas's `infer` logs them: one Python list of dicts.</summary>
    public static string Batch(IEnumerable<IPredictionResult> results) => List(results, r => r.ToPythonRepr());
}
