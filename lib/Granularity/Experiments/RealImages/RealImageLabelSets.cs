using Granularity.Data;
using Granularity.Hierarchy;
using Granularity.Training;

namespace Granularity.Experiments;

/// <summary>The labels of one pretraining label set on the training images, and how it relates to the target.</summary>
public sealed record PretrainingLabels(string Name, ConditionGroup Group, int Classes, int[] TrainLabels, double AlignmentBits, int[] MajorityTarget);

/// <summary>
/// The pretraining label sets of the real-image experiment, as pure functions of the image set and a seed:
/// <list type="bullet">
/// <item><c>target</c> (the baseline), <c>leaf</c> (character / CIFAR class);</item>
/// <item><c>rand_nested</c>: random labels inside each target class, as many per target class as it has leaves;
/// <c>rand_across</c>: random labels over the whole set at the leaf count;</item>
/// <item><c>kmeans_within_M</c>: leaves grouped by k-means inside each target class, about M leaves per group (an
/// intermediate level); <c>kmeans_across_M</c>: k-means over all leaves at the same total count (not aligned);
/// the features are pixel prototypes (each leaf's mean normalised training image), which no network of the experiment learned;</item>
/// <item><c>drawing</c>: Omniglot's drawing number alone; <c>instance</c>: one label per training image (leaf × drawing).</item>
/// </list>
/// </summary>
public static class RealImageLabelSets
{
    public const string Target = "target";

    /// <summary>The condition group of a label-set name, or an error naming the known forms.</summary>
    public static ConditionGroup GroupOf(string name) => name switch
    {
        Target => ConditionGroup.Baseline,
        "leaf" => ConditionGroup.Hierarchy,
        "rand_nested" or "rand_across" => ConditionGroup.Random,
        "instance" => ConditionGroup.TooFine,
        "drawing" => ConditionGroup.Misaligned,
        _ when TryClusterSize(name, "kmeans_within_", out _) => ConditionGroup.Hierarchy,
        _ when TryClusterSize(name, "kmeans_across_", out _) => ConditionGroup.Clusters,
        _ => throw new ArgumentException($"unknown label set '{name}'; known: target, leaf, rand_nested, rand_across, kmeans_within_M, kmeans_across_M (M = leaves per group), drawing, instance"),
    };

    private static bool TryClusterSize(string name, string prefix, out int size)
    {
        size = 0;
        return name.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(name[prefix.Length..], out size) && size >= 1;
    }

    /// <summary>The labels of <paramref name="name"/> on <paramref name="set"/>'s training images; random and k-means sets follow <paramref name="seed"/>.</summary>
    public static PretrainingLabels Build(HierarchicalImageSet set, string name, int seed)
    {
        var group = GroupOf(name);
        var train = set.Train;
        var random = new Random(SeedMix.Combine(seed, name));
        int[] labels;
        int classes;
        switch (name)
        {
            case Target:
                labels = train.Select(i => set.Target[i]).ToArray(); classes = set.TargetClasses; break;
            case "leaf":
                labels = train.Select(i => set.Leaf[i]).ToArray(); classes = set.LeafClasses; break;
            case "rand_nested":
            {
                var leavesOf = LeavesPerTarget(set);
                var offset = new int[set.TargetClasses];
                for (int t = 1; t < offset.Length; t++) offset[t] = offset[t - 1] + leavesOf[t - 1];
                labels = train.Select(i => offset[set.Target[i]] + random.Next(leavesOf[set.Target[i]])).ToArray();
                classes = set.LeafClasses;
                break;
            }
            case "rand_across":
                labels = train.Select(_ => random.Next(set.LeafClasses)).ToArray(); classes = set.LeafClasses; break;
            case "drawing":
            {
                if (set.DrawingNumber is null) throw new ArgumentException($"{set.Name} has no drawing numbers: the 'drawing' label set is Omniglot's");
                var numbers = train.Select(i => set.DrawingNumber[i]).Distinct().Order().ToList();
                labels = train.Select(i => numbers.IndexOf(set.DrawingNumber[i])).ToArray();
                classes = numbers.Count;
                break;
            }
            case "instance":
                labels = Enumerable.Range(0, train.Length).ToArray(); classes = train.Length; break;
            default:
            {
                var within = name.StartsWith("kmeans_within_", StringComparison.Ordinal);
                TryClusterSize(name, within ? "kmeans_within_" : "kmeans_across_", out var perGroup);
                var groupOfLeaf = within ? WithinTargetGroups(set, perGroup, seed).GroupOfLeaf : AcrossGroups(set, WithinTargetGroups(set, perGroup, seed).Count, seed);
                labels = train.Select(i => groupOfLeaf[set.Leaf[i]]).ToArray();
                classes = groupOfLeaf.Max() + 1;
                break;
            }
        }
        var target = train.Select(i => set.Target[i]).ToArray();
        var report = Alignment.Measure(labels, classes, target, set.TargetClasses);
        return new PretrainingLabels(name, group, classes, labels, report.ConditionalEntropyBits, report.MajorityTarget);
    }

    private static int[] LeavesPerTarget(HierarchicalImageSet set)
    {
        var counts = new int[set.TargetClasses];
        foreach (var t in set.TargetOfLeaf) counts[t]++;
        return counts;
    }

    /// <summary>k-means of the leaf prototypes inside each target class into ⌈leaves/M⌉ groups; group ids are global.</summary>
    public static (int[] GroupOfLeaf, int Count) WithinTargetGroups(HierarchicalImageSet set, int leavesPerGroup, int seed)
    {
        var prototypes = set.LeafPrototypes();
        int dimension = set.PixelsPerImage;
        var groupOfLeaf = new int[set.LeafClasses];
        int next = 0;
        for (int t = 0; t < set.TargetClasses; t++)
        {
            var leaves = Enumerable.Range(0, set.LeafClasses).Where(l => set.TargetOfLeaf[l] == t).ToArray();
            if (leaves.Length == 0) continue;
            int k = Math.Max(1, (int)Math.Ceiling((double)leaves.Length / leavesPerGroup));
            var points = new float[leaves.Length * dimension];
            for (int j = 0; j < leaves.Length; j++) prototypes.AsSpan(leaves[j] * dimension, dimension).CopyTo(points.AsSpan(j * dimension, dimension));
            var fit = KMeans.Fit(points, dimension, k, SeedMix.Combine(seed, "kmeans-within", t));
            for (int j = 0; j < leaves.Length; j++) groupOfLeaf[leaves[j]] = next + fit.Assignments[j];
            next += k;
        }
        return (groupOfLeaf, next);
    }

    /// <summary>k-means of all leaf prototypes into <paramref name="count"/> groups, ignoring the target classes.</summary>
    public static int[] AcrossGroups(HierarchicalImageSet set, int count, int seed) =>
        KMeans.Fit(set.LeafPrototypes(), set.PixelsPerImage, count, SeedMix.Combine(seed, "kmeans-across")).Assignments;
}
