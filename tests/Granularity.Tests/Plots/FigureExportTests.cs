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
            return;
        }
        var png = File.ReadAllBytes(files.Png!);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.Contains("<svg", File.ReadAllText(files.Svg!));
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
