using Granularity.Experiments;
using Microsoft.Data.Analysis;
using Plotly.NET;
using Plotly.NET.CSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Granularity.Plots;

/// <summary>Figures and tables of the real-data experiments (notebooks 04 and 05), built from their result tables.</summary>
public static class RealDataCharts
{
    /// <summary>
    /// Figure "iNat": target (supercategory) validation error against the number of pretraining classes (log x), median
    /// over seeds with min–max bars — taxonomy levels as a line (labels alternate above and below so neighbours do not
    /// overlap), random labels, clusters within/across and one label per image as markers, the baseline as a dashed line
    /// and the paper's 8.76% relative reduction applied to our baseline as a dotted one. Only labellings with a finished run
    /// appear in the legend. <paramref name="standIn"/> adds the "pipeline check, not a result" mark.
    /// </summary>
    public static GenericChart InatErrorVsClasses(IReadOnlyList<Inat2021Row> table, bool standIn)
    {
        var done = table.Where(r => !double.IsNaN(r.MedianError) && r.Classes > 0).ToList();
        var traces = new List<GenericChart>();
        var taxonomy = done.Where(r => r.Kind == Inat2021Experiment.Taxonomy).OrderBy(r => r.Classes).ToList();
        if (taxonomy.Count > 0)
        {
            var positions = taxonomy.Select((_, i) => i % 2 == 0 ? StyleParam.TextPosition.TopCenter : StyleParam.TextPosition.BottomCenter).ToArray();
            traces.Add(WithSpread(CSharpChart.Line<int, double, string>(taxonomy.Select(r => r.Classes), taxonomy.Select(r => 100 * r.MedianError),
                Name: "taxonomy levels", ShowMarkers: true, MultiText: taxonomy.Select(r => r.Labelling).ToArray(), MultiTextPosition: positions), taxonomy));
        }
        var symbols = new[] { StyleParam.MarkerSymbol.Diamond, StyleParam.MarkerSymbol.Square, StyleParam.MarkerSymbol.TriangleUp, StyleParam.MarkerSymbol.Cross };
        var kinds = new[] { Inat2021Experiment.Random, Inat2021Experiment.ClustersWithin, Inat2021Experiment.ClustersAcross, Inat2021Experiment.OnePerImage };
        for (int k = 0; k < kinds.Length; k++)
        {
            var rows = done.Where(r => r.Kind == kinds[k]).ToList();
            if (rows.Count == 0) continue;
            traces.Add(WithSpread(CSharpChart.Point<int, double, string>(rows.Select(r => r.Classes), rows.Select(r => 100 * r.MedianError), Name: kinds[k],
                MarkerSymbol: symbols[k], MultiText: rows.Select(r => r.Labelling).ToArray()), rows));
        }
        var baseline = done.FirstOrDefault(r => r.Kind == Inat2021Experiment.Baseline);
        if (baseline is not null)
        {
            var xs = done.Select(r => r.Classes).Append(baseline.Classes).ToList();
            var span = new[] { xs.Min(), xs.Max() };
            traces.Add(CSharpChart.Line<int, double, string>(span, new[] { 100 * baseline.MedianError, 100 * baseline.MedianError },
                Name: $"baseline (supercategory labels, {baseline.MedianError:P1})", LineDash: StyleParam.DrawingStyle.Dash, LineColor: Color.fromHex("#000000")));
            var paperTarget = baseline.MedianError * (1 - Inat2021Experiment.PaperRelativeImprovement);
            traces.Add(CSharpChart.Line<int, double, string>(span, new[] { 100 * paperTarget, 100 * paperTarget },
                Name: $"paper's 8.76% reduction applied to our baseline ({paperTarget:P1})", LineDash: StyleParam.DrawingStyle.Dot, LineColor: Color.fromHex(HouseStyle.PaperColour)));
        }
        var chart = CSharpChart.Combine(traces).WithXAxisStyle<double, double, string>(TitleText: "pretraining classes (log scale)", AxisType: StyleParam.AxisType.Log);
        chart = HouseStyle.Apply(chart, "iNat2021: supercategory validation error vs pretraining granularity" + (standIn ? " (stand-in data)" : ""),
            yTitle: "target validation top-1 error (%)");
        return standIn ? HouseStyle.MarkStandIn(chart, "generated stand-in in the iNat2021 format") : chart;
    }

