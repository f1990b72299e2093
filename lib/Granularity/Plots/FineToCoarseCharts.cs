using Granularity.Experiments;
using Plotly.NET;
using Plotly.NET.CSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Granularity.Plots;

/// <summary>Charts of the synthetic fine-to-coarse experiment (notebook 03), built from its results (read from run folders).</summary>
public static class FineToCoarseCharts
{
    /// <summary>
    /// Error on one test split ("hard" or "easy") per pretraining label set: per readout the median over seeds with min–max
    /// bars, the seeds as small faint markers, and the baseline's median as a dashed line.
    /// </summary>
    public static GenericChart Conditions(FineToCoarseResults results, string split = "hard")
    {
        if (split is not ("hard" or "easy")) throw new ArgumentException($"split must be 'hard' or 'easy', got '{split}'", nameof(split));
        double Error(FineToCoarseRow r) => 100 * (split == "hard" ? r.HardError : r.EasyError);
        var levels = FineToCoarse.Conditions(results).Select(c => c.Key.Level).Distinct().ToList();
        string Label(string level) => $"{level} ({results.Rows.First(r => r.PretrainingLevel == level).PretrainingClasses})";
        var traces = new List<GenericChart>();
        foreach (var readout in results.Rows.Select(r => r.Readout).Distinct().Order())
        {
            var rows = results.Rows.Where(r => r.Readout == readout).ToList();
            var groups = rows.GroupBy(r => r.PretrainingLevel).Select(g => (Level: g.Key, Stats: FineToCoarse.Stats(g.Select(Error)))).ToList();
            traces.Add(HouseStyle.WithIntervals(CSharpChart.Point<string, double, string>(
                    groups.Select(g => Label(g.Level)), groups.Select(g => g.Stats.Median), Name: $"{FineToCoarse.ReadoutName(readout)} (median, min–max over seeds)",
                    MarkerSymbol: StyleParam.MarkerSymbol.Diamond),
                groups.Select(g => g.Stats.Max - g.Stats.Median), groups.Select(g => g.Stats.Median - g.Stats.Min)));
            traces.Add(CSharpChart.Point<string, double, string>(
                rows.Select(r => Label(r.PretrainingLevel)), rows.Select(Error), Name: $"{FineToCoarse.ReadoutName(readout)} · each seed",
                Opacity: 0.35, MultiText: rows.Select(r => $"seed {r.Seed}").ToArray()));
        }
        var baseline = FineToCoarse.Stats(results.Rows.Where(r => r.Readout == Readout.Baseline).Select(Error)).Median;
        traces.Add(CSharpChart.Line<string, double, string>(levels.Select(Label), levels.Select(_ => baseline),
            Name: "baseline median", LineDash: StyleParam.DrawingStyle.Dash));
        return HouseStyle.Apply(CSharpChart.Combine(traces),
            $"Coarse-label error on {split} test images after pretraining on each label set", "pretraining labels (classes)", $"{split} error (%)");
    }

    /// <summary>The U-shape: median hard error against the number of pretraining classes (log x), per readout, with the baseline.</summary>
    public static GenericChart UShape(FineToCoarseResults results)
    {
        var traces = new List<GenericChart>();
        int maxClasses = 4;
        foreach (var readout in results.Config.Readouts)
        {
            var ladder = FineToCoarse.UShape(results, readout).Where(p => p.Level != FineToCoarse.TargetLevel).ToList();
            if (ladder.Count == 0) continue;
            maxClasses = Math.Max(maxClasses, ladder.Max(p => p.Classes));
            var spread = ladder.Select(p => FineToCoarse.Stats(results.Rows.Where(r => r.Readout == readout && r.PretrainingLevel == p.Level).Select(r => 100 * r.HardError))).ToList();
            traces.Add(HouseStyle.WithIntervals(CSharpChart.Line<int, double, string>(ladder.Select(p => p.Classes), ladder.Select(p => 100 * p.MedianHardError),
                    Name: $"{FineToCoarse.ReadoutName(readout)} (median, min–max over seeds)", ShowMarkers: true, MultiText: ladder.Select(p => p.Level).ToArray()),
                ladder.Zip(spread, (p, s) => s.Max - 100 * p.MedianHardError), ladder.Zip(spread, (p, s) => 100 * p.MedianHardError - s.Min)));
        }
        var baseline = 100 * FineToCoarse.Stats(results.BaselineHardErrors).Median;
        traces.Add(CSharpChart.Line<int, double, string>(new[] { 4, maxClasses }, new[] { baseline, baseline }, Name: "baseline (coarse, 4 classes) median", LineDash: StyleParam.DrawingStyle.Dash));
        var chart = HouseStyle.Apply(CSharpChart.Combine(traces),
            "Granularity U-shape: hard-image error vs number of pretraining classes", "pretraining classes (log scale)", "hard error (%)");
        return chart.WithXAxisStyle<double, double, string>(AxisType: StyleParam.AxisType.Log);
    }

    /// <summary>Alignment against transfer: hard error against H(target | pretraining) for every label set (median over seeds).</summary>
    public static GenericChart Alignment(FineToCoarseResults results, Readout readout = Readout.LinearProbe)
    {
        var points = FineToCoarse.Conditions(results).Where(c => c.Key.Readout == readout || c.Key.Readout == Readout.Baseline).ToList();
        var stats = points.Select(p => FineToCoarse.Stats(p.Rows.Select(r => 100 * r.HardError))).ToList();
        var chart = HouseStyle.WithIntervals(CSharpChart.Point<double, double, string>(
            points.Select(p => p.Rows.Average(r => r.AlignmentBits)),
            stats.Select(s => s.Median),
            Name: $"{FineToCoarse.ReadoutName(readout)} (median, min–max over seeds)",
            MultiText: points.Select(p => $"{p.Key.Level} ({p.Rows[0].PretrainingClasses})").ToArray(),
            MultiTextPosition: points.Select((_, i) => i % 2 == 0 ? StyleParam.TextPosition.TopRight : StyleParam.TextPosition.BottomLeft).ToArray()),
            stats.Select(s => s.Max - s.Median), stats.Select(s => s.Median - s.Min));
        return HouseStyle.Apply(chart, $"Alignment vs transfer ({FineToCoarse.ReadoutName(readout)}): 0 bits = nested in the target classes",
            "H(target | pretraining) (bits)", "median hard error (%)");
    }

    /// <summary>Saves every chart of the experiment with <see cref="FigureExport.Save"/>; returns the files.</summary>
    public static IReadOnlyList<FigureFiles> SaveAll(FineToCoarseResults results, string directory)
    {
        var readout = results.Config.Readouts.Contains(Readout.LinearProbe) ? Readout.LinearProbe : results.Config.Readouts[0];
        return
        [
            FigureExport.Save(UShape(results), directory, "synthetic-ushape"),
            FigureExport.Save(Conditions(results, "hard"), directory, "synthetic-conditions"),
            FigureExport.Save(Conditions(results, "easy"), directory, "synthetic-conditions-easy"),
            FigureExport.Save(Alignment(results, readout), directory, "synthetic-alignment"),
        ];
    }
}
