using Granularity.Experiments;
using Granularity.Plots;
using Granularity.Runs;
using Granularity.Training;
using Xunit;
using Xunit.Abstractions;

namespace Granularity.Tests.Experiments;

[Collection(HardSamplesCollection.Name)]
public sealed class HardSamplesTests(HardSamplesFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void ModelScoresRecoverTheSyntheticGroundTruth()
    {
        var result = fixture.Result;
        Assert.True(result.HasGroundTruth);
        Assert.Equal(512, result.Count); // 256 easy + 256 hard test images
        var checks = result.Definitions().ToDictionary(c => c.Definition);
        foreach (var c in checks.Values)
            output.WriteLine($"{c.Definition}: AUC {c.GroundTruthAuc:0.000} precision {c.PrecisionAtTrueShare:0.000} ρ {c.SpearmanWithDefault:0.000} overlap {c.HardSetOverlap:0.000}");
        // The coarse reference model's evidence for the true superclass is weak exactly where the common feature is absent.
        Assert.True(checks[HardnessDefinition.TargetProbability].GroundTruthAuc >= 0.85, $"probability AUC {checks[HardnessDefinition.TargetProbability].GroundTruthAuc}");
        Assert.True(checks[HardnessDefinition.TargetMargin].GroundTruthAuc >= 0.85, $"margin AUC {checks[HardnessDefinition.TargetMargin].GroundTruthAuc}");
        Assert.True(checks[HardnessDefinition.CentroidSimilarity].GroundTruthAuc >= 0.7, $"centroid AUC {checks[HardnessDefinition.CentroidSimilarity].GroundTruthAuc}");
        Assert.True(checks[HardnessDefinition.TargetProbability].PrecisionAtTrueShare >= 0.75);
        // Probability and margin are near-monotone transforms of each other for a 4-way head.
        Assert.True(checks[HardnessDefinition.TargetMargin].SpearmanWithDefault > 0.8);
        Assert.Equal(1.0, checks[HardnessDefinition.TargetProbability].SpearmanWithDefault, 9);
    }

    [Fact]
    public void HardestBinHoldsTheKnownHardImagesAndTheBaselineErrors()
    {
        var bins = fixture.Result.Bins();
        Assert.Equal(4, bins.Count);
        Assert.Equal(512, bins.Sum(b => b.Count));
        Assert.True(bins[0].TrueHardShare > bins[^1].TrueHardShare + 0.5, $"true-hard share {bins[0].TrueHardShare} (hardest) vs {bins[^1].TrueHardShare} (easiest)");
        var baselineHardest = bins[0].Errors.First(e => e.Model == HardSamplesResult.BaselineName);
        var baselineEasiest = bins[^1].Errors.First(e => e.Model == HardSamplesResult.BaselineName);
        Assert.Equal(2, baselineHardest.PerSeed.Count);
        Assert.True(baselineHardest.Mean > baselineEasiest.Mean, $"baseline error {baselineHardest.Mean} (hardest bin) vs {baselineEasiest.Mean} (easiest)");
        Assert.True(bins.Zip(bins.Skip(1)).All(p => p.First.ScoreTo <= p.Second.ScoreFrom), "bins are ordered by score");
    }

    [Fact]
    public void GainsDecomposeTheTotalReduction()
    {
        var result = fixture.Result;
        var rows = result.Gains();
        var all = rows.Single(r => r.Group == "all test images");
        var hard = rows.Single(r => r.Group.StartsWith("hard", StringComparison.Ordinal));
        var easy = rows.Single(r => r.Group.StartsWith("easy", StringComparison.Ordinal));
        Assert.Equal(all.Count, hard.Count + easy.Count);
        Assert.Equal((int)Math.Round(0.2 * all.Count), hard.Count);
        // Count-weighted reductions of a partition add up to the whole.
        Assert.Equal(all.Count * all.Reduction, hard.Count * hard.Reduction + easy.Count * easy.Reduction, 9);
        if (all.Reduction > 0) Assert.Equal(1.0, hard.ShareOfTotalReduction + easy.ShareOfTotalReduction, 9);
        var relative = result.RelativeErrorReduction()["leaf"];
        Assert.Equal(all.Reduction / all.BaselineError, relative, 9);
        foreach (var r in rows) output.WriteLine($"{r.Group}: baseline {r.BaselineError:0.000} fine {r.FineError:0.000} share {r.ShareOfTotalReduction:0.00}");
    }

    [Fact]
    public void SecondRunReusesTheScoringRun()
    {
        var scores = fixture.Result.ScoringFolder.File(HardnessScoring.ScoresFile("hard"));
        var written = File.GetLastWriteTimeUtc(scores);
        var again = HardSamples.Run(fixture.Config, fixture.Root, trainMissing: false);
        Assert.Equal(fixture.Result.ScoringFolder.Path, again.ScoringFolder.Path);
        Assert.Equal(written, File.GetLastWriteTimeUtc(scores));
        Assert.Equal(fixture.Result.Scores(HardnessDefinition.TargetMargin), again.Scores(HardnessDefinition.TargetMargin));
    }

    [Fact]
    public void ChartsAndTablesBuildFromTheResult()
    {
        var result = fixture.Result;
        Assert.NotNull(HardSampleCharts.DefinitionAgreement(result));
        Assert.NotNull(HardSampleCharts.ScoreDistribution(result));
        Assert.NotNull(HardSampleCharts.ErrorByHardness(result, HardnessDefinition.CentroidSimilarity));
        Assert.Equal(3, HardSampleCharts.DefinitionTable(result).Rows.Count);
        Assert.Equal(4, HardSampleCharts.BinTable(result).Rows.Count);
        Assert.Equal(5, HardSampleCharts.GainTable(result).Rows.Count); // hard, easy, truly hard, truly easy, all
        var claims = HardSampleStudy.Claims(result);
        Assert.Contains(claims, c => c.Id == "hard.definition-finds-hard" && c.Verdict == Granularity.Core.Verdict.Holds);
        Assert.All(claims.Where(c => c.Id.StartsWith("hard.gain-on-hard", StringComparison.Ordinal)), c => Assert.NotNull(c.Note));
        Assert.All(claims, c => Assert.NotEqual(Granularity.Core.Verdict.NotTested, c.Verdict));
    }

    [Fact]
    public void FullModeNamesTheMissingRunsAndTheirCommands()
    {
        var empty = Path.Combine(fixture.Root, "empty");
        var error = Assert.Throws<MissingRunsException>(() => HardSamples.Run(HardSamplesConfig.Full(), empty, trainMissing: false));
        Assert.Equal(4, error.Missing.Count); // reference + baseline + genus + species
        Assert.Contains(error.Missing, m => m.Contains("species → supercategory, seed 0", StringComparison.Ordinal));
        Assert.Contains(error.Commands, c => c.Contains("finetune --protocol inat2021-resnet34 --pretraining-level species --target-level supercategory --seed 0", StringComparison.Ordinal));
        Assert.Contains(error.Commands, c => c.Contains("hard-samples run --full", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(empty, TrainingEngine.TransferExperiment)), "a report of missing runs creates no folders");
    }

    [Fact]
    public void ConfigRejectsAReferenceThatIsAlsoCompared()
    {
        var quick = HardSamplesConfig.Quick();
        var shared = Assert.Throws<ArgumentException>(() => (quick with { Seeds = [0, quick.Reference.Seed] }).Validated());
        Assert.Contains("Reference.Seed", shared.Message);
        var notBaseline = Assert.Throws<ArgumentException>(() => (quick with { Reference = quick.Reference with { PretrainingLevel = "leaf" } }).Validated());
        Assert.Contains("must be a baseline", notBaseline.Message);
        Assert.Contains("Bins", Assert.Throws<ArgumentException>(() => (quick with { Bins = 1 }).Validated()).Message);
        Assert.Contains("HardShare", Assert.Throws<ArgumentException>(() => (quick with { HardShare = 0.7 }).Validated()).Message);
        Assert.Contains("FineLevels", Assert.Throws<ArgumentException>(() => (quick with { FineLevels = ["coarse"] }).Validated()).Message);
        HardSamplesConfig.Quick().Validated();
        HardSamplesConfig.Full().Validated();
    }
}

