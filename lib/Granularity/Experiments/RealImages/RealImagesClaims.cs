using System.Globalization;
using System.Text;
using Granularity.Core;

namespace Granularity.Experiments;

/// <summary>Which way a paired claim points: arm A's error below arm B's, or A no better than B (within a margin).</summary>
public enum ClaimDirection
{
    /// <summary>A's error is lower than B's: the paired difference A − B lies below 0 and the per-image test agrees (p &lt; α).</summary>
    Lower,
    /// <summary>A is no better than B: the paired difference A − B lies above −margin.</summary>
    NotLower,
}

/// <summary>A claim of the real-image experiment: arm A against arm B by the claims' readout.</summary>
public sealed record PairedClaimSpec(string Id, string Statement, string PaperValue, string ArmA, string ArmB, ClaimDirection Direction);

/// <summary>One arm's test error over seeds: the median with its 95% bootstrap interval.</summary>
public sealed record ArmError(string LabelSet, string Readout, int PretrainingClasses, double AlignmentBits, Estimate Error, Estimate? EasyError, Estimate? HardError);

/// <summary>
/// The claims of notebook 08 and their verdict rule, fixed here before any run: the per-seed paired difference of test
/// error (A − B) with its 95% paired-bootstrap interval over seeds, and an exact McNemar test over every (seed, test
/// image) pair.
/// </summary>
public static class RealImagesClaims
{
    /// <summary>Significance level of the per-image McNemar test.</summary>
    public const double McNemarAlpha = 0.05;

    /// <summary>"No better" tolerates being better by less than this (1 point of error), so a tie can hold rather than stay inconclusive forever.</summary>
    public const double NoBenefitMargin = 0.01;

    public static IReadOnlyList<PairedClaimSpec> Specs { get; } =
    [
        new("real.leaf-beats-baseline", "pretraining on the leaf (character / class) lowers the target error vs training on the target", "iNat2021: leaf (species) pretraining −8.76% relative error; ImageNet-21k → 1k gains", "leaf", RealImageLabelSets.Target, ClaimDirection.Lower),
        new("real.intermediate-beats-baseline", "an intermediate level (k-means groups of ~4 leaves within each target class) lowers the target error", "iNat2021: mid-level ranks help, less than species", "kmeans_within_4", RealImageLabelSets.Target, ClaimDirection.Lower),
        new("real.leaf-beats-random-nested", "condition 1: a meaningful hierarchy beats random labels nested in the target classes (same class count)", "random nested labels: no gain", "leaf", "rand_nested", ClaimDirection.Lower),
        new("real.random-nested-no-gain", "random labels nested in the target classes do not beat the baseline", "random labels: no gain over the baseline", "rand_nested", RealImageLabelSets.Target, ClaimDirection.NotLower),
        new("real.random-across-no-gain", "random labels across the whole set do not beat the baseline", "random labels: no gain over the baseline", "rand_across", RealImageLabelSets.Target, ClaimDirection.NotLower),
        new("real.instance-worse-than-leaf", "condition 3: one label per image is too fine: worse than the leaf", "iNat2021: one label per image is worse than species", "instance", "leaf", ClaimDirection.NotLower),
        new("real.within-beats-across", "condition 2: clusters within target classes beat clusters across them at the same count", "iNat2021: aligned clusters beat misaligned ones", "kmeans_within_4", "kmeans_across_4", ClaimDirection.Lower),
        new("real.drawing-no-gain", "the drawing number (fine-grained, not aligned with the alphabet) does not beat the baseline", "misaligned labels: no gain", "drawing", RealImageLabelSets.Target, ClaimDirection.NotLower),
    ];

    /// <summary>The verdict rule on a paired difference and the per-image test of the same two arms.</summary>
    public static Verdict Decide(ClaimDirection direction, Estimate difference, PairedTest perImage)
    {
        if (direction == ClaimDirection.NotLower) return Verdicts.Above(difference, -NoBenefitMargin);
        var byInterval = Verdicts.Below(difference, 0);
        // A's fewer errors must also show image by image: more B-only errors than A-only ones, significant at α.
        bool perImageAgrees = perImage.OnlyBWrong > perImage.OnlyAWrong && perImage.PValue < McNemarAlpha;
        return byInterval == Verdict.Holds && !perImageAgrees ? Verdict.Inconclusive : byInterval;
    }

