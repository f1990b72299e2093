using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DynamicObj;
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

    /// <summary>Width in px of a chart shown inside a notebook: the output column of Jupyter and VS Code is about this wide.</summary>
    public const int InlineWidth = 800;

    /// <summary>The export size of a figure that names none (the figure catalogue gives the others theirs).</summary>
    public static (int Width, int Height) DefaultExportSize { get; } = (900, 540);

    /// <summary>An inline title longer than this many characters is wrapped at word boundaries (sooner on a narrower chart).</summary>
    public const int TitleLineLength = 60;

    /// <summary>More legend entries than this, or longer names, put the legend below the plot so the plot keeps the width.</summary>
    public const int SideLegendEntries = 4;

    /// <summary>Height (px) allowed per row of a legend below the plot; plotly draws a row in about 24.</summary>
    public const int LegendRowHeight = 26;

    /// <summary>Longest legend entry (characters) that still sits beside the plot.</summary>
    public const int SideLegendNameLength = 24;

    /// <summary>
    /// The size a figure of export size <paramref name="exportWidth"/> × <paramref name="exportHeight"/> gets inline: at most
    /// <see cref="InlineWidth"/> wide, and as tall as the width-scaled copy (square figures stay square) but at least 420 px
    /// (or the export's height, where that is less), so a wide figure keeps room for its plot. Exports keep their own
    /// size (<see cref="FigureExport.SizeFor"/>).
    /// </summary>
    public static (int Width, int Height) InlineSize(int exportWidth, int exportHeight)
    {
        if (exportWidth <= 0 || exportHeight <= 0)
            throw new ArgumentOutOfRangeException(nameof(exportWidth), $"a figure size must be positive (got {exportWidth} × {exportHeight})");
        var width = Math.Min(exportWidth, InlineWidth);
        var scaled = (int)Math.Round(exportHeight * (double)width / exportWidth);
        var height = Math.Max(scaled, Math.Min(exportHeight, 420));
        return (width, height);
    }

    /// <summary>How <see cref="ForInline"/> changes a figure's layout (a pure reading of its figure JSON; see <see cref="InlineRule"/>).</summary>
    /// <param name="Width">Layout width in px (≤ <see cref="InlineWidth"/>).</param>
    /// <param name="Height">Layout height in px, legend rows included.</param>
    /// <param name="LegendBelow">True when the legend is laid out horizontally below the plot.</param>
    /// <param name="LegendRows">Estimated rows of the legend below the plot (0 when it stays beside it).</param>
    /// <param name="Title">The title with &lt;br&gt; at word boundaries, or null when the figure has none.</param>
    /// <param name="TopMargin">Top margin in px, room for every title line and for annotations standing on the plot (the stand-in mark).</param>
    /// <param name="BottomMargin">Bottom margin in px (the axis title, and the legend when below), or null to keep plotly's.</param>
    /// <param name="PowerOfTenAxes">Log axes spanning a decade or more: ticks only at powers of ten, so labels cannot collide.</param>
    /// <param name="Axes">The cartesian axes the figure draws ("xaxis", "yaxis2", …): each gets room for its rotated tick
    /// labels and title (plotly's automargin), which a narrower chart needs.</param>
    /// <param name="GridGap">For a one-row grid of panels made narrower: the gap between panels (plotly's grid.xgap, a
    /// fraction of a panel's width) that holds the next panel's y tick labels, or null to keep plotly's.</param>
    /// <param name="SubplotTitles">With <paramref name="GridGap"/>: each panel title's annotation index, its new centre
    /// (paper x) and its text wrapped to the panel's width.</param>
    public sealed record InlineLayout(int Width, int Height, bool LegendBelow, int LegendRows, string? Title, int TopMargin, int? BottomMargin, IReadOnlyList<string> PowerOfTenAxes, IReadOnlyList<string> Axes,
        double? GridGap = null, IReadOnlyList<(int Index, double X, string Text)>? SubplotTitles = null);

    /// <summary>
    /// The inline layout of a figure given as Plotly figure JSON (<c>{"data": […], "layout": {…}}</c>): its size from
    /// <see cref="InlineSize"/> (the layout's width and height, else <see cref="DefaultExportSize"/>), the legend below the
    /// plot when it has more than <see cref="SideLegendEntries"/> entries or a name longer than <see cref="SideLegendNameLength"/>,
    /// the title wrapped (<see cref="WrapTitle"/>), and log axes over a decade or more ticked at powers of ten only.
    /// </summary>
    public static InlineLayout InlineRule(JsonObject figure)
    {
        var layout = figure["layout"] as JsonObject ?? new JsonObject();
        var traces = (figure["data"] as JsonArray ?? new JsonArray()).OfType<JsonObject>().ToList();
        int? Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? (int)Math.Round(d) : null;
        var exportWidth = Int(layout["width"]) ?? DefaultExportSize.Width;
        var exportHeight = Int(layout["height"]) ?? DefaultExportSize.Height;
        // Plotly.NET writes its own default (600 × 600) into charts that name no size; such a chart exports at the default.
        if (exportWidth == Defaults.DefaultWidth && exportHeight == Defaults.DefaultHeight) (exportWidth, exportHeight) = DefaultExportSize;
        var (width, height) = InlineSize(exportWidth, exportHeight);

        var legendNames = traces.Where(ShowsInLegend).Select(t => Plain((string?)t["name"] ?? "")).ToList();
        var legendBelow = legendNames.Count > 1 && (legendNames.Count > SideLegendEntries || legendNames.Any(n => n.Length > SideLegendNameLength));
        var rows = 0;
        if (legendBelow)
        {
            // Entries as plotly draws them: symbol and gaps (~50 px) plus the text (~0.65 em per character, erring wide:
            // a row too few pushes the legend off the chart, one too many only leaves a blank line).
            var rowWidth = 0.0;
            rows = 1;
            foreach (var name in legendNames)
            {
                var entry = 50 + 0.65 * FontSize * name.Length;
                if (rowWidth > 0 && rowWidth + entry > width - 120) { rows++; rowWidth = 0; }
                rowWidth += entry;
            }
        }
        var legendRowsHeight = rows * LegendRowHeight;
        height += legendRowsHeight;

        var titleText = layout["title"] switch
        {
            JsonObject title => (string?)title["text"],
            JsonValue value when value.TryGetValue<string>(out var text) => text,
            _ => null,
        };
        // About 12 px per character of the title (plotly draws it 1.2 × the base font): a narrower chart wraps sooner.
        var wrapped = titleText is null ? null : WrapTitle(titleText, Math.Min(TitleLineLength, (width - 40) / 12));
        var titleLines = wrapped is null ? 0 : wrapped.Split("<br>").Length;
        var topMargin = 40 + titleLines * (int)Math.Ceiling(FontSize * 1.45);
        var annotations = (layout["annotations"] as JsonArray ?? new JsonArray()).Select(a => a as JsonObject).ToList();
        var (gridGap, subplotTitles) = GridRule(layout, traces, annotations, exportWidth, width);
        // Annotations standing on top of the plot (the stand-in mark, panel titles) sit between the title and the plot: room for them too.
        var above = annotations.Select((a, i) => (a, i))
            .Where(p => p.a is not null && (string?)p.a["yref"] == "paper" && Number(p.a["y"]) >= 1 && (string?)p.a["yanchor"] == "bottom")
            .Select(p => subplotTitles?.FirstOrDefault(t => t.Index == p.i).Text ?? (string?)p.a!["text"] ?? "").ToList();
        if (above.Count > 0)
            topMargin += above.Max(text => text.Split("<br>").Length * (int)Math.Ceiling((FontSize + 2) * 1.3)) + 16;
        var xTitle = layout.Where(p => p.Key.StartsWith("xaxis", StringComparison.Ordinal)).Any(p => p.Value?["title"] is JsonNode t && !string.IsNullOrEmpty((string?)t["text"] ?? (t is JsonValue ? (string?)t : null)));
        int? bottomMargin = legendBelow ? (xTitle ? 90 : 60) + legendRowsHeight : null;
        if (bottomMargin is { } bottom)
        {
            // plotly.js 2.28 caps a legend anchored to the container (which plotly counts as neither above nor below the
            // plot area) at the plot area's height and scrolls the rest out of sight, exports included: so a long legend
            // gets a plot area as tall as itself and its padding.
            var plotHeight = height - topMargin - bottom;
            var legendHeight = legendRowsHeight + 20;
            if (plotHeight < legendHeight) height += legendHeight - plotHeight;
        }

        var powerOfTen = new List<string>();
        foreach (var (name, axis) in layout)
        {
            if (axis is not JsonObject axisObject || (string?)axisObject["type"] != "log") continue;
            var letter = name.StartsWith("xaxis", StringComparison.Ordinal) ? "x" : name.StartsWith("yaxis", StringComparison.Ordinal) ? "y" : null;
            if (letter is null) continue;
            var reference = letter + name[5..];   // "xaxis2" → "x2"
            var values = traces.Where(t => ((string?)t[letter + "axis"] ?? letter) == reference)
                .SelectMany(t => t[letter] as JsonArray ?? new JsonArray()).Select(Number).Where(v => v > 0).ToList();
            // From one decade up: plotly's "2 5" minor labels between the powers collide on a narrow chart.
            if (values.Count > 0 && Math.Log10(values.Max() / values.Min()) >= 1) powerOfTen.Add(name);
        }
        var axes = new SortedSet<string>(layout.Select(p => p.Key).Where(k => AxisName.IsMatch(k)), StringComparer.Ordinal);
        foreach (var trace in traces.Where(t => CartesianTypes.Contains((string?)t["type"] ?? "scatter")))
        {
            axes.Add("xaxis" + ((string?)trace["xaxis"] ?? "x")[1..]);
            axes.Add("yaxis" + ((string?)trace["yaxis"] ?? "y")[1..]);
        }
        return new InlineLayout(width, height, legendBelow, rows, wrapped, topMargin, bottomMargin, powerOfTen, axes.ToList(), gridGap, subplotTitles);
    }

    /// <summary>
    /// A one-row grid of N panels drawn narrower than its export: the gap g between panels (a fraction of a panel's
    /// width c = 1 / (N + (N − 1)·g)) is widened until it holds the widest y tick label of the panels after the first,
    /// and the panel titles (N annotations on top of the plot) are recentred over the panels and wrapped to their width.
    /// </summary>
    private static (double? Gap, IReadOnlyList<(int Index, double X, string Text)>? Titles) GridRule(
        JsonObject layout, IReadOnlyList<JsonObject> traces, IReadOnlyList<JsonObject?> annotations, int exportWidth, int width)
    {
        if (layout["grid"] is not JsonObject grid || width >= exportWidth) return (null, null);
        int? Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? (int)Math.Round(d) : null;
        if (Int(grid["rows"]) != 1 || Int(grid["columns"]) is not (>= 2 and var columns)) return (null, null);
        var longest = traces.Where(t => ((string?)t["yaxis"] ?? "y") != "y")
            .SelectMany(t => t["y"] as JsonArray ?? new JsonArray())
            .Select(v => v is JsonValue value && value.TryGetValue<string>(out var text) ? Plain(text).Length : 4).DefaultIfEmpty(4).Max();
        var plotWidth = width - 160.0;   // margins and a colour bar
        var share = (0.55 * FontSize * longest + 24) / plotWidth;   // the gap's share of the plot width
        if (share * (columns - 1) >= 0.8) return (null, null);      // no room for panels: leave plotly's layout
        var gap = Math.Clamp(share * columns / (1 - share * (columns - 1)), 0.2, 3.0);
        var cell = 1 / (columns + (columns - 1) * gap);
        var onTop = annotations.Select((a, i) => (a, i))
            .Where(p => p.a is not null && (string?)p.a["xref"] == "paper" && (string?)p.a["yref"] == "paper" && Number(p.a["y"]) >= 1 && (string?)p.a["yanchor"] == "bottom")
            .OrderBy(p => Number(p.a!["x"])).ToList();
        if (onTop.Count != columns) return (gap, []);
        var characters = Math.Max(16, (int)(cell * plotWidth / (0.55 * FontSize)));
        return (gap, onTop.Select((p, column) => (p.i, column * cell * (1 + gap) + cell / 2, WrapTitle((string?)p.a!["text"] ?? "", characters))).ToList());
    }

    /// <summary>Breaks <paramref name="title"/> with &lt;br&gt; at the last space before each <see cref="TitleLineLength"/> characters (existing breaks kept).</summary>
    public static string WrapTitle(string title, int lineLength = TitleLineLength)
    {
        var lines = new List<string>();
        foreach (var given in title.Split("<br>"))
        {
            var line = new StringBuilder();
            foreach (var word in given.Split(' '))
            {
                if (line.Length > 0 && Plain(line.ToString()).Length + 1 + Plain(word).Length > lineLength)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                }
                if (line.Length > 0) line.Append(' ');
                line.Append(word);
            }
            lines.Add(line.ToString());
        }
        return string.Join("<br>", lines);
    }

    /// <summary>
    /// The copy of <paramref name="chart"/> a notebook shows: the house style (<see cref="Finish"/>) with the layout of
    /// <see cref="InlineRule"/>. The chart itself is not changed, so exporting it afterwards gives the catalogue's picture.
    /// </summary>
    public static GenericChart ForInline(GenericChart chart)
    {
        chart = Finish(chart);
        var figure = JsonNode.Parse(GenericChart.toFigureJson(chart))!.AsObject();
        var rule = InlineRule(figure);
        var layout = new Layout();
        GenericChart.getLayout(chart).DeepCopyPropertiesTo(layout, null, null);
        layout.SetProperty("width", rule.Width);
        layout.SetProperty("height", rule.Height);
        layout.SetProperty("autosize", false);
        var margin = Child<Margin>(layout, "margin");
        margin.SetProperty("t", rule.TopMargin);
        if (rule.BottomMargin is { } bottom) margin.SetProperty("b", bottom);
        if (rule.Title is not null)
        {
            var title = Child<Title>(layout, "title");
            title.SetProperty("text", rule.Title);
            // At the top of the figure rather than centred in the top margin, so what stands on the plot stays clear of it.
            title.SetProperty("yref", "container");
            title.SetProperty("y", 1 - (12 + rule.Title.Split("<br>").Length * FontSize * 1.45 / 2) / rule.Height);
            title.SetProperty("yanchor", "middle");
        }
        if (rule.LegendBelow)
        {
            var legend = Child<Legend>(layout, "legend");
            foreach (var (key, value) in new (string, object)[] { ("orientation", "h"), ("x", 0.0), ("xanchor", "left"), ("yref", "container"), ("y", 0.0), ("yanchor", "bottom") })
                legend.SetProperty(key, value);
        }
        if (rule.GridGap is { } gap) Child<LayoutGrid>(layout, "grid").SetProperty("xgap", gap);
        if (rule.SubplotTitles is { Count: > 0 } titles && layout.TryGetPropertyValue("annotations") is { } given && given.Value is System.Collections.IEnumerable existing)
        {
            // Copies, so the chart the caller keeps (and exports) is not changed.
            var copies = existing.OfType<DynamicObj.DynamicObj>().Select((annotation, index) =>
            {
                var copy = new Annotation();
                annotation.DeepCopyPropertiesTo(copy, null, null);
                foreach (var title in titles.Where(t => t.Index == index))
                {
                    copy.SetProperty("x", title.X);
                    copy.SetProperty("text", title.Text);
                }
                return copy;
            }).ToArray();
            layout.SetProperty("annotations", copies);
        }
        foreach (var axis in rule.Axes) Child<LinearAxis>(layout, axis).SetProperty("automargin", true);
        foreach (var axis in rule.PowerOfTenAxes) Child<LinearAxis>(layout, axis).SetProperty("dtick", 1);
        return GenericChart.setLayout(layout, chart);
    }

    /// <summary>The nested layout object <paramref name="name"/> of <paramref name="layout"/>, created when absent.</summary>
    private static T Child<T>(DynamicObj.DynamicObj layout, string name) where T : DynamicObj.DynamicObj, new()
    {
        var existing = layout.TryGetPropertyValue(name);
        if (existing is { } some && some.Value is T typed) return typed;
        var created = new T();
        if (existing is { } other && other.Value is DynamicObj.DynamicObj dynamic) dynamic.DeepCopyPropertiesTo(created, null, null);
        layout.SetProperty(name, created);
        return created;
    }

    private static readonly System.Text.RegularExpressions.Regex AxisName = new("^[xy]axis[0-9]*$");

    /// <summary>Trace types drawn on x/y axes.</summary>
    private static readonly HashSet<string> CartesianTypes =
        ["scatter", "scattergl", "bar", "histogram", "box", "violin", "heatmap", "contour", "histogram2d", "histogram2dcontour", "funnel", "waterfall", "candlestick", "ohlc"];

    /// <summary>Trace types whose parts are not legend entries.</summary>
    private static readonly HashSet<string> NoLegendTypes = ["sunburst", "treemap", "icicle", "heatmap", "table", "indicator"];

    private static bool ShowsInLegend(JsonObject trace) =>
        !NoLegendTypes.Contains((string?)trace["type"] ?? "scatter")
        && (trace["showlegend"] is not JsonValue show || !show.TryGetValue<bool>(out var shown) || shown);

    private static double Number(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonValue v when v.TryGetValue<string>(out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => double.NaN,
    };

    /// <summary>Text as it is drawn: HTML tags (&lt;b&gt;, &lt;sub&gt;) take no room.</summary>
    private static string Plain(string text) => System.Text.RegularExpressions.Regex.Replace(text, "<[^>]+>", "");

    private static readonly Microsoft.FSharp.Core.FSharpOption<bool> FSharpOptionTrue = Microsoft.FSharp.Core.FSharpOption<bool>.Some(true);
}
