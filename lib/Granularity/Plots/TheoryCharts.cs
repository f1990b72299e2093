using System.Globalization;
using Granularity.Theory;
using Microsoft.Data.Analysis;
using Plotly.NET;
using Plotly.NET.CSharp;
using TorchSharp;
using Chart = Plotly.NET.CSharp.Chart;

namespace Granularity.Plots;

/// <summary>Chart builders of the theory notebook; all but the data-model picture read finished run folders.</summary>
public static class TheoryCharts
{
    private const string CoarseColor = "#d62728";
    private const string FineColor = "#1f77b4";
    private const string RefitColor = "#2ca02c";
    private const string FineTunedColor = "#9467bd";
    private const string GroupedColor = "#8c564b";
    private const string GroupedSgdColor = "#000000";

    /// <summary>
    /// theory-model: one easy and one hard sample of the same subclass as heatmaps of the projections ⟨x_p, v⟩ of every
    /// patch (rows, labelled with what it carries) on every feature (columns): the hard sample's common column is empty.
    /// </summary>
    public static GenericChart DataModel(TheoryConfig config, int sampleSeed = 1)
    {
        using var data = new HierarchicalMultiViewData(config);
        using var generator = new torch.Generator((ulong)sampleSeed);
        using var easy = data.Sample(1, hardShare: 0, generator);
        using var easyLabel = easy.FineLabels.clone();
        // A hard sample of the same subclass: resample until the label matches (2k draws on average).
        MultiViewBatch hard = data.Sample(1, hardShare: 1, generator);
        while (hard.FineLabels.item<long>() != easyLabel.item<long>()) { hard.Dispose(); hard = data.Sample(1, hardShare: 1, generator); }
        using var _ = hard;
        var features = data.FeatureNames.Select(n => "⟨x, " + n + "⟩").ToArray();
        var limit = Math.Round(config.FeatureStrength + 3 * config.Sigma, 2);
        GenericChart Panel(MultiViewBatch sample, bool showScale)
        {
            var projections = data.PatchProjections(sample, 0);
            var roles = sample.PatchRoles.data<long>().ToArray();
            var rows = Enumerable.Range(0, config.Patches)
                .Select(p => Enumerable.Range(0, config.FeatureCount).Select(f => Math.Round(projections[p, f], 2)).ToArray()).ToArray();
            var labels = Enumerable.Range(0, config.Patches).Select(p => $"patch {p + 1}: {((PatchRole)roles[p]).ToString().ToLowerInvariant()}").ToArray();
            var heatmap = Chart.Heatmap<double, string, string, string>(
                zData: rows, X: features, Y: labels, ShowScale: showScale,
                ColorScale: StyleParam.Colorscale.NewCustom(new[] { Tuple.Create(0.0, Color.fromString("#2166ac")), Tuple.Create(0.5, Color.fromString("#f7f7f7")), Tuple.Create(1.0, Color.fromString("#b2182b")) }),
                ReverseYAxis: true);
            // One symmetric colour range for both panels, white at 0, so noise reads as pale and features as red.
            foreach (var trace in heatmap.GetTraces())
            {
                trace.SetProperty("zmin", -limit);
                trace.SetProperty("zmax", limit);
            }
            return heatmap;
        }
        var label = easyLabel.item<long>();
        var subclass = $"subclass ({label / config.SubclassesPerSuperclass}, {label % config.SubclassesPerSuperclass})";
        var chart = Chart.Grid(new[] { Panel(easy, false), Panel(hard, true) }, 1, 2,
            SubPlotTitles: new[] { $"easy sample of {subclass}", $"hard sample of {subclass} (no common feature)" });
        return Titled(chart.WithSize(1100, 420), $"The data model: projections of each patch on each feature (d={config.Dimension}, k={config.SubclassesPerSuperclass}, {config.NoiseLabel})");
    }

