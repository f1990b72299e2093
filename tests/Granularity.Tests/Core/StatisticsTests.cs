using Granularity.Core;
using Xunit;

namespace Granularity.Tests.Core;

public sealed class StatisticsTests
{
    [Fact]
    public void QuantilesInterpolateLikeNumpy()
    {
        double[] values = [3, 1, 4, 1, 5, 9, 2, 6];
        Assert.Equal(3.5, Statistics.Median(values), 12);
        Assert.Equal(1.0, Statistics.Quantile(values, 0), 12);
        Assert.Equal(9.0, Statistics.Quantile(values, 1), 12);
        Assert.Equal(1.75, Statistics.Quantile(values, 0.25), 12); // numpy.quantile(..., 0.25)
        Assert.Equal(2.0, Statistics.Median([2.0]), 12);
        Assert.Throws<ArgumentException>(() => Statistics.Median([]));
        Assert.Throws<ArgumentException>(() => Statistics.Median([1, double.NaN]));
    }

    [Fact]
    public void PairedBootstrapFindsAClearDifferenceAndNotANullOne()
    {
        double[] baseline = [0.30, 0.32, 0.29, 0.31, 0.33, 0.30, 0.28];
        var better = baseline.Select(v => v - 0.05).ToArray();
        var gain = Statistics.PairedBootstrap(baseline, better);
        Assert.Equal(0.05, gain.Value, 9);
        Assert.True(gain.Low > 0.049 && gain.High < 0.051); // a constant paired difference has no spread
        Assert.Equal(Verdict.Holds, Verdicts.Above(gain, 0));

        double[] noise = [0.01, -0.02, 0.015, -0.01, 0.005, -0.015, 0.0];
        var none = Statistics.PairedBootstrap(baseline.Zip(noise, (b, n) => b + n).ToArray(), baseline);
        Assert.True(none.Low < 0 && none.High > 0);
        Assert.Equal(Verdict.Inconclusive, Verdicts.Above(none, 0));
        Assert.Throws<ArgumentException>(() => Statistics.PairedBootstrap([1, 2], [1]));
    }

    [Fact]
    public void BootstrapIsDeterministicPerSeed()
    {
        double[] values = [1, 2, 3, 4, 10];
        Assert.Equal(Statistics.Bootstrap(values, seed: 7), Statistics.Bootstrap(values, seed: 7));
        var estimate = Statistics.Bootstrap(values);
        Assert.True(estimate.Low >= 1 && estimate.High <= 10 && estimate.Low < estimate.Value && estimate.Value < estimate.High);
    }

    [Fact]
    public void McNemarMatchesTheExactBinomial()
    {
        // 10 discordant pairs split 9 : 1 → two-sided p = 2 · (1 + 10) / 1024
        var a = Enumerable.Repeat(true, 20).Concat(Enumerable.Repeat(false, 9)).Concat([true]).ToArray();
        var b = Enumerable.Repeat(true, 20).Concat(Enumerable.Repeat(true, 9)).Concat([false]).ToArray();
        var test = Statistics.McNemar(a, b);
        Assert.Equal(9, test.OnlyAWrong);
        Assert.Equal(1, test.OnlyBWrong);
        Assert.Equal(22.0 / 1024, test.PValue, 12);
        Assert.Equal(1.0, Statistics.McNemar(a, a).PValue);
        Assert.Equal(1.0, Statistics.BinomialTwoSidedP(5, 10), 12);
    }

    [Fact]
    public void WilsonIntervalMatchesTheTextbookValue()
    {
        // 81 of 263 at 95%: Wilson interval [0.2553, 0.3662] (Newcombe 1998, example values)
        var interval = Statistics.Wilson(81, 263);
        Assert.Equal(0.2553, interval.Low, 3);
        Assert.Equal(0.3662, interval.High, 3);
        Assert.Equal(1.959964, Statistics.NormalQuantile(0.975), 5);
        var zero = Statistics.Wilson(0, 100);
        Assert.Equal(0, zero.Low);
        Assert.True(zero.High is > 0.03 and < 0.04);
    }

    [Fact]
    public void VerdictsFollowTheIntervalNotThePoint()
    {
        var above = new Estimate(0.2, 0.1, 0.3, 5, "test");
        var straddles = new Estimate(0.05, -0.02, 0.12, 5, "test");
        var below = new Estimate(-0.2, -0.3, -0.1, 5, "test");
        Assert.Equal(Verdict.Holds, Verdicts.Above(above, 0));
        Assert.Equal(Verdict.Inconclusive, Verdicts.Above(straddles, 0));
        Assert.Equal(Verdict.DoesNotHold, Verdicts.Above(below, 0));
        Assert.Equal(Verdict.Holds, Verdicts.Below(below, 0));
        Assert.Equal(Verdict.NotTested, Verdicts.Above(null, 0));
        Assert.Equal(Verdict.Holds, Verdicts.Within(new Estimate(0.5, 0.45, 0.55, 3, "t"), 0.4, 0.6));
        Assert.Equal(Verdict.DoesNotHold, Verdicts.All(Verdict.Holds, Verdict.DoesNotHold));
        Assert.Equal(Verdict.Inconclusive, Verdicts.All(Verdict.Holds, Verdict.Inconclusive));
        var table = ClaimTable.ToMarkdown([new Claim("x", "a | b", ClaimSource.Ours, "—", above, "interval above 0", Verdict.Holds, "generated stand-in")]);
        Assert.Contains("a ∣ b", table);
        Assert.DoesNotContain("\\|", table);
        Assert.Contains("**holds**", table);
    }
}
