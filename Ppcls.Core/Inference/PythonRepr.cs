using System.Globalization;
using System.Text;

namespace Ppcls.Core.Inference;

/// <summary>
/// Python's repr of the values PaddleClas prints (ints, floats, strings, lists, dicts), so a
/// result line reads as PaddleClas's `logger.info(result)` does:
/// `[{'class_ids': [8, 7], 'scores': [0.92473, 7e-05], 'file_name': 'a.jpg', 'label_names': ['hen', 'cock']}]`.
/// </summary>
public static class PythonRepr
{
    /// <summary>The shortest text that reads back as <paramref name="value"/>, in Python's spelling (`1.0`, `7e-05`).</summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        // .NET's shortest round-trip form switches to exponents at the same places as Python's repr
        // (below 1e-4, from 1e16 up); only the spelling of the exponent and of whole numbers differs.
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        int e = text.IndexOf('E');
        if (e < 0) return text.Contains('.') ? text : text + ".0";
        string mantissa = text[..e];
        int exponent = int.Parse(text[(e + 1)..], CultureInfo.InvariantCulture);
        return $"{mantissa}e{(exponent < 0 ? '-' : '+')}{Math.Abs(exponent):00}";
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
}
