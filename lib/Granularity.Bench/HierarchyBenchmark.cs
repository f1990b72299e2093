using System.Diagnostics;

using Granularity.Hierarchy;

namespace Granularity.Bench;

/// <summary>One benchmark figure: the median of several timed repetitions, next to its peer.</summary>
public sealed record BenchmarkFigure(string Task, double MedianMs, double MinMs, double MaxMs, int Repetitions, string Detail);

/// <summary>
/// The `hierarchy bench` workload: load each full hierarchy from the embedded artifacts and compute every level cut; label
/// a million images. Tasks run interleaved (A, B, A, B, …) so that machine noise hits them alike; medians are reported.
/// </summary>
public static class HierarchyBenchmark
{
    public static IReadOnlyList<BenchmarkFigure> Run(int repetitions = 7, int imageCount = 1_000_000, int seed = 0)
    {
        if (repetitions < 1) throw new ArgumentException($"repetitions must be ≥ 1, got {repetitions}", nameof(repetitions));
        var random = new Random(seed);
        var inatTree = Inat2021.Tree();
        var family = Inat2021.AtRank(inatTree, "family");
        var leafOfImage = new int[imageCount];
        for (int i = 0; i < imageCount; i++) leafOfImage[i] = random.Next(inatTree.LeafCount);
        var destination = new int[imageCount];

        var tasks = new (string Name, Func<string> Body)[]
        {
            ("ImageNet-21k: parse WordNet artifact + build tree (pointer order) + every cut", () =>
            {
                var wordnet = ReloadWordNet();
                var tree = ImageNetHierarchies.BuildUncached(ImageNetLabelSet.ImageNet21k, ParentRule.PointerOrder, wordnet);
                int cuts = AllCuts(tree);
                return $"{tree.LeafCount:N0} classes, {tree.NodeCount:N0} nodes, {cuts} cuts";
            }),
            ("ImageNet-21k: same, shortest-path rule", () =>
            {
                var tree = ImageNetHierarchies.BuildUncached(ImageNetLabelSet.ImageNet21k, ParentRule.ShortestPath, ReloadWordNet());
                return $"{tree.NodeCount:N0} nodes, {AllCuts(tree)} cuts";
            }),
            ("iNat2021: parse categories CSV + build tree + every cut + named levels", () =>
            {
                using var reader = HierarchyArtifacts.Open(HierarchyArtifacts.Inat2021Categories);
                var categories = Inat2021.ParseCategoriesCsv(reader, HierarchyArtifacts.Inat2021Categories);
                var tree = Inat2021.BuildTree(categories, "iNat2021 taxonomy");
                int cuts = AllCuts(tree) + Inat2021.NamedLevels(tree, categories).Count;
                return $"{tree.LeafCount:N0} classes, {tree.NodeCount:N0} nodes, {cuts} cuts";
            }),
            ($"label {imageCount:N0} images (species → family), LabelMap.LabelImages", () =>
            {
                family.LabelImages(leafOfImage, destination);
                return $"{family.ClassCount:N0} classes";
            }),
            ($"peer: label {imageCount:N0} images with LINQ Select(...).ToArray()", () =>
            {
                var map = family.LeafToLabel;
                var labels = leafOfImage.Select(l => map[l]).ToArray();
                return $"{labels.Length:N0} labels";
            }),
            ($"alignment H(supercategory | family) over {imageCount:N0} images", () =>
            {
                var target = Inat2021.Supercategories(Inat2021.CommittedCategories());
                var h = Alignment.ConditionalEntropy(family.LabelImages(leafOfImage), family.ClassCount, target.LabelImages(leafOfImage), target.ClassCount);
                return $"H = {h:0.####} bits";
            }),
        };
        var times = tasks.Select(_ => new List<double>()).ToArray();
        var details = new string[tasks.Length];
        foreach (var task in tasks) task.Body(); // warm-up: JIT and first-touch
        for (int r = 0; r < repetitions; r++)
            for (int t = 0; t < tasks.Length; t++)
            {
                var clock = Stopwatch.StartNew();
                details[t] = tasks[t].Body();
                times[t].Add(clock.Elapsed.TotalMilliseconds);
            }
        return tasks.Select((task, t) =>
        {
            return new BenchmarkFigure(task.Name, Core.Statistics.Median(times[t]), times[t].Min(), times[t].Max(), repetitions, details[t]);
        }).ToList();
    }

    private static WordNetIsA ReloadWordNet() => WordNetIsA.FromArtifacts(
        HierarchyArtifacts.Open(HierarchyArtifacts.WordNetIsA), HierarchyArtifacts.WordNetIsA,
        HierarchyArtifacts.Open(HierarchyArtifacts.WordNetLemmas), HierarchyArtifacts.WordNetLemmas);

    private static int AllCuts(LabelTree tree)
    {
        int cuts = 0;
        foreach (var kind in Enum.GetValues<CutKind>()) cuts += tree.CutAll(kind).Count;
        return cuts;
    }
}
