using Granularity.Hierarchy;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Data;

/// <summary>The pretraining label sets of the synthetic study (synthetic-hierarchy.md §1 table), all defined on one image set.</summary>
public enum SyntheticLabelSet
{
    Coarse,      // sup (S classes)
    Mid,         // mid (S·M, nested)
    Leaf,        // leaf (S·K)
    Split4,      // 4 random sub-classes of each leaf (balanced): meaningless splits
    Split16,     // 16 random sub-classes of each leaf
    Instance,    // one class per image
    RandNested,  // S·K random classes inside the true superclasses (balanced)
    RandFull,    // S·K random classes unrelated to anything
    Cross,       // leaf mod K: merges the j-th leaf of all superclasses
    Cross8,      // (sup mod 2)·K + leaf mod K: merges leaves of superclasses s and s+2
}

/// <summary>
/// Per-sample labels of each <see cref="SyntheticLabelSet"/>: the hierarchy's levels are cuts of the world's
/// <see cref="LabelTree"/>, and the comparison sets (random, finer-than-leaf, one per image) come from
/// <see cref="ComparisonLabels"/>, as for every real dataset; the random ones are fixed by the seed.
/// </summary>
public static class SyntheticLabelSets
{
    /// <summary>The labels of <paramref name="set"/> for every sample of <paramref name="images"/>, and the class count.</summary>
    public static (int[] Labels, int ClassCount) Labels(SyntheticImageSet images, SyntheticLabelSet set, int seed)
    {
        var config = images.World.Config;
        int k = config.LeavesPerSuperclass, leaves = config.LeafCount;
        var tree = config.Tree();
        (int[], int) Cut(GranularityLevel level)
        {
            var map = tree.Cut(level);
            return (images.LabelsFrom(map.LeafToLabel), map.ClassCount);
        }
        (int[], int) Comparison(ImageLabels labels) => (labels.Labels, labels.ClassCount);
        (int[], int) OfLeaf(Func<int, int> labelOfLeaf, int classes) => (images.LabelsFrom(Enumerable.Range(0, leaves).Select(labelOfLeaf).ToArray()), classes);
        var superclassOfImage = images.LabelsFrom(config.LeafToSuperclass());
        var randomSeed = unchecked(seed * 31 + 0x4C4142 + (int)set); // "LAB" + set
        int AtMostOnePerImage(int classes) => Math.Min(classes, images.Count); // tiny test sets have fewer images than classes
        return set switch
        {
            SyntheticLabelSet.Coarse => Cut(GranularityLevel.Depth(1)),
            SyntheticLabelSet.Mid => Cut(GranularityLevel.Depth(2)),
            SyntheticLabelSet.Leaf => Cut(GranularityLevel.Leaves),
            SyntheticLabelSet.Split4 => Comparison(ComparisonLabels.RandomWithinTarget(images.Leaves, leaves, AtMostOnePerImage(leaves * 4), randomSeed)),
            SyntheticLabelSet.Split16 => Comparison(ComparisonLabels.RandomWithinTarget(images.Leaves, leaves, AtMostOnePerImage(leaves * 16), randomSeed)),
            SyntheticLabelSet.Instance => Comparison(ComparisonLabels.OnePerImage(images.Count)),
            SyntheticLabelSet.RandNested => Comparison(ComparisonLabels.RandomWithinTarget(superclassOfImage, config.Superclasses, AtMostOnePerImage(leaves), randomSeed)),
            SyntheticLabelSet.RandFull => Comparison(ComparisonLabels.RandomAcrossDataset(images.Count, AtMostOnePerImage(leaves), randomSeed)),
            SyntheticLabelSet.Cross => OfLeaf(leaf => leaf % k, k),
            SyntheticLabelSet.Cross8 => OfLeaf(leaf => config.SuperclassOfLeaf(leaf) % 2 * k + leaf % k, 2 * k),
            _ => throw new ArgumentOutOfRangeException(nameof(set), set, "unknown label set"),
        };
    }
}

/// <summary>
/// Batches of a <see cref="SyntheticImageSet"/> for the trainer: NCHW floats in [0,1] (no augmentation, as in the
/// note's recipe), labels per sample, reshuffled per epoch from the seed. Batch.Indices index the image set, so
/// <see cref="SyntheticImageSet.IsHard"/> and <see cref="SyntheticImageSet.Leaves"/> split evaluation results.
/// </summary>
public sealed class SyntheticBatchSource : IBatchSource
{
    private readonly int[] labels;

    /// <summary>Labels from a leaf → label map (the granularity of a level of the hierarchy).</summary>
    public SyntheticBatchSource(SyntheticImageSet images, int[] leafToLabel, int batchSize, bool shuffle, int seed, bool dropLast = false)
        : this(images, images.LabelsFrom(leafToLabel), leafToLabel.Length == 0 ? 0 : leafToLabel.Max() + 1, batchSize, shuffle, seed, dropLast) { }

    /// <summary>Labels given per sample (for label sets that are not functions of the leaf, e.g. instance or random labels).</summary>
    public SyntheticBatchSource(SyntheticImageSet images, int[] sampleLabels, int classCount, int batchSize, bool shuffle, int seed, bool dropLast = false)
    {
        if (sampleLabels.Length != images.Count) throw new ArgumentException($"expected {images.Count} sample labels, got {sampleLabels.Length}", nameof(sampleLabels));
        if (batchSize < 1) throw new ArgumentException($"batchSize must be ≥ 1, got {batchSize}", nameof(batchSize));
        var bad = Array.FindIndex(sampleLabels, l => l < 0 || l >= classCount);
        if (bad >= 0) throw new ArgumentException($"sample {bad} has label {sampleLabels[bad]}, outside [0, {classCount})", nameof(sampleLabels));
        Images = images;
        labels = sampleLabels;
        ClassCount = classCount;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
    }

    public SyntheticImageSet Images { get; }
    public int Count => Images.Count;
    public int ClassCount { get; }
    public int BatchSize { get; }
    public bool Shuffle { get; }
    public int Seed { get; }
    public bool DropLast { get; }
    public IReadOnlyList<int> Labels => labels;

    public IEnumerable<Batch> Epoch(int epoch)
    {
        var order = Shuffle ? SampleRandom.Permutation(Count, Seed, epoch) : Enumerable.Range(0, Count).ToArray();
        int imageLength = 3 * Images.ImageSize * Images.ImageSize;
        for (int start = 0; start < Count; start += BatchSize)
        {
            int size = Math.Min(BatchSize, Count - start);
            if (size < BatchSize && DropLast) yield break;
            var pixels = new float[size * imageLength];
            var batchLabels = new long[size];
            var indices = new long[size];
            for (int j = 0; j < size; j++)
            {
                int i = order[start + j];
                Array.Copy(Images.Pixels, (long)i * imageLength, pixels, (long)j * imageLength, imageLength);
                batchLabels[j] = labels[i];
                indices[j] = i;
            }
            yield return new Batch(
                torch.tensor(pixels, new long[] { size, 3, Images.ImageSize, Images.ImageSize }),
                torch.tensor(batchLabels),
                indices);
        }
    }
}
