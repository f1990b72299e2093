using System.Numerics;
using Granularity.Data;
using Xunit;

namespace Granularity.Tests.Data;

public sealed class SyntheticHierarchyTests
{
    private static readonly SyntheticHierarchyConfig Config = SyntheticHierarchyConfig.Default();

    [Fact]
    public void SameSeedGivesSameDataAndOtherSeedsDiffer()
    {
        var a = SyntheticWorld.Create(Config, seed: 3).Sample(300, 0.1, stream: 0);
        var b = SyntheticWorld.Create(Config, seed: 3).Sample(300, 0.1, stream: 0);
        var c = SyntheticWorld.Create(Config, seed: 4).Sample(300, 0.1, stream: 0);
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.Equal(a.Leaves, b.Leaves);
        Assert.Equal(a.IsHard, b.IsHard);
        Assert.NotEqual(a.Leaves, c.Leaves);
        Assert.NotEqual(SyntheticWorld.Create(Config, 3).LeafGlyphs, SyntheticWorld.Create(Config, 4).LeafGlyphs);
    }

    [Fact]
    public void GlyphsFollowTheSpec()
    {
        var world = SyntheticWorld.Create(Config, seed: 0);
        var all = world.LeafGlyphs.Concat(world.DistractorGlyphs).ToList();
        Assert.Equal(Config.LeafCount, world.LeafGlyphs.Count);
        Assert.Equal(Config.DistractorGlyphs, world.DistractorGlyphs.Count);
        foreach (var glyph in all) Assert.InRange(BitOperations.PopCount(glyph), 8, 17);
        for (int i = 0; i < all.Count; i++)
            for (int j = i + 1; j < all.Count; j++)
                Assert.True(BitOperations.PopCount(all[i] ^ all[j]) >= 6, $"glyphs {i} and {j} are closer than Hamming 6");
    }

    [Fact]
    public void HardSamplesLackTheSuperclassColourAndEasyOnesCarryIt()
    {
        var world = SyntheticWorld.Create(Config, seed: 1);
        var (train, easy, hard) = world.StandardSplits(trainCount: 2000, testCount: 400);
        Assert.All(hard.IsHard, Assert.True);
        Assert.All(easy.IsHard, Assert.False);
        Assert.InRange(train.IsHard.Count(h => h) / 2000.0, 0.07, 0.13);
        int plane = 32 * 32;
        foreach (var (set, isHard) in new[] { (easy, false), (hard, true) })
            for (int i = 0; i < set.Count; i++)
            {
                // Glyphs and distractors are grey (equal in all channels), so channel means differ only by the tint.
                var means = Enumerable.Range(0, 3).Select(c => set.Pixels.AsSpan(i * 3 * plane + c * plane, plane).ToArray().Average()).ToArray();
                int superclass = set.Superclass(i);
                for (int c = 1; c < 3; c++)
                {
                    double difference = means[c] - means[0];
                    double expected = set.CommonStrength[i] * (world.Tints[superclass, c] - world.Tints[superclass, 0]);
                    if (isHard) Assert.InRange(difference, -0.02, 0.02);
                    else if (expected != 0) Assert.Equal(Math.Sign(expected), Math.Sign(difference));
                }
            }
        Assert.All(hard.CommonStrength, a => Assert.Equal(0f, a));
        Assert.All(easy.CommonStrength, a => Assert.InRange(a, 0.5f, 1f));
        Assert.All(train.Pixels, p => Assert.InRange(p, 0f, 1f));
    }

    private static void AssertNested(int[] fine, int[] coarse)
    {
        var parentOf = new Dictionary<int, int>();
        for (int i = 0; i < fine.Length; i++)
            Assert.Equal(parentOf.TryAdd(fine[i], coarse[i]) ? coarse[i] : parentOf[fine[i]], coarse[i]);
    }

    [Fact]
    public void TheWorldIsALabelTreeWhoseCutsAreItsLevels()
    {
        var tree = Config.Tree();
        Assert.Equal(Config.LeafCount, tree.LeafCount);
        Assert.Equal(Config.Superclasses, tree.Cut(Granularity.Hierarchy.GranularityLevel.Depth(1)).ClassCount);
        Assert.Equal(Config.MiddleCount, tree.Cut(Granularity.Hierarchy.GranularityLevel.Depth(2)).ClassCount);
        for (int leaf = 0; leaf < Config.LeafCount; leaf++)
        {
            Assert.Equal(Config.SuperclassOfLeaf(leaf), Config.LeafToSuperclass()[leaf]);
            Assert.Equal(Config.MiddleOfLeaf(leaf), Config.LeafToMiddle()[leaf]);
        }
    }

