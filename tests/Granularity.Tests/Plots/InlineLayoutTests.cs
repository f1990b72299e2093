using System.Text.Json.Nodes;
using Granularity.Plots;
using Plotly.NET;
using Plotly.NET.CSharp;
using Xunit;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Granularity.Tests.Plots;

/// <summary>The inline layout rule of the house style: notebook charts fit the output column, exports keep the catalogue's size.</summary>
public sealed class InlineLayoutTests
{
    private static GenericChart Lines(int traces, string name = "arm", int width = 1300, int height = 440)
    {
        var charts = Enumerable.Range(0, traces).Select(i => CSharpChart.Line<double, double, string>(new[] { 1.0, 2, 3 }, new[] { i, i + 1.0, i + 2 }, Name: $"{name} {i}"));
        return CSharpChart.Combine(charts).WithSize(width, height);
    }

    private static JsonObject Layout(GenericChart chart) => JsonNode.Parse(GenericChart.toFigureJson(chart))!["layout"]!.AsObject();

    private static HouseStyle.InlineLayout Rule(GenericChart chart) => HouseStyle.InlineRule(JsonNode.Parse(GenericChart.toFigureJson(chart))!.AsObject());

    [Theory]
    [InlineData(1300, 440, 800, 420)]
    [InlineData(900, 900, 800, 800)]
    [InlineData(600, 400, 600, 400)]
    [InlineData(800, 2000, 800, 2000)]
    public void InlineSizeIsAtMostTheColumnWidthAndKeepsSquareFiguresSquare(int width, int height, int inlineWidth, int inlineHeight) =>
        Assert.Equal((inlineWidth, inlineHeight), HouseStyle.InlineSize(width, height));

