using System.Globalization;
using Granularity.Training;
using Plotly.NET;
using Plotly.NET.CSharp;
using Chart = Plotly.NET.CSharp.Chart;

namespace Granularity.Plots;

/// <summary>
/// The paper's two real-data figures (iNat, ImageNet) from finished training run folders, with the paper's numbers as
/// reference traces. Generic over pretraining levels: every level found in the runs becomes a point.
/// </summary>
public static class PaperFigureCharts
{
    /// <summary>Paper claim 1: the best fine-to-coarse transfer on iNat2021 cuts the baseline's error by 8.76% (relative).</summary>
    public const double PaperInatRelativeReduction = 0.0876;

    /// <summary>Paper claim 3 (Table 1, [likely]): ImageNet-1k top-1 after ViT-B/16 pretraining; null class counts are not published.</summary>
    public static readonly IReadOnlyList<(string Labels, int? Classes, double Top1)> PaperImageNet =
    [
        ("ImageNet-21k leaves", 21_843, 82.51),
        ("coarser WordNet level", null, 81.28),
        ("coarser WordNet level", null, 80.26),
        ("granularity level 9", 38, 72.75),
    ];

    /// <summary>The paper's no-pretraining baseline (the ViT paper's ImageNet-1k-only number).</summary>
    public const double PaperImageNetBaselineTop1 = 77.91;

    /// <summary>
    /// iNat: target validation error against the number of pretraining classes (log x), one point per pretraining level
    /// (median over seeds, bars min–max), the baseline as a line, and the paper's 8.76% relative reduction applied to our baseline.
    /// </summary>
    public static GenericChart InatErrorVsClasses(IReadOnlyList<TrainingRunView> runs, string source)
    {
        var (points, baseline, split) = Points(runs, e => 100 * e.Top1Error);
        var traces = new List<GenericChart> { PointsTrace(points, "pretrain on a level, fine-tune on the target", "#1f77b4") };
        var xs = points.Select(p => (double)p.Classes).Append(baseline.Classes).ToArray();
        traces.Add(Flat(xs, baseline.Median, $"baseline (target labels only): {baseline.Median:0.00}%", "#d62728", StyleParam.DrawingStyle.Dash));
        traces.Add(Flat(xs, baseline.Median * (1 - PaperInatRelativeReduction), "paper's best: −8.76% relative error (on our baseline)", "#555555", StyleParam.DrawingStyle.Dot));
        return HouseStyle.Apply(Chart.Combine(traces).WithXAxisStyle<double, double, string>(TitleText: "pretraining classes (log scale)", AxisType: StyleParam.AxisType.Log).WithSize(950, 520),
            $"Target error vs pretraining granularity ({source}; {split} split)", null, $"target top-1 error on {split} (%)");
    }

    /// <summary>ImageNet: ImageNet-1k top-1 against the number of pretraining classes, ours beside the paper's Table 1.</summary>
    public static GenericChart ImageNetTop1VsClasses(IReadOnlyList<TrainingRunView> runs, string source)
    {
        var (points, baseline, split) = Points(runs, e => 100 * (1 - e.Top1Error));
        var known = PaperImageNet.Where(p => p.Classes is not null).ToList();
        var xs = points.Select(p => (double)p.Classes).Concat(known.Select(p => (double)p.Classes!.Value)).ToArray();
        var traces = new List<GenericChart>
        {
            PointsTrace(points, "ours: pretrain on a level, fine-tune on ImageNet-1k", "#1f77b4"),
            Chart.Point<double, double, string>(known.Select(p => (double)p.Classes!.Value).ToArray(), known.Select(p => p.Top1).ToArray(), Name: "paper (Table 1)",
                MarkerColor: Color.fromString("#555555"), MarkerSymbol: StyleParam.MarkerSymbol.Diamond,
                MultiText: known.Select(p => $"{p.Labels}: {p.Top1:0.00}").ToArray(), TextPosition: StyleParam.TextPosition.TopCenter),
            Flat(xs, baseline.Median, $"our baseline (ImageNet-1k only): {baseline.Median:0.00}%", "#d62728", StyleParam.DrawingStyle.Dash),
            Flat(xs, PaperImageNetBaselineTop1, $"paper's baseline: {PaperImageNetBaselineTop1:0.00}%", "#d62728", StyleParam.DrawingStyle.Dot),
        };
        foreach (var unknown in PaperImageNet.Where(p => p.Classes is null))
            traces.Add(Flat(xs, unknown.Top1, $"paper, {unknown.Labels} (class count not published): {unknown.Top1:0.00}%", "#999999", StyleParam.DrawingStyle.DashDot));
        return HouseStyle.Apply(Chart.Combine(traces).WithXAxisStyle<double, double, string>(TitleText: "pretraining classes (log scale)", AxisType: StyleParam.AxisType.Log).WithSize(950, 520),
            $"ImageNet-1k top-1 vs pretraining granularity ({source}; {split} split)", null, "ImageNet-1k top-1 accuracy (%)");
    }

    private sealed record LevelPoint(string Level, int Classes, double Median, double Min, double Max);

    private static (IReadOnlyList<LevelPoint> Points, LevelPoint Baseline, string Split) Points(IReadOnlyList<TrainingRunView> runs, Func<SplitEvaluation, double> value)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to plot", nameof(runs));
        var split = runs[0].Summary.Target[0].Split;
        var groups = runs.GroupBy(r => (r.Summary.PretrainingLevel, r.Summary.PretrainingClasses, r.Summary.IsBaseline)).Select(g =>
        {
            var values = g.Select(r => value(r.Summary.TargetSplit(split))).ToList();
            return (g.Key.IsBaseline, Point: new LevelPoint(g.Key.PretrainingLevel, g.Key.PretrainingClasses, SeedStatistics.Median(values), values.Min(), values.Max()));
        }).ToList();
        var baseline = groups.FirstOrDefault(g => g.IsBaseline).Point
            ?? throw new ArgumentException($"the runs hold no baseline (pretraining level = target level '{runs[0].Summary.TargetLevel}')", nameof(runs));
        return (groups.Where(g => !g.IsBaseline).Select(g => g.Point).OrderBy(p => p.Classes).ToList(), baseline, split);
    }

    private static GenericChart PointsTrace(IReadOnlyList<LevelPoint> points, string name, string color)
    {
        var chart = Chart.Point<double, double, string>(points.Select(p => (double)p.Classes).ToArray(), points.Select(p => p.Median).ToArray(), Name: name,
            MarkerColor: Color.fromString(color), MultiText: points.Select(p => p.Level).ToArray(), TextPosition: StyleParam.TextPosition.TopCenter);
        foreach (var trace in chart.GetTraces())
        {
            trace.SetProperty("mode", "markers+text");
            trace.SetProperty("error_y", new Dictionary<string, object>
            {
                ["type"] = "data", ["symmetric"] = false,
                ["array"] = points.Select(p => p.Max - p.Median).ToArray(), ["arrayminus"] = points.Select(p => p.Median - p.Min).ToArray(),
            });
        }
        return chart;
    }

    private static GenericChart Flat(double[] xs, double y, string name, string color, StyleParam.DrawingStyle dash)
    {
        double lo = xs.Length == 0 ? 1 : Math.Max(1, xs.Min() / 1.5), hi = xs.Length == 0 ? 10 : xs.Max() * 1.5;
        return Chart.Line<double, double, string>(new[] { lo, hi }, new[] { y, y }, Name: name, LineColor: Color.fromString(color), LineDash: dash);
    }

    internal static string Invariant(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}
