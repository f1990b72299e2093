using Granularity.Core;
using Granularity.Plots;
using Granularity.Runs;
using Granularity.Theory;
using Xunit;
using static Granularity.Tests.Theory.TheoryTestSupport;

namespace Granularity.Tests.Theory;

/// <summary>A tiny study (d ∈ {40, 60}, 2 seeds, 40 steps) run once into a temporary folder for the study tests.</summary>
public sealed class TinyStudy : IDisposable
{
    public TinyStudy()
    {
        EnsureNatives();
        Root = TemporaryFolder();
        Config = new TheoryStudyConfig("tiny", Small() with { Steps = 40, EvalEvery = 20 }, [0, 1], [40, 60], [1, 3], [2, 8]);
        using var threads = TheoryExperiment.WithThreads(1);
        Result = TheoryStudy.Run(Config, Root);
    }

    public string Root { get; }
    public TheoryStudyConfig Config { get; }
    public TheoryStudyResult Result { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public sealed class TheoryStudyTests(TinyStudy tiny) : IClassFixture<TinyStudy>
{
    [Fact]
    public void TheStudyHasEveryItemWithOneValuePerSeed()
    {
        var (config, result) = (tiny.Config, tiny.Result);
        Assert.Equal(config.Configs.Count, result.Runs);
        Assert.Equal(2 * config.Dimensions.Count, result.Scaling.Count);
        foreach (var point in result.Scaling)
        {
            Assert.True(TheoryStudyConfig.LargestK(point.Dimension) == point.K || TheoryStudyConfig.SmallK(point.Dimension) == point.K);
            foreach (var values in new[] { point.Coarse, point.Readout, point.LinearProbe, point.FineTuned, point.Grouped, point.GroupedSgd })
            {
                Assert.Equal(2, values.Values.Count);
                Assert.All(values.Values, v => Assert.InRange(v, 0, 1));
                Assert.InRange(values.Interval.Value, values.Interval.Low, values.Interval.High);
            }
        }
        Assert.Equal(new[] { 40, 120 }, result.Length.Select(p => p.Steps));
        Assert.Equal(2 * 10 * 3, result.Capacity.CoarseFilters);
        Assert.Equal(result.Capacity.CoarseFilters, result.Capacity.FineFilters);
        Assert.Equal(new[] { 2 * 6, 8 * 6 }, result.Samples.Select(p => p.TrainingSetSize));
        Assert.Equal(2, result.BaseCoarseHardWilson.Count);
        Assert.All(result.BaseCoarseHardWilson, w => Assert.Equal(config.Base.FinalTestSamplesPerKind, w.Count));
    }

    [Fact]
    public void TheLengthRunsTrainTheCoarseModelAloneAndItsFirstStretchEqualsTheBaseRun()
    {
        var (config, result) = (tiny.Config, tiny.Result);
        var longRun = TheoryExperiment.GetOrRun(config.Length(3, 0), tiny.Root);
        Assert.True(longRun.FromCache);
        Assert.Null(longRun.Summary.Fine);
        Assert.Null(longRun.Summary.Transfer);
        var baseRun = TheoryExperiment.GetOrRun(config.Base with { Seed = 0 }, tiny.Root);
        var metrics = longRun.Metrics;
        var firstStretch = metrics.Rows.First(r => (int)r[0] == config.Base.Steps);
        // The coarse model sees the same stream whether or not a fine model trains beside it.
        Assert.Equal(baseRun.Summary.Coarse.HardAccuracy, firstStretch[metrics.IndexOf("coarse_hard_accuracy")], 6);
        Assert.Equal(1 - baseRun.Summary.Coarse.HardAccuracy, result.Length[0].HardError.Values[0], 6);
    }

    [Fact]
    public void LoadReadsTheSameResultWithoutTrainingAndNamesMissingRuns()
    {
        var loaded = TheoryStudy.Load(tiny.Config, tiny.Root);
        Assert.Equal(tiny.Result.Scaling.Select(p => p.Coarse.Values.ToArray()), loaded.Scaling.Select(p => p.Coarse.Values.ToArray()));
        var empty = TemporaryFolder();
        try
        {
            var error = Assert.Throws<MissingRunsException>(() => TheoryStudy.Load(tiny.Config, empty));
            Assert.Equal(tiny.Config.Configs.Count, error.Missing.Count);
        }
        finally { Directory.Delete(empty, recursive: true); }
    }

    [Fact]
    public void EveryClaimIsTestedAndEveryStudyChartBuilds()
    {
        var claims = TheoryStudy.Claims(tiny.Result);
        Assert.Equal(11, claims.Count);
        // Theorem 2's verdicts rest on the transfer fixed in code (grouped_sgd), named in the claims.
        Assert.Contains(TheoryStudy.Theorem2Transfer, claims.Single(c => c.Id == "theory.transfer-hard-error-largest-d.fixed-sigma").Statement);
        Assert.Contains("outside the assumptions", claims[0].Data);   // the tiny study uses a fixed σ
        Assert.All(TheoryStudy.Claims(tiny.Result with { Config = tiny.Config with { Base = tiny.Config.Base with { NoiseStd = null, NoiseNorm = 1.5 } } }),
            c => Assert.DoesNotContain(".fixed-sigma", c.Id));
        Assert.All(claims, c => Assert.NotEqual(Verdict.NotTested, c.Verdict));
        Assert.All(claims, c => Assert.True(c.OnStandIn));
        Assert.Contains("theory.coarse-hard-error-every-d.fixed-sigma", ClaimTable.ToMarkdown(claims) + string.Join(" ", claims.Select(c => c.Id)));
        string Html(Plotly.NET.GenericChart chart) => Plotly.NET.GenericChart.toChartHTML(chart);
        Assert.Contains("chance (0.5)", Html(TheoryStudyCharts.Scaling(tiny.Result)));
        Assert.Contains("fine-feature alignment", Html(TheoryStudyCharts.Length(tiny.Result)));
        Assert.Contains("m·k per output", Html(TheoryStudyCharts.Capacity(tiny.Result)));
        Assert.Contains("samples per subclass", Html(TheoryStudyCharts.Samples(tiny.Result)));
        var inside = tiny.Result with { Config = tiny.Config with { Base = tiny.Config.Base with { NoiseStd = null, NoiseNorm = 1.5 } } };
        Assert.Contains("fixed σ, outside the assumptions", Html(TheoryStudyCharts.Regimes(inside, tiny.Result)));
        Assert.Throws<ArgumentException>(() => TheoryStudyCharts.Regimes(tiny.Result, inside));
    }

    [Fact]
    public void VerdictsFollowTheFixedRulesOnKnownValues()
    {
        // Known answers: a coarse hard error of 0.3 on every seed and d is bounded away from 0 (holds); 0.0 is not (fails);
        // errors straddling the floor cannot tell (inconclusive).
        var result = tiny.Result;
        TheoryStudyResult WithCoarse(params double[] perSeed) => result with
        {
            Scaling = result.Scaling.Select(p => p with { Coarse = SeedValues.Of(perSeed) }).ToList(),
        };
        Verdict CoarseVerdict(TheoryStudyResult r) => TheoryStudy.Claims(r).Single(c => c.Id == "theory.coarse-hard-error-every-d.fixed-sigma").Verdict;
        Assert.Equal(Verdict.Holds, CoarseVerdict(WithCoarse(0.3, 0.3, 0.31)));
        Assert.Equal(Verdict.DoesNotHold, CoarseVerdict(WithCoarse(0.0, 0.01, 0.02)));
        Assert.Equal(Verdict.Inconclusive, CoarseVerdict(WithCoarse(0.02, 0.3)));
        // The old "expected range 0.45–0.9" of hard accuracy accepted below-chance results; the probe rule does not move.
        var chanceProbe = result with { Scaling = result.Scaling.Select(p => p with { LinearProbe = SeedValues.Of([0.5, 0.5]) }).ToList() };
        Assert.Equal(Verdict.DoesNotHold, TheoryStudy.Claims(chanceProbe).Single(c => c.Id == "theory.probe-hard-error-largest-d.fixed-sigma").Verdict);
        // Theorem 2's verdict reads grouped_sgd and nothing else: a perfect linear head does not rescue a chance-level grouped_sgd.
        TheoryStudyResult WithTransfers(double groupedSgd, double probe) => result with
        {
            Scaling = result.Scaling.Select(p => p with { GroupedSgd = SeedValues.Of([groupedSgd, groupedSgd]), LinearProbe = SeedValues.Of([probe, probe]) }).ToList(),
        };
        Verdict Theorem2(TheoryStudyResult r) => TheoryStudy.Claims(r).Single(c => c.Id == "theory.transfer-hard-error-largest-d.fixed-sigma").Verdict;
        Assert.Equal(Verdict.DoesNotHold, Theorem2(WithTransfers(groupedSgd: 0.5, probe: 0.0)));
        Assert.Equal(Verdict.Holds, Theorem2(WithTransfers(groupedSgd: 0.01, probe: 0.5)));
        Assert.Equal(Verdict.Inconclusive, Theorem2(result with { Scaling = result.Scaling.Select(p => p with { GroupedSgd = SeedValues.Of([0.0, 0.2]) }).ToList() }));
    }
}
