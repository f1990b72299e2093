using System.Diagnostics;
using System.Text.Json.Nodes;
using Granularity.Core;
using Granularity.Notebook;
using Granularity.Plots;
using Plotly.NET;
using Plotly.NET.CSharp;
using Xunit;
using Xunit.Abstractions;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Granularity.Tests.Notebook;

/// <summary>
/// The real-browser check (<see cref="BrowserCheck"/>): of the main job's executed notebooks (artifacts/notebooks, from
/// eng/run-notebooks.sh), and of a small notebook with known faults, which shows that each assertion can fail.
/// The notebook tests run the same check on each notebook they execute (<see cref="NotebookTests"/>).
/// </summary>
public sealed class NotebookBrowserTests(ITestOutputHelper output)
{
    /// <summary>Where the main job writes its executed notebooks (and this check its screenshots).</summary>
    public static string MainJobNotebooks => Path.Combine(ProjectPaths.ArtifactsRoot, "notebooks");

    [MainJobBrowserFact]
    [Trait("Category", "Browser")]
    public void TheMainJobsExecutedNotebooksReadWellInABrowser()
    {
        var notebooks = Directory.GetFiles(MainJobNotebooks, "*.ipynb").Order(StringComparer.Ordinal).ToList();
        using var html = new TempFolder("notebook-html");
        var clock = Stopwatch.StartNew();
        var reports = BrowserCheck.Check(notebooks, MainJobNotebooks, html.Path);
        foreach (var report in reports) output.WriteLine(Summary(report));
        output.WriteLine($"browser check of {reports.Count} notebooks: {clock.Elapsed.TotalSeconds:0.0} s");
        var problems = reports.SelectMany(r => r.Problems).ToList();
        Assert.True(problems.Count == 0, $"{problems.Count} problems a reader would see:\n" + string.Join("\n", problems));
    }

