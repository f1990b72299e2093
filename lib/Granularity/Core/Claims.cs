using System.Globalization;
using System.Text;

namespace Granularity.Core;

/// <summary>What the data say about a claim, computed from intervals by a rule fixed before the runs.</summary>
public enum Verdict
{
    /// <summary>The interval lies wholly on the claim's side of its threshold.</summary>
    Holds,
    /// <summary>The interval lies wholly on the other side.</summary>
    DoesNotHold,
    /// <summary>The interval straddles the threshold: the data cannot tell.</summary>
    Inconclusive,
    /// <summary>No data for this claim in this run (e.g. the dataset was not available).</summary>
    NotTested,
}

/// <summary>Where a claim comes from.</summary>
public enum ClaimSource
{
    /// <summary>Stated by the paper.</summary>
    Paper,
    /// <summary>Our own addition (the paper has no simulation of its theory, for example).</summary>
    Ours,
}

/// <summary>
/// One claim of an experiment, in the one shape every notebook renders: the paper's value, ours as a median with its
/// interval, the prediction fixed in code before the run, and the verdict computed from the interval.
/// </summary>
/// <param name="Id">stable id, e.g. <c>theory.coarse-hard-error</c></param>
/// <param name="Statement">the claim in words</param>
/// <param name="Source">the paper's claim or ours</param>
/// <param name="PaperValue">the paper's number or wording ("—" when the paper gives none)</param>
/// <param name="Ours">our estimate (median or mean over seeds, with its 95% interval); null when not tested</param>
/// <param name="Prediction">the verdict rule, in words, as fixed in code before the runs</param>
/// <param name="Verdict">computed from <paramref name="Ours"/> by the rule</param>
/// <param name="Data">what the numbers were measured on; say "generated stand-in" when they were</param>
/// <param name="Note">anything a reader needs to interpret the row (a paired test's p-value, say)</param>
public sealed record Claim(
    string Id,
    string Statement,
    ClaimSource Source,
    string PaperValue,
    Estimate? Ours,
    string Prediction,
    Verdict Verdict,
    string Data,
    string? Note = null)
{
    /// <summary>True when the numbers come from data we generated rather than real data.</summary>
    public bool OnStandIn => Data.Contains("stand-in", StringComparison.OrdinalIgnoreCase) || Data.Contains("synthetic", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Verdict rules over intervals. Each is written into an experiment's code before its runs.</summary>
public static class Verdicts
{
    /// <summary>Holds when the whole interval is above <paramref name="threshold"/>, fails when it is wholly at or below it.</summary>
    public static Verdict Above(Estimate? estimate, double threshold) =>
        estimate is null ? Verdict.NotTested
        : estimate.Low > threshold ? Verdict.Holds
        : estimate.High <= threshold ? Verdict.DoesNotHold
        : Verdict.Inconclusive;

    /// <summary>Holds when the whole interval is below <paramref name="threshold"/>, fails when it is wholly at or above it.</summary>
    public static Verdict Below(Estimate? estimate, double threshold) =>
        estimate is null ? Verdict.NotTested
        : estimate.High < threshold ? Verdict.Holds
        : estimate.Low >= threshold ? Verdict.DoesNotHold
        : Verdict.Inconclusive;

    /// <summary>Holds when the whole interval lies inside [low, high], fails when it lies wholly outside.</summary>
    public static Verdict Within(Estimate? estimate, double low, double high) =>
        estimate is null ? Verdict.NotTested
        : estimate.Low >= low && estimate.High <= high ? Verdict.Holds
        : estimate.High < low || estimate.Low > high ? Verdict.DoesNotHold
        : Verdict.Inconclusive;

    /// <summary>All of several verdicts: holds if all hold, fails if any fails, else inconclusive.</summary>
    public static Verdict All(params Verdict[] verdicts) =>
        verdicts.Length == 0 || verdicts.Any(v => v == Verdict.NotTested) ? Verdict.NotTested
        : verdicts.Any(v => v == Verdict.DoesNotHold) ? Verdict.DoesNotHold
        : verdicts.All(v => v == Verdict.Holds) ? Verdict.Holds
        : Verdict.Inconclusive;

    public static string Label(Verdict verdict) => verdict switch
    {
        Verdict.Holds => "holds",
        Verdict.DoesNotHold => "does not hold",
        Verdict.Inconclusive => "inconclusive",
        _ => "not tested",
    };
}

/// <summary>Renders claims the same way everywhere: a Markdown table for notebooks, docs and the command line.</summary>
public static class ClaimTable
{
    public static string ToMarkdown(IEnumerable<Claim> claims, string format = "0.000")
    {
        var text = new StringBuilder();
        text.AppendLine("| claim | source | paper | ours (95% interval) | prediction, fixed before the run | verdict | data |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var claim in claims)
        {
            var ours = claim.Ours?.Format(format) ?? "—";
            var note = string.IsNullOrWhiteSpace(claim.Note) ? "" : $"<br><small>{Escape(claim.Note!)}</small>";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {Escape(claim.Statement)}{note} | {(claim.Source == ClaimSource.Paper ? "paper" : "ours")} | {Escape(claim.PaperValue)} | {ours} | {Escape(claim.Prediction)} | **{Verdicts.Label(claim.Verdict)}** | {Escape(claim.Data)} |");
        }
        return text.ToString();
    }

    /// <summary>One line per claim, for terminals.</summary>
    public static string ToText(IEnumerable<Claim> claims, string format = "0.000") =>
        string.Join(Environment.NewLine, claims.Select(c =>
            $"{Verdicts.Label(c.Verdict),-14} {c.Id}: {c.Statement} — ours {c.Ours?.Format(format) ?? "—"}, paper {c.PaperValue}; rule: {c.Prediction} [{c.Data}]"));

    /// <summary>A pipe becomes "∣" (U+2223): viewers disagree on an escaped pipe inside a table cell.</summary>
    private static string Escape(string text) => text.Replace("|", "∣").Replace("\n", " ");
}
