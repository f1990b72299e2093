using Granularity.Core;
using Plotly.NET;
using Granularity.Plots;
using Xunit;

namespace Granularity.Tests.Plots;

public sealed class FigureExportTests : IDisposable
{
    private readonly TempFolder folder = new("figures");
    public void Dispose() => folder.Dispose();

    [Fact]
    public void HtmlIsSelfContainedAndImagesAreWrittenWhereABrowserExists()
    {
        var chart = Plotly.NET.CSharp.Chart.Line<double, double, string>(new[] { 1.0, 2, 3 }, new[] { 2.0, 4, 8 }, Name: "doubling");
        var files = FigureExport.Save(chart, folder.Path, "test-figure", 400, 300);
        var html = File.ReadAllText(files.Html);
        Assert.DoesNotContain("src=\"https://cdn.plot.ly", html);
        Assert.Contains("doubling", html);
        Assert.True(html.Length > 1_000_000, $"expected plotly.js embedded (> 1 MB), got {html.Length} bytes");
        if (FigureExport.BrowserPath is null)
        {
            Assert.Null(files.Png);
            Assert.Null(files.Svg);
            Assert.Null(files.Pdf);
            return;
        }
        var png = File.ReadAllBytes(files.Png!);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        var svg = File.ReadAllText(files.Svg!);
        Assert.Contains("<svg", svg);
        Assert.Contains("rgb(0, 114, 178)", svg); // the first Okabe–Ito colour, as plotly writes it into SVG
        var pdf = File.ReadAllBytes(files.Pdf!);
        Assert.Equal("%PDF-"u8.ToArray(), pdf[..5]);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(System.Text.Encoding.Latin1.GetString(pdf), @"/Type\s*/Page[^s]"));
    }

    [Fact]
    public void EveryPathDrawsTheHouseStyle()
    {
        var chart = Plotly.NET.CSharp.Chart.Line<double, double, string>(new[] { 1.0, 2, 3 }, new[] { 2.0, 4, 8 }, Name: "doubling");
        var html = File.ReadAllText(FigureExport.Save(chart, folder.Path, "styled", 400, 300).Html);
        var inline = Granularity.Notebook.InlineCharts.Html(chart);
        foreach (var output in new[] { html, inline })
        {
            Assert.Contains(HouseStyle.Palette[0], output);
            Assert.Contains($"\"size\":{HouseStyle.FontSize}", output);
        }
        Assert.DoesNotMatch(@"<script[^>]*\ssrc\s*=", inline);
        Assert.DoesNotContain("require.config", inline);
    }

    [Fact]
    public void AStandInFigureCarriesTheMark()
    {
        var chart = HouseStyle.MarkStandIn(Plotly.NET.CSharp.Chart.Point<double, double, string>(new[] { 1.0 }, new[] { 1.0 }));
        Assert.Contains(HouseStyle.StandInMark.ToUpperInvariant(), Plotly.NET.GenericChart.toChartHTML(chart));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a/b")]
    public void FigureIdsMustBePlainFileNames(string id)
    {
        var chart = Plotly.NET.CSharp.Chart.Line<double, double, string>(new[] { 1.0 }, new[] { 1.0 });
        Assert.Throws<ArgumentException>(() => FigureExport.Save(chart, folder.Path, id));
    }
}

/// <summary>The browser's lifetime, alone: no other test may render while it counts.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrowserLifetimeCollection
{
    public const string Name = "Figure browser lifetime (serial)";
}

[Collection(BrowserLifetimeCollection.Name)]
public sealed class FigureBrowserLifetimeTests : IDisposable
{
    private readonly TempFolder folder = new("figures");
    public void Dispose() => folder.Dispose();

    [Fact]
    public void AFigureDrawnAgainFromTheSameDataIsCopiedNotRendered()
    {
        Assert.Equal(Path.Combine(Path.GetFullPath(ProjectPaths.FiguresRoot), ".render-cache"), FigureExport.CacheFolderFor(Path.Combine(ProjectPaths.FiguresRoot, "07-figures")));
        Assert.Null(FigureExport.CacheFolderFor(folder.Path));   // exports elsewhere (tests, --out) are not cached
        if (FigureExport.BrowserPath is null) return;
        FigureExport.CacheFolderOverride = folder.Combine("cache");
        try
        {
            GenericChart Chart(double last) => Plotly.NET.CSharp.Chart.Line<double, double, string>(new[] { 1.0, 2, 3 }, new[] { 2.0, 4, last });
            var first = FigureExport.Save(Chart(8.125), folder.Combine("a"), "figure", 320, 200);
            var renders = BrowserRenderer.Renders;
            var again = FigureExport.Save(Chart(8.125), folder.Combine("b"), "figure", 320, 200);
            Assert.Equal(renders, BrowserRenderer.Renders);
            foreach (var (a, b) in new[] { (first.Png!, again.Png!), (first.Svg!, again.Svg!), (first.Pdf!, again.Pdf!) })
                Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
            FigureExport.Save(Chart(9.5), folder.Combine("c"), "figure", 320, 200);
            Assert.Equal(renders + 1, BrowserRenderer.Renders);   // other data
            FigureExport.Save(Chart(8.125), folder.Combine("d"), "figure", 400, 200);
            Assert.Equal(renders + 2, BrowserRenderer.Renders);   // another size
            foreach (var png in Directory.GetFiles(folder.Combine("cache"), "*.png")) File.Delete(png);
            FigureExport.Save(Chart(8.125), folder.Combine("e"), "figure", 320, 200);
            Assert.Equal(renders + 3, BrowserRenderer.Renders);   // an incomplete entry is not used
        }
        finally
        {
            FigureExport.CacheFolderOverride = null;
        }
    }

    [Fact]
    public void OneBrowserServesConsecutiveFiguresAndClosesWhenIdle()
    {
        if (FigureExport.BrowserPath is null) return; // nothing to launch: HTML only (the other test checks that path)
        var previous = BrowserRenderer.IdleClose;
        BrowserRenderer.IdleClose = TimeSpan.FromSeconds(2);
        try
        {
            var chart = Plotly.NET.CSharp.Chart.Line<double, double, string>(new[] { 1.0, 2, 3 }, new[] { 2.0, 4, 8 });
            FigureExport.Save(chart, folder.Path, "first", 300, 200);
            int launches = BrowserRenderer.Launches; // the first figure may have found a browser still open from another test
            FigureExport.Save(chart, folder.Path, "second", 300, 200);
            Assert.Equal(launches, BrowserRenderer.Launches);
            Assert.True(BrowserRenderer.IsOpen);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (BrowserRenderer.IsOpen && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(100);
            Assert.False(BrowserRenderer.IsOpen, "the browser should close once idle");
            Assert.True(File.Exists(folder.Combine("second.pdf")));
        }
        finally
        {
            BrowserRenderer.IdleClose = previous;
        }
    }
}