    /// <summary>Min–max bars over seeds around each median (in percent); no bars where a labelling has one seed.</summary>
    private static GenericChart WithSpread(GenericChart trace, IReadOnlyList<Inat2021Row> rows) =>
        rows.All(r => r.Errors.Count < 2) ? trace
        : HouseStyle.WithIntervals(trace, rows.Select(r => 100 * (r.MaxError - r.MedianError)), rows.Select(r => 100 * (r.MedianError - r.MinError)));

    /// <summary>
    /// Figure "ImageNet": ImageNet-1k top-1 against the number of pretraining classes (log x), median over seeds with
    /// min–max bars. With real runs, the paper's Table 1 shares the axis (points where it publishes class counts, dotted
    /// lines where it does not, dashed baselines). With <paramref name="standIn"/> numbers the paper is left off: a
    /// saturated stand-in on the paper's 72–83% axis would read as a result; the figure carries the stand-in mark and
    /// the paper's values stay in the table next to it.
    /// </summary>
    public static GenericChart ImageNetTop1VsClasses(IReadOnlyList<ImageNetRow> ours, IReadOnlyList<PaperImageNetRow> paper, bool standIn)
    {
        var traces = new List<GenericChart>();
        var pretrained = ours.Where(r => !r.IsBaseline && !double.IsNaN(r.MedianTop1) && r.Classes > 0).OrderBy(r => r.Classes).ToList();
        var known = standIn ? [] : paper.Where(p => !p.IsBaseline && p.Classes is not null).OrderBy(p => p.Classes).ToList();
        var xs = pretrained.Select(r => r.Classes).Concat(known.Select(p => p.Classes!.Value)).DefaultIfEmpty(1).ToList();
        int low = xs.Min(), high = xs.Max();
        if (pretrained.Count > 0)
        {
            var line = CSharpChart.Line<int, double, string>(pretrained.Select(r => r.Classes), pretrained.Select(r => r.MedianTop1), Name: standIn ? "ours (stand-in)" : "ours",
                ShowMarkers: true, MultiText: pretrained.Select(r => r.PretrainingLevel).ToArray(),
                MultiTextPosition: pretrained.Select((_, i) => i % 2 == 0 ? StyleParam.TextPosition.TopCenter : StyleParam.TextPosition.BottomCenter).ToArray());
            if (pretrained.Any(r => r.Top1.Count > 1))
                line = HouseStyle.WithIntervals(line, pretrained.Select(r => r.Top1.Max() - r.MedianTop1), pretrained.Select(r => r.MedianTop1 - r.Top1.Min()));
            traces.Add(line);
        }
        if (!standIn)
        {
            if (known.Count > 0)
                traces.Add(CSharpChart.Point<int, double, string>(known.Select(p => p.Classes!.Value), known.Select(p => p.Top1), Name: "paper (Table 1)",
                    MultiText: known.Select(p => p.Pretraining).ToArray(), MarkerColor: Color.fromHex(HouseStyle.PaperColour), MarkerSymbol: StyleParam.MarkerSymbol.Diamond));
            foreach (var p in paper.Where(p => !p.IsBaseline && p.Classes is null))
                traces.Add(CSharpChart.Line<int, double, string>(new[] { low, high }, new[] { p.Top1, p.Top1 }, Name: $"paper: {p.Pretraining} {p.Top1:0.00}",
                    LineDash: StyleParam.DrawingStyle.Dot, LineColor: Color.fromHex(HouseStyle.PaperColour)));
            foreach (var p in paper.Where(p => p.IsBaseline))
                traces.Add(CSharpChart.Line<int, double, string>(new[] { low, high }, new[] { p.Top1, p.Top1 }, Name: $"paper baseline {p.Top1:0.00}",
                    LineDash: StyleParam.DrawingStyle.Dash, LineColor: Color.fromHex(HouseStyle.PaperColour)));
        }
        foreach (var r in ours.Where(r => r.IsBaseline && !double.IsNaN(r.MedianTop1)))
            traces.Add(CSharpChart.Line<int, double, string>(new[] { low, high }, new[] { r.MedianTop1, r.MedianTop1 }, Name: $"our baseline{(standIn ? " (stand-in)" : "")} {r.MedianTop1:0.00}",
                LineDash: StyleParam.DrawingStyle.Dash, LineColor: Color.fromHex("#000000")));
        var chart = CSharpChart.Combine(traces).WithXAxisStyle<double, double, string>(TitleText: "pretraining classes (log scale)", AxisType: StyleParam.AxisType.Log);
        chart = HouseStyle.Apply(chart, "ImageNet-1k top-1 vs ImageNet-21k pretraining granularity" + (standIn ? " (stand-in data; the paper's Table 1 is in the table, not on this axis)" : ""),
            yTitle: standIn ? "stand-in target top-1 accuracy (%)" : "ImageNet-1k top-1 accuracy (%)");
        return standIn ? HouseStyle.MarkStandIn(chart, "generated stand-in; saturated, not comparable with the paper's 72–83%") : chart;
    }

