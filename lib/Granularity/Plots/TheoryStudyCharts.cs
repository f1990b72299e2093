using Granularity.Core;
using Granularity.Theory;
using Plotly.NET;
using Plotly.NET.CSharp;
using Chart = Plotly.NET.CSharp.Chart;

namespace Granularity.Plots;

/// <summary>Charts of the theory study (issue 11), each built from a <see cref="TheoryStudyResult"/> only; bands are 95% bootstrap intervals over seeds.</summary>
public static class TheoryStudyCharts
{
    private const string CoarseColor = "#d62728";
    private const string FineColor = "#1f77b4";
    private const string ProbeColor = "#2ca02c";
    private const string FineTunedColor = "#9467bd";
    private const string GroupedSgdColor = "#000000";
    private const string GroupedColor = "#8c564b";
    private const string Data = "synthetic data model";

    /// <summary>theory-scaling: hard error against d (log axis) for both k series: coarse model vs the fine model's transfers, chance drawn.</summary>
    public static GenericChart Scaling(TheoryStudyResult result)
    {
        var traces = new List<GenericChart>();
        foreach (var (series, dash) in new[] { ("k = ⌊d^0.4⌋", StyleParam.DrawingStyle.Solid), ("k = ⌈ln d⌉", StyleParam.DrawingStyle.Dash) })
        {
            var points = result.Scaling.Where(p => p.Series == series).OrderBy(p => p.Dimension).ToList();
            if (points.Count == 0) continue;
            var x = points.Select(p => (double)p.Dimension).ToArray();
            traces.AddRange(Band(x, points.Select(p => p.Coarse.Interval).ToArray(), $"coarse-trained ({series})", CoarseColor, dash));
            traces.AddRange(Band(x, points.Select(p => p.GroupedSgd.Interval).ToArray(), $"fine → grouped_sgd, the verdict transfer ({series})", GroupedSgdColor, dash));
            traces.AddRange(Band(x, points.Select(p => p.Grouped.Interval).ToArray(), $"fine → grouped, no training ({series})", GroupedColor, dash));
            traces.AddRange(Band(x, points.Select(p => p.LinearProbe.Interval).ToArray(), $"fine → linear head ({series})", ProbeColor, dash));
            traces.AddRange(Band(x, points.Select(p => p.FineTuned.Interval).ToArray(), $"fine → head + first layer ({series})", FineTunedColor, dash));
            traces.AddRange(Band(x, points.Select(p => p.Readout.Interval).ToArray(), $"fine, max-subclass readout ({series})", FineColor, dash));
        }
        var dimensions = result.Scaling.Select(p => (double)p.Dimension).ToArray();
        traces.Add(Chance(dimensions.Min(), dimensions.Max()));
        var chart = Chart.Combine(traces).WithXAxisStyle<double, double, string>(AxisType: StyleParam.AxisType.Log);
        return HouseStyle.Apply(chart.WithSize(1000, 520),
            $"Hard-sample error vs d, k scaled with d ({result.Config.Regime}; mean and 95% interval over {result.Config.Seeds.Count} seeds; {Data})",
            "d (log scale)", "superclass error on hard test samples");
    }

