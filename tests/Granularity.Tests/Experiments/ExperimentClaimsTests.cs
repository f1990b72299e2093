using Granularity.Core;
using Granularity.Experiments;
using Xunit;

namespace Granularity.Tests.Experiments;

/// <summary>The claims of notebooks 03–05 follow the numbers: the verdict moves with the data, and one seed gives no verdict.</summary>
public class ExperimentClaimsTests
{
    private static FineToCoarseResults Synthetic(double[] baselineHard, double[] leafHard)
    {
        var config = FineToCoarseConfig.Quick() with { Seeds = Enumerable.Range(0, baselineHard.Length).ToList(), PretrainingLevels = ["leaf"], Readouts = [Readout.LinearProbe] };
        var rows = new List<FineToCoarseRow>();
        for (int seed = 0; seed < baselineHard.Length; seed++)
        {
            rows.Add(new(seed, FineToCoarse.TargetLevel, ConditionGroup.Baseline, 4, Readout.Baseline, 0.01, baselineHard[seed], 0, $"b{seed}"));
            rows.Add(new(seed, "leaf", ConditionGroup.Hierarchy, 16, Readout.LinearProbe, 0.01, leafHard[seed], 0, $"l{seed}"));
        }
        return new(config, "unused", rows, FromCache: true);
    }

    [Fact]
    public void LeafClaimHoldsWhenLeafPretrainingIsBetterOnEveryResample()
    {
        var claim = Assert.Single(FineToCoarse.Claims(Synthetic([0.40, 0.45, 0.38, 0.42], [0.10, 0.12, 0.09, 0.15])));
        Assert.Equal(Verdict.Holds, claim.Verdict);
        Assert.InRange(claim.Ours!.Value, 29, 31); // mean of the paired differences, in points
        Assert.True(claim.Ours.Low > 0);
    }

    [Fact]
    public void LeafClaimFailsOrIsInconclusiveWhenTheDataDisagree()
    {
        Assert.Equal(Verdict.DoesNotHold, Assert.Single(FineToCoarse.Claims(Synthetic([0.10, 0.12, 0.09], [0.40, 0.45, 0.38]))).Verdict);
        Assert.Equal(Verdict.Inconclusive, Assert.Single(FineToCoarse.Claims(Synthetic([0.30, 0.10, 0.32], [0.10, 0.30, 0.12]))).Verdict);
    }

    [Fact]
    public void Inat2021ClaimsWithOneSeedAreInconclusiveByRule()
    {
        var config = Inat2021ExperimentConfig.Quick();
        Inat2021Row Row(string kind, string labelling, int classes, double error) => new(kind, labelling, labelling, classes, [error], error, error, error, null, 0);
        var rows = new[]
        {
            Row(Inat2021Experiment.Baseline, "supercategory", 4, 0.40), Row(Inat2021Experiment.Taxonomy, "species", 31, 0.20),
            Row(Inat2021Experiment.Random, "random", 31, 0.50), Row(Inat2021Experiment.OnePerImage, "instance", 1000, 0.45),
        };
        var claims = Inat2021Experiment.Claims(new Inat2021Result(config, rows));
        var species = claims.Single(c => c.Id == "inat2021.relative-improvement.species");
        Assert.Equal(0.5, species.Ours!.Value, 6);
        Assert.All(claims.Where(c => c.Ours is not null), c => Assert.Equal(Verdict.Inconclusive, c.Verdict));
        Assert.Equal(Verdict.NotTested, claims.Single(c => c.Id == "inat2021.aligned-clusters").Verdict);
        Assert.All(claims, c => Assert.Contains("stand-in", c.Data));
    }

    [Fact]
    public void ImageNetClaimsHoldWithEnoughSeedsInThePapersDirection()
    {
        var config = ImageNetExperimentConfig.Quick() with { Seeds = [0, 1, 2] };
        var rows = new[]
        {
            new ImageNetRow("target", 16, true, [70.0, 71, 69], 70, 0),
            new ImageNetRow("imagenet21k-leaf", 48, false, [80.0, 81, 79.5], 80, 0),
            new ImageNetRow("imagenet21k-up:7", 11, false, [72.0, 73, 71], 72, 0),
        };
        var claims = ImageNetExperiment.Claims(new ImageNetResult(config, rows));
        Assert.All(claims, c => Assert.Equal(Verdict.Holds, c.Verdict));
        Assert.Contains(claims, c => c.Statement.Contains("imagenet21k-up:7"));
    }
}