    /// <summary>Every claim whose two arms ran, with its verdict; claims whose arms did not run are NotTested.</summary>
    public static IReadOnlyList<Claim> Claims(RealImagesResult result)
    {
        var readout = RealImages.ReadoutName(RealImagesConfig.ClaimReadout);
        string ReadoutOf(string set) => set == RealImageLabelSets.Target ? RealImages.BaselineReadout : readout;
        var data = result.Config.Dataset switch
        {
            RealImageDataset.OmniglotSmall => "Omniglot small subsets (real images)",
            RealImageDataset.Omniglot => "Omniglot (real images)",
            _ => "CIFAR-100 (real images)",
        };
        var claims = new List<Claim>();
        foreach (var spec in Specs)
        {
            var a = result.Errors(spec.ArmA, ReadoutOf(spec.ArmA));
            var b = result.Errors(spec.ArmB, ReadoutOf(spec.ArmB));
            var prediction = spec.Direction == ClaimDirection.Lower
                ? $"holds if the 95% interval of {spec.ArmA} − {spec.ArmB} lies below 0 and McNemar p < {McNemarAlpha}; fails if it lies at or above 0"
                : $"holds if the 95% interval of {spec.ArmA} − {spec.ArmB} lies above −{NoBenefitMargin}; fails if it lies at or below −{NoBenefitMargin}";
            if (a.Length == 0 || b.Length == 0 || a.Length != b.Length)
            {
                claims.Add(new Claim(spec.Id, spec.Statement, ClaimSource.Paper, spec.PaperValue, null, prediction, Verdict.NotTested, data, "arm not run in this config"));
                continue;
            }
            var difference = Statistics.PairedBootstrap(a, b);
            var test = Statistics.McNemar(result.Correct(spec.ArmA, ReadoutOf(spec.ArmA)), result.Correct(spec.ArmB, ReadoutOf(spec.ArmB)));
            var note = string.Create(CultureInfo.InvariantCulture,
                $"test error {spec.ArmA} − {spec.ArmB} over {a.Length} seeds; McNemar over {a.Length} × {result.Summary.TestImages} (seed, image) pairs: {test.OnlyAWrong} only-{spec.ArmA}-wrong vs {test.OnlyBWrong} only-{spec.ArmB}-wrong, p = {test.PValue:0.0000}");
            claims.Add(new Claim(spec.Id, spec.Statement, ClaimSource.Paper, spec.PaperValue, difference, prediction, Decide(spec.Direction, difference, test), data, note));
        }
        return claims;
    }

    /// <summary>Each arm's test error (median over seeds, 95% bootstrap interval of the median), with easy / hard errors.</summary>
    public static IReadOnlyList<ArmError> Arms(RealImagesResult result)
    {
        Estimate? Median(IEnumerable<double> values)
        {
            var list = values.Where(v => !double.IsNaN(v)).ToList();
            return list.Count == 0 ? null : Statistics.Bootstrap(list, v => Statistics.Median(v));
        }
        return result.Rows.GroupBy(r => (r.LabelSet, r.Readout))
            .Select(g => new ArmError(g.Key.LabelSet, g.Key.Readout, g.First().PretrainingClasses, g.First().AlignmentBits,
                Median(g.Select(r => r.TestError))!, Median(g.Select(r => r.EasyError)), Median(g.Select(r => r.HardError))))
            .ToList();
    }
}

/// <summary>Markdown tables of the experiment for notebooks and the command line.</summary>
public static class RealImagesTables
{
    public static string ArmsMarkdown(RealImagesResult result)
    {
        var text = new StringBuilder();
        text.AppendLine("| label set | readout | classes | H(target ∣ pretraining), bits | test error, median [95% interval] | easy | hard |");
        text.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var arm in RealImagesClaims.Arms(result))
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {arm.LabelSet} | {arm.Readout} | {arm.PretrainingClasses:N0} | {arm.AlignmentBits:0.000} | {arm.Error.Format("0.000")} | {arm.EasyError?.Value.ToString("0.000", CultureInfo.InvariantCulture) ?? "—"} | {arm.HardError?.Value.ToString("0.000", CultureInfo.InvariantCulture) ?? "—"} |");
        return text.ToString();
    }

    /// <summary>The data of a run: counts, duplicates dropped, the split rule, and how long the run took.</summary>
    public static string DataMarkdown(RealImagesResult result)
    {
        var s = result.Summary;
        return string.Create(CultureInfo.InvariantCulture,
            $"**{result.Config.Dataset}** (real images): {s.Images:N0} distinct images ({s.DuplicatesDropped:N0} byte-identical duplicates across files dropped), " +
            $"{s.TargetClasses:N0} target classes, {s.LeafClasses:N0} leaf classes; split: {s.SplitRule} → {s.TrainImages:N0} / {s.ValidationImages:N0} / {s.TestImages:N0} " +
            $"train / validation / test images. Run folder `{result.Folder}`{(result.FromCache ? " (read back)" : "")}; the run took {s.Seconds / 60:0.0} min.");
    }

    /// <summary>One sentence per claim, computed from its numbers: what the data say, in points of error.</summary>
    public static string Reading(RealImagesResult result, IReadOnlyList<Claim> claims)
    {
        var text = new StringBuilder();
        foreach (var claim in claims)
        {
            if (claim.Ours is not { } d) { text.AppendLine($"- *{claim.Statement}*: not tested in this config."); continue; }
            var direction = d.Value < 0 ? "lower" : "higher";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"- *{claim.Statement}*: **{Verdicts.Label(claim.Verdict)}**. The first arm's error is {Math.Abs(100 * d.Value):0.0} points {direction} on average over seeds (95% interval {100 * d.Low:0.0} to {100 * d.High:0.0} points).");
        }
        var failed = claims.Count(c => c.Verdict == Verdict.DoesNotHold);
        var unclear = claims.Count(c => c.Verdict == Verdict.Inconclusive);
        text.AppendLine().AppendLine(failed + unclear == 0
            ? "Every tested claim holds on these real images."
            : $"{failed} claim(s) do not hold and {unclear} are inconclusive on these real images: we report them as they are.");
        return text.ToString();
    }

    public static string SchedulesMarkdown(RealImagesResult result)
    {
        var text = new StringBuilder();
        text.AppendLine($"Schedules ({result.Config.ScheduleProvenance}):\n");
        text.AppendLine("| label set | total epochs | learning rate | validation error |");
        text.AppendLine("|---|---|---|---|");
        foreach (var s in result.Config.Schedules)
            text.AppendLine(CultureInfo.InvariantCulture, $"| {s.LabelSet} | {s.Epochs} | {s.LearningRate:g3} | {s.ValidationError:0.000} |");
        return text.ToString();
    }
}