    [BrowserFact]
    [Trait("Category", "Browser")]
    public void TheCheckFindsEachKindOfFaultAndNothingInCleanOutputs()
    {
        using var folder = new TempFolder("browser-check");
        var wide = Plotly.NET.CSharp.Chart.Combine(Enumerable.Range(0, 8).Select(i =>
                CSharpChart.Line<double, double, string>(new[] { 1.0, 2, 3 }, new[] { i, i + 1.0, i + 2 }, Name: $"a rather long legend entry number {i}")))
            .WithSize(1300, 440);
        wide = HouseStyle.Apply(wide, "A title long enough that, centred on a wide chart, it runs past both edges of the chart it belongs to, which a reader sees clipped on both sides");
        var noReference = DisplayOptions.init(null, null, null, null, null, null, Microsoft.FSharp.Core.FSharpOption<PlotlyJSReference>.Some(PlotlyJSReference.NoReference));
        var wideHtml = InlineCharts.LibraryScript() + GenericChart.toChartHTML(GenericChart.addDisplayOptions(noReference, wide));
        var fitted = InlineCharts.Html(wide);
        var narrowedGrid = FigureCatalog.Find("theory-model").Build(new FigureContext(folder.Combine("runs"), Full: false)).WithSize(800, 420);
        var squeezed = Plotly.NET.CSharp.Chart.Combine(Enumerable.Range(0, 3).Select(i =>
            CSharpChart.Column<double, string, string>(new[] { 1.0, 2 }, Keys: new[] { "a", "b" }, Name: $"ImageNet-21k · a long legend entry, number {i}"))).WithSize(600, 600);
        const string table = "| a | b |\n|---|---|\n| 1 | 2 |\n";
        const string escaped = "| label | H(target \\| pretraining) | error |\n|---|---|---|\n| leaf | 0.0 | 12.5 |\n";
        var notebook = Executed(
            ("markdown", [], "# 99 · browser check"),
            ("code", [Display("text/html", wideHtml)], "wide"),
            ("code", [Stream(table)], "Console.WriteLine(table)"),
            ("code", [Display("text/markdown", escaped)], "escaped"),
            ("code", [Display("text/html", fitted)], "fitted"),
            ("code", [Display("text/markdown", table.Replace("| 1 | 2 |", "| 1 ∣ 3 | 2 |"))], "clean table"),
            ("code", [Display("text/html", "<div id=\"never\"></div><script>if (false) Plotly.newPlot('never', [], {});</script><img src=\"https://example.org/tracker.png\">")], "broken chart"),
            ("code", [Display("text/html", OverlappingAxisTitle)], "axis title over rotated tick labels"),
            ("code", [Display("text/html", GenericChart.toChartHTML(GenericChart.addDisplayOptions(noReference, squeezed)))], "a long legend beside a 600 px chart"),
            ("code", [Display("text/html", GenericChart.toChartHTML(GenericChart.addDisplayOptions(noReference, narrowedGrid)))], "theory-model's two panels at 800 px with plotly's gap"),
            ("code", [Display("text/html", CrowdedTicks)], "twenty y tick labels forced onto a short axis"),
            ("code", [Display("text/html", TwoPanels)], "two panels whose y tick labels sit at the same heights"));
        var path = Path.Combine(folder.Path, "99-browser-check.ipynb");
        File.WriteAllText(path, notebook.ToJsonString());

        var report = Assert.Single(BrowserCheck.Check([path], folder.Combine("screenshots"), folder.Combine("html")));
        foreach (var problem in report.Problems) output.WriteLine(problem.ToString());
        output.WriteLine(Summary(report));
        int[] Cells(string kind) => report.Problems.Where(p => p.Kind == kind).Select(p => p.Cell).Distinct().Order().ToArray();
        Assert.Equal([2], Cells("chart wider than the output column"));
        Assert.Equal([2], Cells("title outside the chart"));
        Assert.Equal([3], Cells("Markdown table printed as text"));
        Assert.Equal([4], Cells("Markdown table cells differ from its header"));
        Assert.Equal([7], Cells("chart not drawn"));
        Assert.Equal([8], Cells("axis title overlaps tick labels"));
        Assert.Equal([9], Cells("plot squeezed"));
        Assert.Equal([10], Cells("tick labels over a plot"));
        Assert.Equal([11], Cells("tick labels collide"));
        Assert.DoesNotContain(report.Problems, p => p.Cell == 12);       // labels of two panels at one height do not collide
        Assert.Contains(report.Problems, p => p.Kind == "chart not drawn" && p.Figure == "never" && p.CellId == "cell-7" && p.Notebook == "99-browser-check.ipynb");
        Assert.DoesNotContain(report.Problems, p => p.Cell is 5 or 6);   // the house's inline chart and a clean table
        Assert.Equal(8, report.Charts);
        Assert.True(report.RefusedRequests >= 1, "the image from the network is refused, not fetched");
        Assert.True(report.ColumnWidth is > 700 and < 1000, $"output column {report.ColumnWidth} px");
        Assert.True(new FileInfo(report.Screenshot).Length > 10_000, "a full-page screenshot is saved");
    }