    /// <summary>The iNat2021 results table for display: one row per labelling with error, range and relative improvement.</summary>
    public static DataFrame InatTable(IReadOnlyList<Inat2021Row> table) => new(
        new StringDataFrameColumn("kind", table.Select(r => r.Kind)),
        new StringDataFrameColumn("pretraining labels", table.Select(r => r.Labelling)),
        new PrimitiveDataFrameColumn<int>("classes", table.Select(r => r.Classes)),
        new StringDataFrameColumn("val error (median)", table.Select(r => double.IsNaN(r.MedianError) ? "not run" : r.MedianError.ToString("P2"))),
        new StringDataFrameColumn("range over seeds", table.Select(r => r.Errors.Count > 1 ? $"{r.MinError:P1} – {r.MaxError:P1}" : $"{r.Errors.Count} seed")),
        new StringDataFrameColumn("relative improvement", table.Select(r => r.RelativeImprovement is { } v ? v.ToString("+0.00%;−0.00%") : "")));

    /// <summary>A claim / paper / ours / expected table.</summary>
    public static DataFrame ComparisonTable(IReadOnlyList<PaperComparisonRow> rows) => new(
        new StringDataFrameColumn("claim", rows.Select(r => r.Claim)),
        new StringDataFrameColumn("paper", rows.Select(r => r.Paper)),
        new StringDataFrameColumn("ours", rows.Select(r => r.Ours)),
        new StringDataFrameColumn("expected", rows.Select(r => r.Expected)));

    /// <summary>Our ImageNet rows next to the paper's Table 1.</summary>
    public static DataFrame ImageNetTable(IReadOnlyList<ImageNetRow> ours, IReadOnlyList<PaperImageNetRow> paper, bool standIn) => new(
        new StringDataFrameColumn("source", ours.Select(_ => standIn ? "ours (stand-in)" : "ours").Concat(paper.Select(_ => "paper"))),
        new StringDataFrameColumn("pretraining", ours.Select(r => r.IsBaseline ? "none (ImageNet-1k only)" : r.PretrainingLevel).Concat(paper.Select(p => p.Pretraining))),
        new StringDataFrameColumn("classes", ours.Select(r => r.Classes.ToString("N0")).Concat(paper.Select(p => p.Classes?.ToString("N0") ?? "?"))),
        new StringDataFrameColumn("IN-1k top-1 (%)", ours.Select(r => double.IsNaN(r.MedianTop1) ? "not run" : r.MedianTop1.ToString("0.00")).Concat(paper.Select(p => p.Top1.ToString("0.00")))));

    /// <summary>Level rules and their class counts.</summary>
    public static DataFrame LevelRuleTable(IReadOnlyList<ImageNetLevelRow> rows) => new(
        new StringDataFrameColumn("rule", rows.Select(r => r.Rule)),
        new StringDataFrameColumn("level", rows.Select(r => r.Level)),
        new PrimitiveDataFrameColumn<int>("classes", rows.Select(r => r.Classes)),
        new StringDataFrameColumn("note", rows.Select(r => r.Note)));
}
