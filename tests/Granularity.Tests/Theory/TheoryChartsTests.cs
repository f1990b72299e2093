using Granularity.Plots;
using Granularity.Theory;
using Xunit;
using static Granularity.Tests.Theory.TheoryTestSupport;

namespace Granularity.Tests.Theory;

/// <summary>A miniature sweep (d = 60, k ∈ {2, 3}, 2 seeds, 30 steps) run once into a temporary folder for all chart tests.</summary>
public sealed class MiniatureSweep
{
    public MiniatureSweep()
    {
        EnsureNatives();
        Sweep = new TheorySweep("test", Small() with { Steps = 30, EvalEvery = 10 }, new[] { 0, 1 }, new[] { 0 },
            new[] { 2, 3 }, new[] { 0.1, 0.15 }, new[] { 40, 60 }, new[] { 0.0, 0.2 });
        using var threads = TheoryExperiment.WithThreads(1);
        Runs = TheoryExperiment.RunSweep(Sweep, TemporaryFolder());
    }

    public TheorySweep Sweep { get; }
    public IReadOnlyList<TheoryRun> Runs { get; }
}

public sealed class TheoryChartsTests(MiniatureSweep miniature) : IClassFixture<MiniatureSweep>
{

    [Fact]
    public void EveryChartBuildsFromRunFoldersAndNamesItsSeries()
    {
        var (runs, sweep) = (miniature.Runs, miniature.Sweep);
        Assert.Equal(2 * 2 + 3, runs.Count);
        var baseRuns = TheorySweep.Along(runs, sweep.Base, SweepAxis.Seed);
        Assert.Equal(2, baseRuns.Count);
        string Html(Plotly.NET.GenericChart chart) => Plotly.NET.GenericChart.toChartHTML(chart);

        Assert.Contains("hard sample of subclass", Html(TheoryCharts.DataModel(sweep.Base)));
        Assert.Contains("fine model · fine features", Html(TheoryCharts.Dynamics(baseRuns)));
        var accuracy = Html(TheoryCharts.Accuracy(baseRuns));
        foreach (var transfer in new[] { "grouped (no training)", "grouped_sgd (Theorem 2's verdict transfer)", "linear_head on easy samples", "head_first_layer on easy samples", "max_subclass" })
            Assert.Contains(transfer, accuracy);
        Assert.Contains("\"boxmode\":\"group\"", accuracy);
        Assert.Contains("k (subclasses per superclass", Html(TheoryCharts.HardAccuracyVsK(TheorySweep.Along(runs, sweep.Base, SweepAxis.Subclasses))));
        Assert.Contains("share of hard samples in training", Html(TheoryCharts.Sweeps(runs, sweep)));
    }

    [Fact]
    public void SpreadIsMedianWithMinAndMax()
    {
        Assert.Equal("0.500 (0.100–0.900)", SeedStatistics.Spread(new[] { 0.9, 0.1, 0.5 }));
        Assert.Equal("0.250", SeedStatistics.Spread(new[] { 0.25 }));
        Assert.Equal(2.5, SeedStatistics.Median(new[] { 4.0, 1, 2, 3 }));
    }
}