    [BrowserFact]
    [Trait("Category", "Browser")]
    public void EveryCatalogueFigureThatBuildsWithoutRunsReadsWellInline()
    {
        // Read-only: figures whose runs are missing (an empty runs root) are left out; the rest draw from config or committed artifacts.
        using var folder = new TempFolder("browser-figures");
        var context = new FigureContext(folder.Combine("runs"), Full: false);
        var cells = new List<(string, JsonObject[], string)> { ("markdown", [], "# 99 · catalogue figures inline\n\nEach figure of the catalogue that needs no run folder, as a notebook shows it.") };
        var built = new List<string>();
        foreach (var figure in FigureCatalog.All)
        {
            GenericChart chart;
            try { chart = figure.Build(context); }
            catch (Exception error) when (error is Granularity.Runs.MissingRunsException or InvalidOperationException or IOException or KeyNotFoundException) { continue; }
            var html = InlineCharts.Html(chart);
            if (built.Count == 0 && !html.Contains(InlineCharts.LibraryMarker, StringComparison.Ordinal)) html = InlineCharts.LibraryScript() + html;
            cells.Add(("code", [Display("text/html", html)], figure.Id));
            built.Add(figure.Id);
        }
        // The stand-in mark of notebooks 04 and 05 (their figures need runs) on a titled chart with a long legend.
        var standIn = HouseStyle.MarkStandIn(HouseStyle.Apply(Plotly.NET.CSharp.Chart.Combine(Enumerable.Range(0, 5).Select(i =>
                CSharpChart.Line<double, double, string>(new[] { 10.0, 100, 1000 }, new[] { 30.0 - i, 25 - i, 27 - i }, Name: $"taxonomy level {i}, one label per image"))).WithSize(950, 520),
            "Target error vs number of pretraining classes (taxonomy, random, clusters), baseline, paper's 8.76%", "pretraining classes", "target error (%)"),
            "generated stand-in in the iNat2021 format");
        cells.Add(("code", [Display("text/html", InlineCharts.Html(standIn))], "stand-in mark"));
        built.Add("stand-in mark");
        output.WriteLine($"built without runs: {string.Join(", ", built)}");
        Assert.Contains("theory-model", built);
        Assert.Contains("hierarchy-imagenet-levels", built);
        var path = folder.Combine("99-catalogue-inline.ipynb");
        File.WriteAllText(path, Executed(cells.ToArray()).ToJsonString());
        var report = Assert.Single(BrowserCheck.Check([path], folder.Combine("screenshots"), folder.Combine("html")));
        output.WriteLine(Summary(report));
        Assert.Equal(built.Count, report.Charts);
        Assert.True(report.Problems.Count == 0, string.Join("\n", report.Problems.Select(p => $"{built[p.Cell - 2]}: {p}")));
    }

    /// <summary>
    /// Bars over 19 category labels that plotly rotates, with a fixed bottom margin, no automargin and a three-row legend
    /// at the bottom: the x-axis title lands on the rotated labels (what the inline layout did before it set automargin).
    /// </summary>
    private static string OverlappingAxisTitle
    {
        get
        {
            var x = new JsonArray(Enumerable.Range(0, 19).Select(i => (JsonNode)$"{i} up").ToArray());
            var data = new JsonArray(Enumerable.Range(0, 3).Select(t => (JsonNode)new JsonObject
            {
                ["type"] = "bar", ["name"] = $"ImageNet-{(t == 2 ? "1k" : "21k")} · {(t == 1 ? "shortest path" : "NLTK first hypernym")}", ["x"] = x.DeepClone(), ["y"] = new JsonArray(Enumerable.Range(0, 19).Select(i => (JsonNode)Math.Pow(10, 4 - i / 4.5 - t)).ToArray()),
            }).ToArray());
            var layout = new JsonObject
            {
                ["width"] = 800, ["height"] = 532, ["font"] = new JsonObject { ["size"] = 16 }, ["margin"] = new JsonObject { ["t"] = 64, ["b"] = 142 },
                ["xaxis"] = new JsonObject { ["title"] = new JsonObject { ["text"] = "level" } },
                ["yaxis"] = new JsonObject { ["type"] = "log", ["dtick"] = 1 },
                ["legend"] = new JsonObject { ["orientation"] = "h", ["x"] = 0, ["yref"] = "container", ["y"] = 0, ["yanchor"] = "bottom" },
            };
            return $"<div id=\"overlap\"></div><script>Plotly.newPlot('overlap', {data.ToJsonString()}, {layout.ToJsonString()});</script>";
        }
    }

    /// <summary>Twenty tick labels forced onto a 60 px y axis: they overlap each other.</summary>
    private static string CrowdedTicks
    {
        get
        {
            var ticks = new JsonArray(Enumerable.Range(0, 20).Select(i => (JsonNode)i).ToArray());
            var data = new JsonArray(new JsonObject { ["type"] = "scatter", ["x"] = new JsonArray(0, 1), ["y"] = new JsonArray(0, 19) });
            var layout = new JsonObject
            {
                ["width"] = 600, ["height"] = 160, ["font"] = new JsonObject { ["size"] = 16 },
                ["yaxis"] = new JsonObject { ["tickmode"] = "array", ["tickvals"] = ticks, ["automargin"] = true },
            };
            return $"<div id=\"crowded\"></div><script>Plotly.newPlot('crowded', {data.ToJsonString()}, {layout.ToJsonString()});</script>";
        }
    }

