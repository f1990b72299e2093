using Granularity.Hierarchy;
using Xunit;

namespace Granularity.Tests.Hierarchy;

public class LabelMapAndAlignmentTests
{
    [Fact]
    public void LabelMapsLabelImagesAndCountPerClass()
    {
        var tree = LabelTreeTests.ToyTree();
        var kingdoms = tree.Cut(GranularityLevel.Depth(1));
        Assert.Equal(new[] { 0, 0, 1 }, kingdoms.LeafToLabel);
        Assert.Equal(new[] { 0, 1, 1, 0, 0 }, kingdoms.LabelImages(new[] { 0, 2, 2, 1, 0 }));
        Assert.Equal(new[] { 2, 1 }, kingdoms.LeavesPerClass());
        Assert.Equal(new long[] { 30, 5 }, kingdoms.ImagesPerClass(new long[] { 10, 20, 5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => kingdoms.LabelImages(new[] { 3 }));
        Assert.Equal(1, kingdoms.ClassIndex("plant"));
        Assert.Throws<ArgumentException>(() => kingdoms.ClassIndex("fungus"));
    }

    [Fact]
    public void CoarseningMapsGoFromPretrainingToTargetAndRefuseMisalignedPairs()
    {
        var tree = LabelTreeTests.ToyTree();
        var fine = tree.Cut(GranularityLevel.Depth(2));   // dog, cat, tree
        var coarse = tree.Cut(GranularityLevel.Depth(1)); // animal, plant
        Assert.Equal(new[] { 0, 0, 1 }, fine.CoarseningMapTo(coarse));
        var error = Assert.Throws<InvalidOperationException>(() => coarse.CoarseningMapTo(fine));
        Assert.Contains("is not a coarsening", error.Message);
        Assert.False(coarse.IsRefinementOf(fine));
    }

    [Fact]
    public void LabelMapsRejectEmptyOrOutOfRangeClasses()
    {
        Assert.Throws<ArgumentException>(() => new LabelMap("x", new[] { 0, 2 }, new[] { "a", "b" }));
        Assert.Contains("has no leaf", Assert.Throws<ArgumentException>(() => new LabelMap("x", new[] { 0, 0 }, new[] { "a", "b" })).Message);
        var keyed = LabelMap.FromKeys("kind", new[] { "b", "a", "b" });
        Assert.Equal(new[] { "b", "a" }, keyed.ClassNames);
        Assert.Equal(new[] { 0, 1, 0 }, keyed.LeafToLabel);
    }

    [Fact]
    public void ConditionalEntropyIsZeroWhenAlignedAndMatchesAHandComputation()
    {
        // p = [0,0,1,1], t = [0,1,0,0]: class 0 splits 1:1 (1 bit), class 1 is pure → H(T|P) = 0.5 bit.
        Assert.Equal(0.5, Alignment.ConditionalEntropy(new[] { 0, 0, 1, 1 }, 2, new[] { 0, 1, 0, 0 }, 2), 12);
        var aligned = Alignment.Measure(new[] { 0, 1, 2, 2 }, 3, new[] { 0, 0, 1, 1 }, 2);
        Assert.Equal(0, aligned.ConditionalEntropyBits);
        Assert.True(aligned.IsCoarsening);
        Assert.Equal(new[] { 0, 0, 1 }, aligned.MajorityTarget);
        // A labelling independent of the target leaves all of H(target): 1 bit here.
        var independent = Alignment.Measure(new[] { 0, 0, 1, 1 }, 2, new[] { 0, 1, 0, 1 }, 2);
        Assert.Equal(1.0, independent.ConditionalEntropyBits, 12);
        Assert.Equal(1.0, independent.NormalizedConditionalEntropy, 12);
        Assert.Equal(2, independent.MixedPretrainingClasses);
        Assert.Equal(1.0, independent.MixedImageFraction);
    }

    [Fact]
    public void LevelAlignmentWeightsLeavesByImages()
    {
        var tree = LabelTreeTests.ToyTree();
        var up1 = tree.Cut(GranularityLevel.StepsUp(1));   // dog, animal, tree
        var depth2 = tree.Cut(GranularityLevel.Depth(2));  // dog, cat, tree
        Assert.Equal(0, Alignment.ConditionalEntropy(depth2, tree.Cut(GranularityLevel.Depth(1))));
        Assert.Equal(0, Alignment.ConditionalEntropy(up1, depth2)); // each up-1 label holds one leaf here
        var depth1 = tree.Cut(GranularityLevel.Depth(1));
        var mixed = new LabelMap("mixed", new[] { 0, 1, 1 }, new[] { "x", "y" }); // y mixes cat (animal) and oak (plant)
        // Images 2 (puppy), 6 (cat), 2 (oak): y holds 8 images, 6:2 → H = 0.8 · h(0.25).
        double h = -(0.75 * Math.Log2(0.75) + 0.25 * Math.Log2(0.25));
        Assert.Equal(0.8 * h, Alignment.ConditionalEntropy(mixed, depth1, new long[] { 2, 6, 2 }), 12);
        Assert.Throws<ArgumentException>(() => Alignment.ConditionalEntropy(new[] { 0 }, 1, new[] { 0, 0 }, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Alignment.ConditionalEntropy(new[] { 3 }, 1, new[] { 0 }, 1));
    }

    [Fact]
    public void SparseJointCountsAgreeWithDenseOnes()
    {
        int n = 50_000;
        var random = new Random(3);
        var p = Enumerable.Range(0, n).ToArray(); // one label per image: 50,000 × 400 cells is past the dense limit
        var t = Enumerable.Range(0, n).Select(_ => random.Next(400)).ToArray();
        Assert.Equal(0, Alignment.ConditionalEntropy(p, n, t, 400), 12);
        var coarse = p.Select(i => i % 7).ToArray();
        double dense = Alignment.ConditionalEntropy(coarse, 7, t, 400);
        double sparse = Alignment.ConditionalEntropy(coarse, n, t, 400); // same labels, declared over 50,000 classes → sparse counts
        Assert.Equal(dense, sparse, 12);
        Assert.InRange(sparse, 7.5, Math.Log2(400));
    }
}
