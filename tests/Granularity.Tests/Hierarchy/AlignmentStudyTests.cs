using Granularity.Hierarchy;
using Xunit;
using Xunit.Abstractions;

namespace Granularity.Tests.Hierarchy;

public class AlignmentStudyTests(ITestOutputHelper output)
{
    [Fact]
    public void QuickStudySeparatesAlignedFromMisalignedLabellings()
    {
        var rows = AlignmentStudy.Run(AlignmentStudyConfig.Quick()).ToDictionary(r => r.Labelling);
        foreach (var row in rows.Values) output.WriteLine(row.ToString());
        foreach (var rank in new[] { "class", "order", "family", "genus", "species" }) Assert.True(rows[$"taxonomy: {rank}"].IsCoarsening, rank);
        Assert.False(rows["taxonomy: kingdom"].IsCoarsening);
        Assert.True(rows["random within target"].IsCoarsening);
        Assert.True(rows["k-means within target"].IsCoarsening);
        Assert.True(rows["one label per image"].IsCoarsening);
        Assert.True(rows["random across dataset"].NormalizedConditionalEntropy > 0.8);
        // Synthetic features carry the taxonomy, so clusters across the dataset are far better aligned than random labels, yet not exactly.
        Assert.InRange(rows["k-means across dataset"].ConditionalEntropyBits, 1e-6, rows["random across dataset"].ConditionalEntropyBits * 0.75);
        Assert.Equal(273, rows["k-means across dataset"].Classes);
    }

    [Fact]
    public void PaperLevelRowsReportOurCounts()
    {
        var rows = PaperLevelCuts.Rows();
        Assert.Equal(273, rows.Single(r => r.Level == "order").OurClasses);
        Assert.Contains(rows, r => r.Level == "level 9" && r.OurClasses == 30);
        Assert.Throws<ArgumentException>(() => (AlignmentStudyConfig.Quick() with { ImagesPerSpecies = 0 }).Validate());
    }
}