    [Fact]
    public void LabelMapsNestMiddleInSuperclass()
    {
        var superOf = Config.LeafToSuperclass();
        var middleOf = Config.LeafToMiddle();
        Assert.Equal(new[] { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3 }, superOf);
        Assert.Equal(new[] { 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7 }, middleOf);
        for (int leaf = 0; leaf < Config.LeafCount; leaf++) Assert.Equal(superOf[leaf], middleOf[leaf] / Config.MiddlePerSuperclass);
    }

    [Fact]
    public void LabelSetsHaveTheirDefinitions()
    {
        var images = SyntheticWorld.Create(Config, 2).Sample(1000, 0.1, 0);
        var k = Config.LeavesPerSuperclass;
        foreach (var set in Enum.GetValues<SyntheticLabelSet>())
        {
            var (labels, classes) = SyntheticLabelSets.Labels(images, set, seed: 2);
            Assert.All(labels, l => Assert.InRange(l, 0, classes - 1));
            Assert.Equal(labels, SyntheticLabelSets.Labels(images, set, seed: 2).Labels);
        }
        // Nested sets are coarsened exactly by their parent level: each class lies inside one superclass (or leaf).
        var (nested, nestedClasses) = SyntheticLabelSets.Labels(images, SyntheticLabelSet.RandNested, 2);
        Assert.Equal(Config.LeafCount, nestedClasses);
        AssertNested(nested, Enumerable.Range(0, images.Count).Select(images.Superclass).ToArray());
        var (split4, split4Classes) = SyntheticLabelSets.Labels(images, SyntheticLabelSet.Split4, 2);
        Assert.Equal(64, split4Classes);
        AssertNested(split4, images.Leaves.ToArray());
        var (full, _) = SyntheticLabelSets.Labels(images, SyntheticLabelSet.RandFull, 2);
        Assert.Contains(Enumerable.Range(0, Config.LeafCount), c => Enumerable.Range(0, images.Count).Where(i => full[i] == c).Select(images.Superclass).Distinct().Count() > 1);
        var (cross, crossClasses) = SyntheticLabelSets.Labels(images, SyntheticLabelSet.Cross, 2);
        Assert.Equal(4, crossClasses);
        for (int i = 0; i < images.Count; i++) Assert.Equal(images.Leaves[i] % k, cross[i]);
        Assert.Equal(1000, SyntheticLabelSets.Labels(images, SyntheticLabelSet.Instance, 2).ClassCount);
    }

    [Fact]
    public void BatchSourceShufflesPerEpochDeterministicallyAndLabelsThroughTheMap()
    {
        var images = SyntheticWorld.Create(Config, 5).Sample(130, 0.1, 0);
        var source = new SyntheticBatchSource(images, Config.LeafToSuperclass(), batchSize: 32, shuffle: true, seed: 9);
        Assert.Equal(4, source.ClassCount);
        var epoch0 = source.Epoch(0).ToList();
        var again = source.Epoch(0).ToList();
        var epoch1 = source.Epoch(1).ToList();
        try
        {
            Assert.Equal(5, epoch0.Count);
            Assert.Equal(new long[] { 32, 3, 32, 32 }, epoch0[0].Images.shape);
            Assert.Equal(epoch0.SelectMany(b => b.Indices), again.SelectMany(b => b.Indices));
            Assert.NotEqual(epoch0.SelectMany(b => b.Indices), epoch1.SelectMany(b => b.Indices));
            Assert.Equal(Enumerable.Range(0, 130).Select(i => (long)i), epoch0.SelectMany(b => b.Indices).Order());
            foreach (var batch in epoch0)
            {
                var labels = batch.Labels.data<long>().ToArray();
                for (int j = 0; j < batch.Size; j++) Assert.Equal(images.Superclass((int)batch.Indices[j]), labels[j]);
                var pixels = batch.Images.data<float>().ToArray();
                int first = (int)batch.Indices[0];
                Assert.Equal(images.Pixels.AsSpan(first * 3072, 3072).ToArray(), pixels.AsSpan(0, 3072).ToArray());
            }
            Assert.Equal(4, new SyntheticBatchSource(images, Config.LeafToLeaf(), 32, true, 9, dropLast: true).Epoch(0).Count());
        }
        finally
        {
            foreach (var batch in epoch0.Concat(again).Concat(epoch1)) batch.Dispose();
        }
    }

    [Fact]
    public void InvalidConfigNamesTheField()
    {
        var error = Assert.Throws<ArgumentException>(() => SyntheticWorld.Create(Config with { Superclasses = 9 }, 0));
        Assert.Contains("Superclasses", error.Message);
    }
}
