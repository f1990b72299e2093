using Granularity.Hierarchy;
using Microsoft.Data.Analysis;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;
using Plotly.NET.CSharp;

namespace Granularity.Plots;

/// <summary>Pictures of label hierarchies: classes per level, sunbursts and treemaps, and level tables.</summary>
public static class HierarchyCharts
{
    /// <summary>Bar chart of classes per level, one bar group per series (e.g. per parent rule); log y axis by default.</summary>
    public static GenericChart ClassesPerLevel(string title, IEnumerable<(string Series, IReadOnlyList<LevelSummary> Levels)> series, bool logScale = true)
    {
        var bars = series.Select(s => CSharpChart.Column<int, string, string>(
            s.Levels.Select(l => l.Classes), Keys: s.Levels.Select(l => l.Level).ToArray(), Name: s.Series,
            MultiText: s.Levels.Select(l => l.Classes.ToString("N0")).ToArray())).ToList();
        var chart = CSharpChart.Combine(bars)
            .WithXAxisStyle<string, string, string>(TitleText: "level")
            .WithYAxisStyle<double, double, string>(TitleText: "classes" + (logScale ? " (log scale)" : ""), AxisType: logScale ? StyleParam.AxisType.Log : StyleParam.AxisType.Linear);
        return Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
    }

    /// <summary>Classes per level of one source.</summary>
    public static GenericChart ClassesPerLevel(string title, IReadOnlyList<LevelSummary> levels, bool logScale = true) =>
        ClassesPerLevel(title, new[] { ("classes", levels) }, logScale);

    /// <summary>
    /// Sunburst of the tree down to <paramref name="maxDepth"/> (sector size: classes below, or images where given);
    /// <paramref name="visibleDepth"/> rings show at once, click to zoom. Limit maxDepth to keep HTML small (iNat2021: 5 = families).
    /// </summary>
    public static GenericChart Sunburst(LabelTree tree, int maxDepth, string title, int visibleDepth = 4, ReadOnlySpan<long> imagesPerLeaf = default)
    {
        var (ids, labels, parents, values) = Sectors(tree, maxDepth, imagesPerLeaf);
        var chart = CSharpChart.Sunburst<string, string, long, string, string>(
            labels, parents, Values: values, Ids: ids, BranchValues: StyleParam.BranchValues.Total, MaxDepth: visibleDepth);
        return Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
    }

    /// <summary>Treemap of the tree down to <paramref name="maxDepth"/>; see <see cref="Sunburst"/>.</summary>
    public static GenericChart Treemap(LabelTree tree, int maxDepth, string title, int visibleDepth = 3, ReadOnlySpan<long> imagesPerLeaf = default)
    {
        var (ids, labels, parents, values) = Sectors(tree, maxDepth, imagesPerLeaf);
        var chart = CSharpChart.Treemap<string, string, long, string, string>(
            labels, parents, Values: values, Ids: ids, BranchValues: StyleParam.BranchValues.Total, MaxDepth: visibleDepth);
        return Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
    }

    /// <summary>The nodes a sunburst or treemap draws: ids, short labels, parent ids ("" for the root) and sizes.</summary>
    public static (string[] Ids, string[] Labels, string[] Parents, long[] Values) Sectors(LabelTree tree, int maxDepth, ReadOnlySpan<long> imagesPerLeaf = default)
    {
        if (maxDepth < 0) throw new ArgumentException($"maxDepth must be ≥ 0, got {maxDepth}", nameof(maxDepth));
        if (!imagesPerLeaf.IsEmpty && imagesPerLeaf.Length != tree.LeafCount) throw new ArgumentException($"expected {tree.LeafCount} image counts", nameof(imagesPerLeaf));
        var size = new long[tree.NodeCount];
        var order = tree.BreadthFirstOrder();
        for (int k = order.Length - 1; k >= 0; k--)
        {
            var node = order[k];
            var leaf = tree.LeafOf(node);
            if (leaf >= 0) size[node] += imagesPerLeaf.IsEmpty ? 1 : imagesPerLeaf[leaf];
            if (tree.Parent(node) >= 0) size[tree.Parent(node)] += size[node];
        }
        var shown = order.Where(n => tree.Depth(n) <= maxDepth).ToArray();
        return (
            shown.Select(tree.Id).ToArray(),
            shown.Select(n => ShortTitle(tree, n)).ToArray(),
            shown.Select(n => tree.Parent(n) < 0 ? "" : tree.Id(tree.Parent(n))).ToArray(),
            shown.Select(n => size[n]).ToArray());
    }