    /// <summary>
    /// theory-regimes: the coarse model's and the verdict transfer's (grouped_sgd) hard error against d, k = ⌊d^0.4⌋,
    /// under the paper's rules (noise norm fixed) beside the robustness study outside them (σ fixed, norm ∝ √d).
    /// </summary>
    public static GenericChart Regimes(TheoryStudyResult inside, TheoryStudyResult outside)
    {
        if (!inside.Config.InsideAssumptions || outside.Config.InsideAssumptions)
            throw new ArgumentException($"the first study must follow the paper's noise rule and the second a fixed σ; got '{inside.Config.Name}' and '{outside.Config.Name}'", nameof(inside));
        var traces = new List<GenericChart>();
        foreach (var (result, label, dash) in new[] { (inside, "paper's rules", StyleParam.DrawingStyle.Solid), (outside, "fixed σ, outside the assumptions", StyleParam.DrawingStyle.Dash) })
        {
            var points = result.Scaling.Where(p => p.Series == "k = ⌊d^0.4⌋").OrderBy(p => p.Dimension).ToList();
            var x = points.Select(p => (double)p.Dimension).ToArray();
            traces.AddRange(Band(x, points.Select(p => p.Coarse.Interval).ToArray(), $"coarse-trained ({label})", CoarseColor, dash));
            traces.AddRange(Band(x, points.Select(p => p.GroupedSgd.Interval).ToArray(), $"fine → grouped_sgd ({label})", GroupedSgdColor, dash));
        }
        var dimensions = inside.Scaling.Concat(outside.Scaling).Select(p => (double)p.Dimension).ToArray();
        traces.Add(Chance(dimensions.Min(), dimensions.Max()));
        var chart = Chart.Combine(traces).WithXAxisStyle<double, double, string>(AxisType: StyleParam.AxisType.Log);
        return HouseStyle.Apply(chart.WithSize(1000, 520),
            $"Hard-sample error vs d (k = ⌊d^0.4⌋): noise norm {inside.Config.Base.NoiseNorm} at every d vs σ = {outside.Config.Base.NoiseStd} per coordinate ({Data})",
            "d (log scale)", "superclass error on hard test samples");
    }

    /// <summary>theory-length: the coarse model's hard error and fine-feature alignment against training steps (log axis).</summary>
    public static GenericChart Length(TheoryStudyResult result)
    {
        var x = result.Length.Select(p => (double)p.Steps).ToArray();
        var error = Chart.Combine(Band(x, result.Length.Select(p => p.HardError.Interval).ToArray(), "coarse model · hard error", CoarseColor, StyleParam.DrawingStyle.Solid)
            .Append(Chance(x.Min(), x.Max())))
            .WithXAxisStyle<double, double, string>(TitleText: "SGD steps (log scale)", AxisType: StyleParam.AxisType.Log)
            .WithYAxisStyle<double, double, string>(TitleText: "superclass error, hard samples");
        var alignment = Chart.Combine(Band(x, result.Length.Select(p => p.FineAlignment.Interval).ToArray(), "coarse model · fine-feature alignment", FineColor, StyleParam.DrawingStyle.Dash))
            .WithXAxisStyle<double, double, string>(TitleText: "SGD steps (log scale)", AxisType: StyleParam.AxisType.Log)
            .WithYAxisStyle<double, double, string>(TitleText: "mean max_r ⟨w_y,r, v_y,c⟩");
        var b = result.Config.Base;
        var chart = Chart.Grid(new[] { error, alignment }, 1, 2, SubPlotTitles: new[] { "hard-sample error", "alignment with the fine features" });
        return HouseStyle.Apply(chart.WithSize(1150, 460),
            $"Coarse training for {string.Join(", ", result.Length.Select(p => $"{p.Multiple:0}×"))} the base {b.Steps} steps (d={b.Dimension}, k={b.SubclassesPerSuperclass}, {b.NoiseLabel}; {Data})");
    }

    /// <summary>theory-capacity: hard error of the standard and the width-matched coarse model beside the fine model's linear probe.</summary>
    public static GenericChart Capacity(TheoryStudyResult result)
    {
        var c = result.Capacity;
        var b = result.Config.Base;
        var names = new[] { $"coarse, m={b.NeuronsPerOutput} per output ({2 * b.NeuronsPerOutput} filters)", $"coarse, m·k per output ({c.CoarseFilters} filters)", $"fine → grouped_sgd ({c.FineFilters} filters)" };
        var values = new[] { c.Standard, c.WidthMatched, c.FineTransfer };
        var colors = new[] { CoarseColor, "#ff7f0e", ProbeColor };
        var bars = names.Select((name, i) => Bar(name, values[i].Interval, colors[i]));
        return HouseStyle.Apply(Chart.Combine(bars).WithSize(900, 480),
            $"Capacity control at d={b.Dimension}, k={b.SubclassesPerSuperclass} (mean and 95% interval over {values[0].Values.Count} seeds; {Data})",
            null, "superclass error on hard test samples");
    }

