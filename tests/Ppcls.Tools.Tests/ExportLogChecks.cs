using System.Globalization;
using System.Text.RegularExpressions;

namespace Ppcls.Tools.Tests;

/// <summary>
/// The ONNX Runtime checks `ppcls export` logs, one line each:
/// "ORT vs TorchSharp, CHECK: max |dp| D ... top-1 agrees on N/OF". A check passes when the probabilities
/// differ by at most 1e-4 and top-1 agrees on every image.
/// </summary>
static class ExportLogChecks
{
    static Regex Line(string check) => new($@"ORT vs TorchSharp, (?<check>{check}): max \|dp\| (?<d>\S+) .*top-1 agrees on (?<n>\d+)/(?<of>\d+)");

    /// <summary>Every check in the log passes, and there are at least <paramref name="atLeast"/> of them.</summary>
    public static void AssertAllPass(string exportLog, int atLeast)
    {
        var checks = Line("[^:]+").Matches(exportLog);
        Assert.That(checks, Has.Count.GreaterThanOrEqualTo(atLeast), exportLog);
        foreach (Match check in checks) AssertPasses(check, check.Value);
    }

    /// <summary>The check named <paramref name="check"/> is in the log and passes.</summary>
    public static void AssertPasses(string exportLog, string check)
    {
        var line = Line(Regex.Escape(check)).Match(exportLog);
        Assert.That(line.Success, Is.True, check);
        AssertPasses(line, check);
    }

    static void AssertPasses(Match line, string message)
    {
        Assert.That(double.Parse(line.Groups["d"].Value, CultureInfo.InvariantCulture), Is.LessThanOrEqualTo(1e-4), message);
        Assert.That(line.Groups["n"].Value, Is.EqualTo(line.Groups["of"].Value), message);
    }
}