    [Fact]
    public void ANonPositiveSizeIsRefusedWithTheSize()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => HouseStyle.InlineSize(0, 300));
        Assert.Contains("0 × 300", error.Message);
    }

    [Fact]
    public void EveryCatalogueFigureFitsTheColumnInline()
    {
        foreach (var figure in FigureCatalog.All)
        {
            var (width, height) = HouseStyle.InlineSize(figure.Width, figure.Height);
            Assert.True(width <= HouseStyle.InlineWidth && height >= 420, $"{figure.Id}: inline {width} × {height}");
        }
    }

    [Fact]
    public void AWideChartWithManyTracesIsShownAtColumnWidthWithItsLegendBelow()
    {
        var chart = Lines(7, width: 1300, height: 440);
        var inline = Layout(HouseStyle.ForInline(chart));
        Assert.True((int)inline["width"]! <= HouseStyle.InlineWidth, inline.ToJsonString());
        Assert.Equal("h", (string?)inline["legend"]!["orientation"]);
        Assert.Equal("container", (string?)inline["legend"]!["yref"]);
        Assert.True((int)inline["height"]! > 420, "the legend rows are added to the height, so the plot keeps its own");
        Assert.True((int?)inline["margin"]?["b"] >= 60 + 26, "the bottom margin holds the legend: " + inline.ToJsonString());
        // The chart itself is not changed: its export keeps the catalogue's size and its legend.
        var original = Layout(chart);
        Assert.Equal(1300, (int)original["width"]!);
        Assert.Null(original["legend"]);
    }

    [Fact]
    public void AChartThatNamesNoSizeIsShownAsItsDefaultExportScaledToTheColumn()
    {
        var unsized = CSharpChart.Line<double, double, string>(new[] { 1.0, 2 }, new[] { 1.0, 2 });
        var inline = Layout(HouseStyle.ForInline(unsized));
        Assert.Equal(HouseStyle.InlineSize(HouseStyle.DefaultExportSize.Width, HouseStyle.DefaultExportSize.Height), ((int)inline["width"]!, (int)inline["height"]!));
        Assert.Equal(HouseStyle.DefaultExportSize, FigureExport.SizeFor("no-such-figure"));
    }

    [Fact]
    public void CartesianAxesGetRoomForTheirLabelsAndASunburstGetsNoAxes()
    {
        var inline = Layout(HouseStyle.ForInline(Lines(5)));
        Assert.True((bool)inline["xaxis"]!["automargin"]! && (bool)inline["yaxis"]!["automargin"]!, inline.ToJsonString());
        var sunburst = CSharpChart.Sunburst<string, string, int, string, string>(new[] { "a", "b" }, new[] { "", "a" }, Values: new[] { 2, 1 });
        var rule = Rule(sunburst);
        Assert.Empty(rule.Axes);
        Assert.Null(Layout(HouseStyle.ForInline(sunburst))["xaxis"]);
    }

    [Fact]
    public void AFewShortLegendEntriesStayBesideThePlot()
    {
        var rule = Rule(Lines(3, width: 900, height: 480));
        Assert.False(rule.LegendBelow);
        Assert.Equal(0, rule.LegendRows);
        Assert.Null(rule.BottomMargin);
        Assert.Equal((800, 427), (rule.Width, rule.Height));
    }

    [Fact]
    public void OneLongLegendNameMovesTheLegendBelow()
    {
        var rule = Rule(Lines(2, "baseline (alphabet labels, 20 classes), median"));
        Assert.True(rule.LegendBelow);
        Assert.True(rule.LegendRows >= 1);
    }

    [Fact]
    public void ALongLegendBelowGetsAPlotAreaAtLeastAsTallAsItself()
    {
        // Notebook 01's scaling figure: 13 long entries and a three-line title on a 1000 × 520 export.
        var chart = HouseStyle.Apply(Lines(13, "fine → grouped_sgd, the verdict transfer (k = ⌈ln d⌉)", 1000, 520),
            "Hard-sample error vs d, k scaled with d (paper's rules: noise norm 1.5 at every d (σ = 1.5/√d); mean and 95% interval over 3 seeds; synthetic data model)");
        var rule = Rule(chart);
        Assert.True(rule.LegendBelow);
        Assert.Equal(13, rule.LegendRows);
        var plotHeight = rule.Height - rule.TopMargin - rule.BottomMargin!.Value;
        Assert.True(plotHeight >= rule.LegendRows * HouseStyle.LegendRowHeight, $"plot area {plotHeight} px for {rule.LegendRows} legend rows: plotly would scroll the legend");
        // A short legend below leaves the size alone beyond its rows.
        var few = Rule(Lines(5, "arm", 1000, 520));
        Assert.Equal(HouseStyle.InlineSize(1000, 520).Height + few.LegendRows * HouseStyle.LegendRowHeight, few.Height);
    }

    [Fact]
    public void HiddenLegendEntriesAndSunburstsDoNotCount()
    {
        var bands = HouseStyle.IntervalBand(new[] { 1.0, 2 }, [1, 1], [2, 2], "band", HouseStyle.Palette[0]);
        var rule = Rule(CSharpChart.Combine(bands.Concat([Lines(1)])).WithSize(900, 500));
        Assert.False(rule.LegendBelow, "the band's hidden lower edge is no legend entry");
    }

    [Fact]
    public void LongTitlesWrapAtWordBoundaries()
    {
        var title = "Omniglot small subsets (real images): alphabet error vs number of pretraining classes (LP-then-FT)";
        var wrapped = HouseStyle.WrapTitle(title);
        var lines = wrapped.Split("<br>");
        Assert.True(lines.Length >= 2, wrapped);
        Assert.All(lines, l => Assert.True(l.Length <= HouseStyle.TitleLineLength, $"'{l}' is {l.Length} characters"));
        Assert.Equal(title, string.Join(" ", lines));
        Assert.Equal("short title", HouseStyle.WrapTitle("short title"));
        Assert.Equal("a<br>b", HouseStyle.WrapTitle("a<br>b"));

        var inline = Layout(HouseStyle.ForInline(HouseStyle.Apply(Lines(2), title)));
        Assert.Equal(wrapped, (string?)inline["title"]!["text"]);
        Assert.True((int)inline["margin"]!["t"]! >= 40 + lines.Length * HouseStyle.FontSize, "the top margin holds every title line");
    }

    [Fact]
    public void TheStandInMarkGetsRoomBetweenTitleAndPlot()
    {
        var titled = HouseStyle.Apply(Lines(2), "iNat2021 stand-in: target error vs number of pretraining classes");
        var plain = Rule(titled);
        var marked = Rule(HouseStyle.MarkStandIn(titled, "generated stand-in in the iNat2021 format"));
        Assert.True(marked.TopMargin >= plain.TopMargin + 2 * (HouseStyle.FontSize + 2), $"{marked.TopMargin} vs {plain.TopMargin}");
    }

    [Fact]
    public void ANarrowedGridOfPanelsMakesRoomForTheSecondPanelsLabelsAndRecentresItsTitles()
    {
        var model = FigureCatalog.Find("theory-model").Build(new FigureContext("no-runs", Full: false));
        var rule = Rule(model);
        Assert.NotNull(rule.GridGap);
        var gap = rule.GridGap!.Value;
        var cell = 1 / (2 + gap);
        Assert.True(gap * cell * (rule.Width - 160) >= 0.55 * HouseStyle.FontSize * "patch 3: common".Length, $"gap {gap}: the labels of the second panel fit");
        Assert.Equal(2, rule.SubplotTitles!.Count);
        Assert.Equal(cell / 2, rule.SubplotTitles[0].X, 6);
        Assert.Equal(cell * (1 + gap) + cell / 2, rule.SubplotTitles[1].X, 6);
        Assert.Contains("<br>", rule.SubplotTitles[1].Text);
        var inline = Layout(HouseStyle.ForInline(model));
        Assert.Equal(gap, (double)inline["grid"]!["xgap"]!, 6);
        Assert.Equal(rule.SubplotTitles[1].Text, (string?)inline["annotations"]![1]!["text"]);
        // The chart kept for export is unchanged.
        Assert.DoesNotContain("<br>", (string?)Layout(model)["annotations"]![1]!["text"]);
        Assert.Null(Layout(model)["grid"]!["xgap"]);
    }

    [Fact]
    public void LogAxesOverADecadeAreTickedAtPowersOfTenOnly()
    {
        var wide = CSharpChart.Line<double, double, string>(new[] { 5.0, 50, 964 }, new[] { 1.0, 2, 3 }, Name: "classes")
            .WithXAxisStyle<double, double, string>(AxisType: StyleParam.AxisType.Log);
        var inline = Layout(HouseStyle.ForInline(wide));
        Assert.Equal(1, (int)inline["xaxis"]!["dtick"]!);
        Assert.Equal("log", (string?)inline["xaxis"]!["type"]);

        var narrow = CSharpChart.Line<double, double, string>(new[] { 20.0, 50, 150 }, new[] { 1.0, 2, 3 })
            .WithXAxisStyle<double, double, string>(AxisType: StyleParam.AxisType.Log);
        Assert.Null(Layout(HouseStyle.ForInline(narrow))["xaxis"]!["dtick"]);
    }

    [Fact]
    public void TheNotebookOutputUsesTheInlineLayout()
    {
        var html = Granularity.Notebook.InlineCharts.Html(Lines(7, width: 1300, height: 440));
        Assert.Contains("\"width\":800", html);
        Assert.Contains("\"orientation\":\"h\"", html);
        Assert.DoesNotContain("\"width\":1300", html);
    }
}