    /// <summary>A one-row grid of two panels with independent y axes: their tick labels share heights but not places.</summary>
    private static string TwoPanels
    {
        get
        {
            var data = new JsonArray(
                new JsonObject { ["type"] = "bar", ["x"] = new JsonArray("a", "b"), ["y"] = new JsonArray(0.2, 0.4) },
                new JsonObject { ["type"] = "bar", ["x"] = new JsonArray("a", "b"), ["y"] = new JsonArray(0.3, 0.1), ["xaxis"] = "x2", ["yaxis"] = "y2" });
            var layout = new JsonObject
            {
                ["width"] = 700, ["height"] = 380, ["showlegend"] = false,
                ["grid"] = new JsonObject { ["rows"] = 1, ["columns"] = 2, ["pattern"] = "independent" },
            };
            return $"<div id=\"panels\"></div><script>Plotly.newPlot('panels', {data.ToJsonString()}, {layout.ToJsonString()});</script>";
        }
    }

    internal static string Summary(BrowserReport report) =>
        $"{report.Notebook}: {report.Problems.Count} problems ({string.Join(", ", report.Problems.GroupBy(p => p.Kind).Select(g => $"{g.Count()} {g.Key}"))}), " +
        $"{report.Charts} charts, {report.Tables} Markdown tables, column {report.ColumnWidth:0} px, {report.RefusedRequests} network requests refused, " +
        $"{report.Duration.TotalSeconds:0.0} s, screenshot {report.Screenshot}";

    private static JsonObject Display(string mime, string text) => new()
    {
        ["output_type"] = "display_data", ["metadata"] = new JsonObject(), ["data"] = new JsonObject { [mime] = text },
    };

    private static JsonObject Stream(string text) => new() { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = text };

    private static JsonObject Executed(params (string Type, JsonObject[] Outputs, string Source)[] cells)
    {
        var array = new JsonArray();
        foreach (var (index, (type, outputs, source)) in cells.Index())
        {
            var cell = new JsonObject { ["cell_type"] = type, ["id"] = $"cell-{index + 1}", ["metadata"] = new JsonObject(), ["source"] = source };
            if (type == "code")
            {
                cell["execution_count"] = index;
                cell["outputs"] = new JsonArray(outputs.Select(o => (JsonNode)o).ToArray());
            }
            array.Add(cell);
        }
        return new JsonObject
        {
            ["cells"] = array, ["nbformat"] = 4, ["nbformat_minor"] = 5,
            ["metadata"] = new JsonObject { ["kernelspec"] = new JsonObject { ["name"] = ".net-csharp", ["display_name"] = ".NET (C#)", ["language"] = "C#" } },
        };
    }
}

/// <summary>A fact skipped, with the install command, where Chromium or nbconvert is missing.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (BrowserCheck.MissingTools() is { } missing) Skip = "browser check skipped: " + missing;
    }
}

/// <summary>A fact skipped, with the command to run, where the tools are missing or the main job has not executed any notebook.</summary>
public sealed class MainJobBrowserFactAttribute : FactAttribute
{
    public MainJobBrowserFactAttribute()
    {
        if (BrowserCheck.MissingTools() is { } missing) Skip = "browser check skipped: " + missing;
        else if (!Directory.Exists(NotebookBrowserTests.MainJobNotebooks) || Directory.GetFiles(NotebookBrowserTests.MainJobNotebooks, "*.ipynb").Length == 0)
            Skip = $"browser check skipped: no executed notebooks in {NotebookBrowserTests.MainJobNotebooks}: run eng/run-notebooks.sh (the main job) first";
    }
}