    /// <summary>
    /// theory-dynamics: alignment max_r ⟨w_{j,r}, v⟩ with the common and the fine features over training, for the coarse
    /// and the fine model (median over the runs given, usually the seeds of one configuration), beside hard-sample accuracy.
    /// </summary>
    public static GenericChart Dynamics(IReadOnlyList<TheoryRun> runs)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to plot", nameof(runs));
        var tables = runs.Select(r => r.Metrics).ToList();
        var steps = tables[0].Column("step");
        double[] Median(string column) => steps.Select((_, i) => SeedStatistics.Median(tables.Select(t => t.Column(column)[i]))).ToArray();
        GenericChart Line(string column, string name, string color, StyleParam.DrawingStyle dash) =>
            Chart.Line<double, double, string>(steps, Median(column), Name: name, LineColor: Color.fromString(color), LineDash: dash);
        var alignment = Chart.Combine(new[]
        {
            Line("coarse_common_alignment", "coarse model · common features", CoarseColor, StyleParam.DrawingStyle.Solid),
            Line("coarse_fine_alignment", "coarse model · fine features", CoarseColor, StyleParam.DrawingStyle.Dash),
            Line("fine_common_alignment", "fine model · common features", FineColor, StyleParam.DrawingStyle.Solid),
            Line("fine_fine_alignment", "fine model · fine features", FineColor, StyleParam.DrawingStyle.Dash),
        }).WithXAxisStyle<double, double, string>(TitleText: "SGD step").WithYAxisStyle<double, double, string>(TitleText: "alignment max_r ⟨w_j,r, v⟩");
        var accuracy = Chart.Combine(new[]
        {
            Line("coarse_hard_accuracy", "coarse model · hard test accuracy", CoarseColor, StyleParam.DrawingStyle.Dot),
            Line("fine_hard_accuracy", "fine model · hard test accuracy", FineColor, StyleParam.DrawingStyle.Dot),
        }).WithXAxisStyle<double, double, string>(TitleText: "SGD step").WithYAxisStyle<double, double, string>(TitleText: "superclass accuracy, hard samples", MinMax: Tuple.Create(0.4, 1.02));
        var config = runs[0].Config;
        var chart = Chart.Grid(new[] { alignment, accuracy }, 1, 2,
            SubPlotTitles: new[] { "alignment with the features", "accuracy on hard samples" });
        return Titled(chart.WithSize(1150, 460),
            $"Training dynamics, median of {runs.Count} seed{(runs.Count == 1 ? "" : "s")} (d={config.Dimension}, k={config.SubclassesPerSuperclass}, {config.NoiseLabel})");
    }

    /// <summary>theory-accuracy: superclass accuracy on easy and hard test samples of each model, one box per model and kind over seeds.</summary>
    public static GenericChart Accuracy(IReadOnlyList<TheoryRun> runs)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to plot", nameof(runs));
        GenericChart Box(string name, string color, Func<TheorySummary, double> easy, Func<TheorySummary, double> hard)
        {
            var x = runs.Select(_ => "easy samples").Concat(runs.Select(_ => "hard samples")).ToArray();
            var y = runs.Select(r => easy(r.Summary)).Concat(runs.Select(r => hard(r.Summary))).ToArray();
            return Chart.BoxPlot<string, double, string>(X: x, Y: y, Name: name, MarkerColor: Color.fromString(color), BoxPoints: StyleParam.BoxPoints.All);
        }
        var chart = Chart.Combine(new[]
        {
            Box("coarse-trained", CoarseColor, s => s.Coarse.EasyAccuracy, s => s.Coarse.HardAccuracy),
            Box("fine → max_subclass", FineColor, s => s.Fine!.EasyAccuracy, s => s.Fine!.HardAccuracy),
            Box("fine → grouped (no training)", GroupedColor, s => 1 - s.Transfer!.Grouped.EasyError, s => 1 - s.Transfer!.Grouped.HardError),
            Box("fine → grouped_sgd (Theorem 2's verdict transfer)", GroupedSgdColor, s => 1 - s.Transfer!.GroupedSgd.EasyError, s => 1 - s.Transfer!.GroupedSgd.HardError),
            Box("fine → linear_head on easy samples", RefitColor, s => 1 - s.Transfer!.LinearProbe.EasyError, s => 1 - s.Transfer!.LinearProbe.HardError),
            Box("fine → head_first_layer on easy samples", FineTunedColor, s => 1 - s.Transfer!.FineTuned.EasyError, s => 1 - s.Transfer!.FineTuned.HardError),
        }).WithYAxisStyle<double, double, string>(TitleText: "superclass test accuracy", MinMax: Tuple.Create(0.4, 1.03));
        var layout = new Layout();
        layout.SetProperty("boxmode", "group");
        chart = Plotly.NET.Chart.withLayout(layout).Invoke(chart);
        var config = runs[0].Config;
        return Titled(chart.WithSize(900, 480),
            $"Easy vs hard accuracy over {runs.Count} seeds (d={config.Dimension}, k={config.SubclassesPerSuperclass}, {config.NoiseLabel}; box: quartiles, whiskers: min–max)");
    }

    /// <summary>theory-hard-vs-k: hard-sample accuracy against k (rarer fine features), median with a min–max band over seeds.</summary>
    public static GenericChart HardAccuracyVsK(IReadOnlyList<TheoryRun> runs) =>
        Titled(AgainstAxis(runs, r => r.Config.SubclassesPerSuperclass, "k (subclasses per superclass; each fine feature in 1/(2k) of the samples)")
                .WithSize(900, 480),
            $"Hard-sample accuracy vs k (d={runs[0].Config.Dimension}, {runs[0].Config.NoiseLabel}; line: median, band: min–max over seeds)");

    /// <summary>theory-sweeps: hard-sample accuracy against noise σ, dimension d and the share of hard training samples.</summary>
    public static GenericChart Sweeps(IReadOnlyList<TheoryRun> runs, TheorySweep sweep)
    {
        var panels = new[]
        {
            AgainstAxis(TheorySweep.Along(runs, sweep.Base, SweepAxis.Noise), r => r.Config.EffectiveNoiseNorm, "noise norm √E‖ξ‖²", showLegend: true),
            AgainstAxis(TheorySweep.Along(runs, sweep.Base, SweepAxis.Dimension), r => r.Config.Dimension, "dimension d", showLegend: false),
            AgainstAxis(TheorySweep.Along(runs, sweep.Base, SweepAxis.HardShare), r => r.Config.HardShareInTraining, "share of hard samples in training", showLegend: false),
        };
        var chart = Chart.Grid(panels, 1, 3, SubPlotTitles: new[] { "noise", "dimension", "hard samples in training" });
        return Titled(chart.WithSize(1300, 440), $"Hard-sample accuracy around d={sweep.Base.Dimension}, k={sweep.Base.SubclassesPerSuperclass}, {sweep.Base.NoiseLabel}, no hard training samples");
    }

    private static GenericChart AgainstAxis(IReadOnlyList<TheoryRun> runs, Func<TheoryRun, double> axis, string axisTitle, bool showLegend = true)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs along this axis", nameof(runs));
        var groups = runs.GroupBy(axis).OrderBy(g => g.Key).ToList();
        var x = groups.Select(g => g.Key).ToArray();
        GenericChart Series(string name, string color, string band, Func<TheorySummary, double> value)
        {
            var values = groups.Select(g => g.Select(r => value(r.Summary)).ToArray()).ToArray();
            var none = Color.fromString("rgba(0,0,0,0)");
            // The min–max band: the lower edge, then the upper edge filled down to it, both without a legend entry.
            return Chart.Combine(new[]
            {
                Chart.Line<double, double, string>(x, values.Select(v => v.Min()).ToArray(), Name: name + " min", ShowLegend: false, LineColor: none),
                Chart.Line<double, double, string>(x, values.Select(v => v.Max()).ToArray(), Name: name + " max", ShowLegend: false, LineColor: none,
                    Fill: StyleParam.Fill.ToNext_y, FillColor: Color.fromString(band)),
                Chart.Line<double, double, string>(x, values.Select(v => SeedStatistics.Median(v)).ToArray(), Name: name, ShowMarkers: true, ShowLegend: showLegend,
                    LineColor: Color.fromString(color), MarkerColor: Color.fromString(color)),
            });
        }
        return Chart.Combine(new[]
        {
            Series("coarse-trained", CoarseColor, "rgba(214,39,40,0.18)", s => s.Coarse.HardAccuracy),
            Series("fine-trained, subclass → superclass", FineColor, "rgba(31,119,180,0.18)", s => s.Fine!.HardAccuracy),
            Series("fine → linear_head", RefitColor, "rgba(44,160,44,0.18)", s => 1 - s.Transfer!.LinearProbe.HardError),
            Series("fine → grouped_sgd", GroupedSgdColor, "rgba(0,0,0,0.12)", s => 1 - s.Transfer!.GroupedSgd.HardError),
        }).WithXAxisStyle<double, double, string>(TitleText: axisTitle)
          .WithYAxisStyle<double, double, string>(TitleText: showLegend ? "superclass accuracy, hard samples" : "", MinMax: Tuple.Create(0.4, 1.03));
    }

    private static GenericChart Titled(GenericChart chart, string title) => Plotly.NET.Chart.withTitle(title, null).Invoke(chart);

    private static string Invariant(double value, string format = "0.###") => value.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary>Median and "median (min–max)" over seeds.</summary>
public static class SeedStatistics
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>"0.69 (0.66–0.71)", or the single value when there is one.</summary>
    public static string Spread(IEnumerable<double> values, string format = "0.000")
    {
        var list = values.ToList();
        if (list.Count == 0) return "–";
        var median = Median(list).ToString(format, CultureInfo.InvariantCulture);
        return list.Count == 1 ? median
            : $"{median} ({list.Min().ToString(format, CultureInfo.InvariantCulture)}–{list.Max().ToString(format, CultureInfo.InvariantCulture)})";
    }
}
