using Granularity.Plots;
using Xunit;

namespace Granularity.Tests.Plots;

/// <summary>The gallery page's table (notebook 07 shows it as Markdown): one column per header cell in every row.</summary>
public sealed class FigureGalleryTableTests
{
    [Fact]
    public void EveryRowOfTheGalleryTableHasAsManyCellsAsItsHeader()
    {
        var outcomes = FigureCatalog.All.Select(f => new FigureOutcome(f, null, null, "an error | with a pipe\nand a line break")).ToList();
        var report = FigureCatalog.Report(outcomes, new FigureContext("runs", Full: false));
        var table = report.Split('\n').SkipWhile(l => !l.StartsWith("| id ", StringComparison.Ordinal)).TakeWhile(l => l.StartsWith('|')).ToList();
        Assert.Equal(FigureCatalog.All.Count + 2, table.Count);
        int Cells(string row) => row.Trim().Trim('|').Split('|').Length;
        var header = Cells(table[0]);
        Assert.All(table, row => Assert.True(Cells(row) == header, $"{Cells(row)} cells, header {header}: {row}"));
        Assert.DoesNotContain("\\|", report);
        Assert.Contains("an error ∣ with a pipe and a line break", report);
    }
}