public sealed class HardnessStatisticsTests
{
    [Fact]
    public void AucIsOneZeroOrHalf()
    {
        double[] scores = [0.1, 0.2, 0.3, 0.8, 0.9];
        Assert.Equal(1.0, HardnessStatistics.Auc(scores, [true, true, false, false, false]), 12);
        Assert.Equal(0.0, HardnessStatistics.Auc(scores, [false, false, false, true, true]), 12);
        Assert.Equal(0.5, HardnessStatistics.Auc([1, 1, 1, 1], [true, false, true, false]), 12);
        // One of the 2 × 2 pairs is misordered: a positive at 0.3 above a negative at 0.2.
        Assert.Equal(0.75, HardnessStatistics.Auc([0.1, 0.2, 0.3, 0.4], [true, false, true, false]), 12);
        Assert.Throws<ArgumentException>(() => HardnessStatistics.Auc([0.1, 0.2], [true, true]));
    }

    [Fact]
    public void AucOfAnUnrelatedScoreIsNearChance()
    {
        var random = new Random(3);
        var scores = Enumerable.Range(0, 4000).Select(_ => random.NextDouble()).ToArray();
        var hard = Enumerable.Range(0, 4000).Select(_ => random.NextDouble() < 0.3).ToArray();
        Assert.InRange(HardnessStatistics.Auc(scores, hard), 0.46, 0.54);
    }

    [Fact]
    public void RanksBinsAndSpearman()
    {
        Assert.Equal([1.0, 2.5, 2.5, 4.0], HardnessStatistics.MidRanks([0.0, 5.0, 5.0, 9.0]));
        var bins = HardnessStatistics.QuantileBins([5, 4, 3, 2, 1, 0, 9], 3);
        Assert.Equal([2, 2, 3], bins.Select(b => b.Length).ToArray());
        Assert.Equal(new[] { 5, 4 }, bins[0]); // the lowest scores first
        Assert.Equal(1.0, HardnessStatistics.Spearman([1, 2, 3, 4], [10, 20, 30, 400]), 12);
        Assert.Equal(-1.0, HardnessStatistics.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), 12);
        Assert.Equal(2.0 / 3, HardnessStatistics.PrecisionAtTrueShare([0.1, 0.2, 0.3, 0.9], [true, false, true, true]), 12);
    }
}
