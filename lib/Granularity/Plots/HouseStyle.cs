using Plotly.NET;
using Plotly.NET.CSharp;
using Plotly.NET.LayoutObjects;

namespace Granularity.Plots;

/// <summary>
/// The one look of every figure, applied identically to the notebook output and the exported HTML, SVG, PNG and PDF: a
/// white template, the Okabe–Ito colour-blind-safe palette, fonts sized to stay readable when a figure is printed at text
/// width, and titles with units. Stand-in figures carry a visible "pipeline check, not a result" mark.
/// </summary>
public static class HouseStyle
{
    /// <summary>Okabe &amp; Ito's eight colours (blue, vermillion, bluish green, reddish purple, orange, sky blue, black, yellow).</summary>
    public static IReadOnlyList<string> Palette { get; } = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

    /// <summary>Colour of the reference traces taken from the paper (grey, so ours stay the salient ones).</summary>
    public const string PaperColour = "#6E6E6E";

    /// <summary>Base font size in px: about 9 pt when a 900 px figure is printed 7 inches wide.</summary>
    public const int FontSize = 16;

    /// <summary>The text of the stand-in mark.</summary>
    public const string StandInMark = "pipeline check, not a result";

    private static Layout Style()
    {
        var font = new Font();
        font.SetProperty("family", "Arial, Helvetica, sans-serif");
        font.SetProperty("size", FontSize);
        font.SetProperty("color", "#222222");
        var layout = new Layout();
        layout.SetProperty("font", font);
        layout.SetProperty("colorway", Palette.ToArray());
        layout.SetProperty("paper_bgcolor", "#FFFFFF");
        layout.SetProperty("plot_bgcolor", "#FFFFFF");
        return layout;
    }

    /// <summary>Applies the house template; <paramref name="title"/> and axis titles (name them with units) when given.</summary>
    public static GenericChart Apply(GenericChart chart, string? title = null, string? xTitle = null, string? yTitle = null)
    {
        chart = Finish(chart);
        if (title is not null) chart = Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
        if (xTitle is not null) chart = chart.WithXAxisStyle<double, double, string>(TitleText: xTitle);
        if (yTitle is not null) chart = chart.WithYAxisStyle<double, double, string>(TitleText: yTitle);
        return chart;
    }

    /// <summary>The house template and palette, nothing else: what every display and export path applies (idempotent).</summary>
    public static GenericChart Finish(GenericChart chart) =>
        Plotly.NET.Chart.withLayout(Style()).Invoke(Plotly.NET.Chart.withTemplate(ChartTemplates.light).Invoke(chart));

    /// <summary>
    /// Asymmetric vertical bars on a trace: <paramref name="above"/> and <paramref name="below"/> are the distances from
    /// each point to the top and bottom of its interval (e.g. min–max over seeds), in the trace's units.
    /// </summary>
    public static GenericChart WithIntervals(GenericChart trace, IEnumerable<double> above, IEnumerable<double> below)
    {
        var error = new Plotly.NET.TraceObjects.Error();
        error.SetProperty("type", "data");
        error.SetProperty("symmetric", false);
        error.SetProperty("array", above.ToArray());
        error.SetProperty("arrayminus", below.ToArray());
        error.SetProperty("thickness", 1.5);
        error.SetProperty("width", 5);
        return Plotly.NET.Chart.withYError(error).Invoke(trace);
    }

    /// <summary>
    /// An interval as the house draws it, a shaded band: its lower edge, then its upper edge filled down to it (both with
    /// invisible lines; the upper one carries the legend entry <paramref name="name"/>) in a translucent <paramref name="colour"/>.
    /// </summary>
    public static IEnumerable<GenericChart> IntervalBand<TX>(TX[] x, double[] low, double[] high, string name, string colour) where TX : IConvertible
    {
        var none = Color.fromString("rgba(0,0,0,0)");
        yield return Plotly.NET.CSharp.Chart.Line<TX, double, string>(x, low, Name: name + " (low)", ShowLegend: false, LineColor: none);
        yield return Plotly.NET.CSharp.Chart.Line<TX, double, string>(x, high, Name: name, LineColor: none,
            Fill: StyleParam.Fill.ToNext_y, FillColor: Color.fromString(Translucent(colour)));
    }

    /// <summary>"#RRGGBB" as "rgba(r,g,b,alpha)".</summary>
    public static string Translucent(string hex, double alpha = 0.15)
    {
        var rgb = Convert.FromHexString(hex.TrimStart('#'));
        return FormattableString.Invariant($"rgba({rgb[0]},{rgb[1]},{rgb[2]},{alpha})");
    }

    /// <summary>
    /// Marks <paramref name="chart"/> as a stand-in figure: a boxed "pipeline check, not a result" label across the top
    /// of the plot, in the house vermillion.
    /// </summary>
    public static GenericChart MarkStandIn(GenericChart chart, string? detail = null)
    {
        var text = $"<b>{StandInMark.ToUpperInvariant()}</b>" + (detail is null ? "" : $"<br>{detail}");
        var font = new Font();
        font.SetProperty("size", FontSize + 2);
        font.SetProperty("color", "#D55E00");
        var mark = new Annotation();
        foreach (var (key, value) in new (string, object)[]
                 {
                     ("x", 0.5), ("xref", "paper"), ("y", 1.0), ("yref", "paper"), ("xanchor", "center"), ("yanchor", "bottom"),
                     ("showarrow", false), ("text", text), ("font", font), ("bordercolor", "#D55E00"), ("borderwidth", 2),
                     ("borderpad", 4), ("bgcolor", "#FFFFFF"),
                 })
            mark.SetProperty(key, value);
        return Plotly.NET.Chart.withAnnotations(new[] { mark }, FSharpOptionTrue).Invoke(chart);
    }

    private static readonly Microsoft.FSharp.Core.FSharpOption<bool> FSharpOptionTrue = Microsoft.FSharp.Core.FSharpOption<bool>.Some(true);
}
