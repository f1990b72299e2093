using Granularity.Core;
using Granularity.Runs;

namespace Granularity.Experiments;

/// <summary>
/// Notebook 06's study in the one experiment shape: train (or read) the reference, baseline and fine runs, score every
/// test image's hardness, and judge the claims from intervals over seeds with rules fixed here.
/// </summary>
public sealed class HardSampleStudy : IExperiment<HardSamplesConfig, HardSamplesResult>
{
    public static string Name => HardnessScoring.ExperimentName;

    /// <summary>Read-only policies never train: missing runs raise <see cref="MissingRunsException"/> with their commands.</summary>
    public static HardSamplesResult Run(HardSamplesConfig config, RunPolicy policy) =>
        HardSamples.Run(config, policy.RunsRoot, trainMissing: policy.Reuse != RunReuse.ReadOnly, ExperimentRuns.NotebookOptions(policy));

    /// <summary>
    /// The claims, each judged by its rule: the definition finds the known hard images (AUC ≥ 0.8, synthetic only); the
    /// fine level's error reduction on the hardest images exceeds that on the rest (paired bootstrap over seeds, interval
    /// above 0); its relative error reduction over all images is positive (interval above 0). A per-image McNemar test on
    /// the hardest images (first seed) goes with each gain.
    /// </summary>
    public static IReadOnlyList<Claim> Claims(HardSamplesResult result)
    {
        var claims = new List<Claim>();
        var data = result.HasGroundTruth ? "synthetic hierarchy (generated)" : result.Config.Name == "inat2021" ? "iNat2021" : $"{result.Config.Reference.Dataset.Name} (generated stand-in)";
        var chosen = result.Definitions().First(d => d.Definition == result.Config.Definition);
        if (result.HasGroundTruth)
        {
            var auc = new Estimate(chosen.GroundTruthAuc, chosen.GroundTruthAuc, chosen.GroundTruthAuc, 1, "AUC of the reference model's scores against the known hard split");
            claims.Add(new("hard.definition-finds-hard", $"Our hardness score ({result.Config.Definition}) finds the images that lack the common feature",
                ClaimSource.Ours, "— (the paper defines hard samples only in its theory)", auc, "AUC ≥ 0.8 (0.5 = chance)",
                auc.Value >= 0.8 ? Verdict.Holds : Verdict.DoesNotHold, data));
        }
        var hard = result.HardestImages();
        var easy = Enumerable.Range(0, result.Count).Where(i => !hard.Contains(i)).ToArray();
        var hardArray = hard.Order().ToArray();
        var all = Enumerable.Range(0, result.Count).ToArray();
        var baseline = result.Correct(HardSamplesResult.BaselineName);
        foreach (var level in result.Config.FineLevels)
        {
            var fine = result.Correct(level);
            var seeds = Math.Min(baseline.Count, fine.Count);
            double Reduction(int seed, int[] members) => HardSamplesResult.ErrorOf(baseline[seed], members) - HardSamplesResult.ErrorOf(fine[seed], members);
            var onHard = Enumerable.Range(0, seeds).Select(s => Reduction(s, hardArray)).ToArray();
            var onEasy = Enumerable.Range(0, seeds).Select(s => Reduction(s, easy)).ToArray();
            var difference = Statistics.PairedBootstrap(onHard, onEasy);
            var mcnemar = Statistics.McNemar(hardArray.Select(i => baseline[0][i]).ToArray(), hardArray.Select(i => fine[0][i]).ToArray());
            claims.Add(new($"hard.gain-on-hard.{level}", $"Fine ({level}) pretraining's error reduction is larger on the hardest {result.Config.HardShare:P0} of images than on the rest",
                ClaimSource.Paper, "Thm 1–2: coarse training fails on hard samples; fine pretraining fixes them", difference,
                "paired difference (hard − rest reduction) over seeds, 95% interval above 0", Verdicts.Above(difference, 0), data,
                $"McNemar on the hardest images, seed {result.Config.Seeds[0]}: baseline alone wrong on {mcnemar.OnlyAWrong}, fine alone on {mcnemar.OnlyBWrong}, p = {mcnemar.PValue:0.####}"));
            var relative = Enumerable.Range(0, seeds).Select(s =>
            {
                var b = HardSamplesResult.ErrorOf(baseline[s], all);
                return b == 0 ? 0 : (b - HardSamplesResult.ErrorOf(fine[s], all)) / b;
            }).ToArray();
            var estimate = Statistics.Bootstrap(relative);
            claims.Add(new($"hard.relative-error-reduction.{level}", $"Relative error reduction of {level} pretraining over all test images",
                ClaimSource.Paper, result.Config.Name == "inat2021" ? "8.76% (iNat2021, best level)" : "8.76% on iNat2021 (not comparable)", estimate,
                "mean over seeds, 95% interval above 0", Verdicts.Above(estimate, 0), data));
        }
        return claims;
    }
}
