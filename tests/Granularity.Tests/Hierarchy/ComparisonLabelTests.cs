using Granularity.Hierarchy;
using Xunit;

namespace Granularity.Tests.Hierarchy;

public class ComparisonLabelTests
{
    private static int[] Targets(int images, int classes, int seed)
    {
        var random = new Random(seed);
        // Unequal class sizes, every class present.
        return Enumerable.Range(0, images).Select(i => i < classes ? i : (int)Math.Floor(Math.Pow(random.NextDouble(), 2) * classes)).ToArray();
    }

    [Fact]
    public void SubclassAllocationSumsToTheRequestAndRespectsBounds()
    {
        var sizes = new long[] { 1000, 10, 1, 0, 89 };
        var allocation = ComparisonLabels.AllocateSubclasses(sizes, 50);
        Assert.Equal(50, allocation.Sum());
        Assert.Equal(0, allocation[3]);
        Assert.Equal(1, allocation[2]);
        Assert.True(allocation[0] > allocation[4] && allocation[4] >= allocation[1]);
        Assert.All(allocation.Zip(sizes), pair => Assert.InRange(pair.First, pair.Second > 0 ? 1 : 0, pair.Second));
        Assert.Equal(new[] { 1000, 10, 1, 0, 89 }, ComparisonLabels.AllocateSubclasses(sizes, 1100));
        Assert.Contains("4..1100", Assert.Throws<ArgumentException>(() => ComparisonLabels.AllocateSubclasses(sizes, 3)).Message);
        Assert.Throws<ArgumentException>(() => ComparisonLabels.AllocateSubclasses(sizes, 1101));
    }

    [Fact]
    public void RandomLabelsWithinTargetCoarsenToTheTargetWithTheMatchedClassCount()
    {
        var targets = Targets(5000, 11, 1);
        var labels = ComparisonLabels.RandomWithinTarget(targets, 11, 273, seed: 4);
        Assert.Equal(273, labels.ClassCount);
        Assert.Equal(273, labels.Labels.Distinct().Count());
        Assert.Equal(0, Alignment.ConditionalEntropy(labels.Labels, labels.ClassCount, targets, 11));
        // Round-robin dealing: inside a target class, sub-class sizes differ by at most one.
        foreach (var group in targets.Select((t, i) => (t, l: labels.Labels[i])).GroupBy(x => x.t))
        {
            var sizes = group.GroupBy(x => x.l).Select(g => g.Count()).ToList();
            Assert.InRange(sizes.Max() - sizes.Min(), 0, 1);
        }
        Assert.Equal(labels.Labels, ComparisonLabels.RandomWithinTarget(targets, 11, 273, seed: 4).Labels);
        Assert.NotEqual(labels.Labels, ComparisonLabels.RandomWithinTarget(targets, 11, 273, seed: 5).Labels);
    }

    [Fact]
    public void RandomLabelsAcrossTheDatasetIgnoreTheTarget()
    {
        var targets = Targets(20_000, 11, 2);
        var labels = ComparisonLabels.RandomAcrossDataset(targets.Length, 273, seed: 0);
        Assert.Equal(273, labels.Labels.Distinct().Count());
        var report = Alignment.Measure(labels.Labels, 273, targets, 11);
        Assert.False(report.IsCoarsening);
        Assert.True(report.NormalizedConditionalEntropy > 0.8, $"normalized H = {report.NormalizedConditionalEntropy}");
    }

    [Fact]
    public void OneLabelPerImageIsTheIdentity()
    {
        var labels = ComparisonLabels.OnePerImage(5);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, labels.Labels);
        Assert.Equal(5, labels.ClassCount);
    }

    private static (float[] Points, int[] Truth) Blobs(int perBlob, int blobs, int dimension, int seed)
    {
        var random = new Random(seed);
        var points = new float[perBlob * blobs * dimension];
        var truth = new int[perBlob * blobs];
        for (int b = 0; b < blobs; b++)
            for (int j = 0; j < perBlob; j++)
            {
                int i = b * perBlob + j;
                truth[i] = b;
                for (int d = 0; d < dimension; d++) points[i * dimension + d] = (d == b ? 10f : 0f) + (float)(random.NextDouble() - 0.5);
            }
        return (points, truth);
    }

    [Fact]
    public void KMeansRecoversWellSeparatedBlobsAndIsSeeded()
    {
        var (points, truth) = Blobs(60, 5, 8, seed: 1);
        var fit = KMeans.Fit(points, 8, 5, seed: 3);
        Assert.Equal(5, fit.Assignments.Distinct().Count());
        // Each found cluster is exactly one blob: H(truth | cluster) = 0 and H(cluster | truth) = 0.
        Assert.Equal(0, Alignment.ConditionalEntropy(fit.Assignments, 5, truth, 5), 12);
        Assert.Equal(0, Alignment.ConditionalEntropy(truth, 5, fit.Assignments, 5), 12);
        Assert.Equal(fit.Assignments, KMeans.Fit(points, 8, 5, seed: 3).Assignments);
        Assert.True(fit.Inertia < 300 * 8 * 0.1, $"inertia {fit.Inertia}");
    }

    [Fact]
    public void KMeansKeepsEveryClusterNonEmptyEvenWithDuplicatePoints()
    {
        var points = new float[10 * 2]; // ten identical points
        var fit = KMeans.Fit(points, 2, 4, seed: 0);
        Assert.Equal(4, fit.Assignments.Distinct().Count());
        Assert.Throws<ArgumentException>(() => KMeans.Fit(points, 2, 11, seed: 0));
        Assert.Throws<ArgumentException>(() => KMeans.Fit(new float[5], 2, 1, seed: 0));
        Assert.Contains("non-finite", Assert.Throws<ArgumentException>(() => KMeans.Fit(new[] { 0f, float.NaN }, 2, 1, seed: 0)).Message);
    }

    [Fact]
    public void ClusterLabelsWithinTargetAreAlignedAndAcrossDatasetAreNot()
    {
        // Every blob is split half-and-half between the two target classes: clusters across the dataset find the blobs,
        // which say nothing about the target; clusters within each target find the blobs inside it.
        var (points, truth) = Blobs(40, 5, 6, seed: 2);
        var targets = truth.Select((_, i) => i % 2).ToArray();
        var within = ComparisonLabels.KMeansWithinTarget(points, 6, targets, 2, 10, seed: 1);
        Assert.Equal(10, within.Labels.Distinct().Count());
        Assert.Equal(0, Alignment.ConditionalEntropy(within.Labels, 10, targets, 2));
        Assert.Equal(0, Alignment.ConditionalEntropy(within.Labels, 10, truth, 5), 12);
        var across = ComparisonLabels.KMeansAcrossDataset(points, 6, 5, seed: 1);
        Assert.Equal(1.0, Alignment.ConditionalEntropy(across.Labels, 5, targets, 2), 6);
        Assert.Throws<ArgumentException>(() => ComparisonLabels.KMeansWithinTarget(points, 7, targets, 2, 5, seed: 1));
    }
}