    /// <summary>theory-samples: hard error against the number of training samples per subclass (log axis), coarse vs fine transfers.</summary>
    public static GenericChart Samples(TheoryStudyResult result)
    {
        var x = result.Samples.Select(p => (double)p.PerSubclass).ToArray();
        var traces = new List<GenericChart>();
        traces.AddRange(Band(x, result.Samples.Select(p => p.Coarse.Interval).ToArray(), "coarse-trained", CoarseColor, StyleParam.DrawingStyle.Solid));
        traces.AddRange(Band(x, result.Samples.Select(p => p.GroupedSgd.Interval).ToArray(), "fine → grouped_sgd (the verdict transfer)", GroupedSgdColor, StyleParam.DrawingStyle.Solid));
        traces.AddRange(Band(x, result.Samples.Select(p => p.LinearProbe.Interval).ToArray(), "fine → linear head", ProbeColor, StyleParam.DrawingStyle.Solid));
        traces.AddRange(Band(x, result.Samples.Select(p => p.FineTuned.Interval).ToArray(), "fine → head + first layer", FineTunedColor, StyleParam.DrawingStyle.Dash));
        traces.Add(Chance(x.Min(), x.Max()));
        var b = result.Config.Base;
        var chart = Chart.Combine(traces).WithXAxisStyle<double, double, string>(AxisType: StyleParam.AxisType.Log);
        return HouseStyle.Apply(chart.WithSize(1000, 500),
            $"Finite training sets: n samples per subclass, the same {2 * b.SubclassesPerSuperclass}·n samples for both models (d={b.Dimension}, k={b.SubclassesPerSuperclass}, {b.NoiseLabel}; {Data})",
            "training samples per subclass n (log scale)", "superclass error on hard test samples");
    }

    private static IEnumerable<GenericChart> Band(double[] x, Estimate[] estimates, string name, string color, StyleParam.DrawingStyle dash)
    {
        var none = Color.fromString("rgba(0,0,0,0)");
        var fill = Color.fromString(Translucent(color));
        yield return Chart.Line<double, double, string>(x, estimates.Select(e => e.Low).ToArray(), Name: name + " (low)", ShowLegend: false, LineColor: none);
        yield return Chart.Line<double, double, string>(x, estimates.Select(e => e.High).ToArray(), Name: name + " (high)", ShowLegend: false, LineColor: none,
            Fill: StyleParam.Fill.ToNext_y, FillColor: fill);
        yield return Chart.Line<double, double, string>(x, estimates.Select(e => e.Value).ToArray(), Name: name, ShowMarkers: true,
            LineColor: Color.fromString(color), MarkerColor: Color.fromString(color), LineDash: dash);
    }

    private static GenericChart Bar(string name, Estimate estimate, string color) => Chart.Combine(new[]
    {
        Chart.Column<double, string, string>(new[] { estimate.Value }, new[] { name }, Name: name, MarkerColor: Color.fromString(Translucent(color, 0.6))),
        Chart.Line<string, double, string>(new[] { name, name }, new[] { estimate.Low, estimate.High }, Name: name + " 95% interval", ShowLegend: false,
            ShowMarkers: true, LineColor: Color.fromString(color), MarkerColor: Color.fromString(color)),
    });

    private static GenericChart Chance(double from, double to) =>
        Chart.Line<double, double, string>(new[] { from, to }, new[] { 0.5, 0.5 }, Name: "chance (0.5)", LineColor: Color.fromString("#7f7f7f"), LineDash: StyleParam.DrawingStyle.Dot);

    private static string Translucent(string hex, double alpha = 0.15)
    {
        var rgb = Convert.FromHexString(hex.TrimStart('#'));
        return FormattableString.Invariant($"rgba({rgb[0]},{rgb[1]},{rgb[2]},{alpha})");
    }
}