    private static string ShortTitle(LabelTree tree, int node)
    {
        var title = tree.Title(node);
        var id = tree.Id(node);
        if (title.StartsWith(id + " ", StringComparison.Ordinal)) return title[(id.Length + 1)..];
        var slash = title.IndexOf('/');
        return slash > 0 && title == id ? title[(slash + 1)..] : title;
    }

    /// <summary>Level summaries as a DataFrame (image columns only when counts are known).</summary>
    public static DataFrame LevelTable(IReadOnlyList<LevelSummary> levels)
    {
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("level", levels.Select(l => l.Level)),
            new Int32DataFrameColumn("classes", levels.Select(l => l.Classes)),
            new Int32DataFrameColumn("min classes/label", levels.Select(l => l.MinLeavesPerClass)),
            new DoubleDataFrameColumn("median classes/label", levels.Select(l => l.MedianLeavesPerClass)),
            new Int32DataFrameColumn("max classes/label", levels.Select(l => l.MaxLeavesPerClass)),
        };
        if (levels.All(l => l.Images is not null))
        {
            columns.Add(new Int64DataFrameColumn("min images/label", levels.Select(l => l.MinImagesPerClass!.Value)));
            columns.Add(new DoubleDataFrameColumn("median images/label", levels.Select(l => l.MedianImagesPerClass!.Value)));
            columns.Add(new Int64DataFrameColumn("max images/label", levels.Select(l => l.MaxImagesPerClass!.Value)));
        }
        return new DataFrame(columns);
    }

    /// <summary>Class counts of several sources side by side: one row per level number, one column per source.</summary>
    public static DataFrame CompareLevels(CutKind kind, params (string Name, LabelTree Tree)[] sources)
    {
        int rows = sources.Max(s => s.Tree.Levels(kind).Count);
        var columns = new List<DataFrameColumn> { new Int32DataFrameColumn(kind switch { CutKind.Depth => "depth", CutKind.Height => "height", _ => "steps up" }, Enumerable.Range(0, rows)) };
        foreach (var (name, tree) in sources)
        {
            var counts = tree.CutAll(kind).Select(m => (int?)m.ClassCount).ToList();
            columns.Add(new Int32DataFrameColumn(name, Enumerable.Range(0, rows).Select(r => r < counts.Count ? counts[r] : null)));
        }
        return new DataFrame(columns);
    }

    /// <summary>H(target | labels) per labelling of the worked alignment measurement, as horizontal bars.</summary>
    public static GenericChart AlignmentBars(IReadOnlyList<AlignmentRow> rows, string title = "Alignment with the supercategory target (0 = aligned)")
    {
        var chart = CSharpChart.Bar<double, string, string>(rows.Select(r => r.ConditionalEntropyBits), Keys: rows.Select(r => $"{r.Labelling} ({r.Classes:N0})").ToArray())
            .WithXAxisStyle<double, double, string>(TitleText: "H(target | labels), bits");
        return Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
    }

    /// <summary>The worked alignment measurement as a table.</summary>
    public static DataFrame AlignmentTable(IReadOnlyList<AlignmentRow> rows) => new(
        new StringDataFrameColumn("labelling", rows.Select(r => r.Labelling)),
        new Int32DataFrameColumn("classes", rows.Select(r => r.Classes)),
        new DoubleDataFrameColumn("H(target | labels) bits", rows.Select(r => Math.Round(r.ConditionalEntropyBits, 4))),
        new DoubleDataFrameColumn("normalised", rows.Select(r => Math.Round(r.NormalizedConditionalEntropy, 3))),
        new BooleanDataFrameColumn("aligned", rows.Select(r => r.IsCoarsening)));

    /// <summary>The paper's level cuts next to ours.</summary>
    public static DataFrame PaperLevelTable(IReadOnlyList<PaperLevelRow> rows) => new(
        new StringDataFrameColumn("dataset", rows.Select(r => r.Dataset)),
        new StringDataFrameColumn("level", rows.Select(r => r.Level)),
        new StringDataFrameColumn("paper classes", rows.Select(r => r.PaperClasses)),
        new Int32DataFrameColumn("our classes", rows.Select(r => r.OurClasses)),
        new StringDataFrameColumn("our rule", rows.Select(r => r.OurRule)));
}
