using Granularity.Hierarchy;
using Granularity.Plots;
using Xunit;

namespace Granularity.Tests.Hierarchy;

public class HierarchyChartTests
{
    [Fact]
    public void SectorsStopAtTheDepthLimitAndSizesAddUp()
    {
        var tree = LabelTreeTests.ToyTree();
        var (ids, labels, parents, values) = HierarchyCharts.Sectors(tree, 2, new long[] { 5, 7, 11 });
        Assert.Equal(new[] { "root", "animal", "plant", "dog", "cat", "tree" }, ids);
        Assert.Equal("", parents[0]);
        Assert.Equal("animal", parents[Array.IndexOf(ids, "cat")]);
        Assert.Equal(23, values[0]);
        Assert.Equal(12, values[Array.IndexOf(ids, "animal")]);
        Assert.Equal(labels.Length, values.Length);
    }

    [Fact]
    public void ChartsAndTablesDescribeTheRealTrees()
    {
        var inat = HierarchySources.Load("inat2021");
        var summaries = inat.Summaries(CutKind.Depth);
        var table = HierarchyCharts.LevelTable(summaries);
        Assert.Equal(summaries.Count, table.Rows.Count);
        Assert.Equal(1_103, table["classes"][Array.FindIndex(summaries.ToArray(), s => s.Level == "family")]);
        var html = Plotly.NET.GenericChart.toChartHTML(HierarchyCharts.Sunburst(inat.Tree, 5, "iNat2021"));
        Assert.Contains("Lumbricidae", html);
        Assert.DoesNotContain("Lumbricus terrestris", html);
        var bars = Plotly.NET.GenericChart.toChartHTML(HierarchyCharts.ClassesPerLevel("iNat2021", summaries));
        Assert.Contains("1,103", bars);
        var compare = HierarchyCharts.CompareLevels(CutKind.StepsUp,
            ("first", ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet21k, ParentRule.PointerOrder)),
            ("shortest", ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet21k, ParentRule.ShortestPath)));
        Assert.Equal(30, compare["first"][9]);
        Assert.Null(compare["shortest"][19]);
    }
}
