using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Data;

/// <summary>The pretraining label sets of the synthetic study (synthetic-hierarchy.md §1 table), all defined on one image set.</summary>
public enum SyntheticLabelSet
{
    Coarse,      // sup (S classes)
    Mid,         // mid (S·M, nested)
    Leaf,        // leaf (S·K)
    Split4,      // leaf·4 + U{0..3}: meaningless splits of each leaf
    Split16,     // leaf·16 + U{0..15}
    Instance,    // one class per image
    RandNested,  // sup·K + U{0..K−1}: random labels inside the true superclass
    RandFull,    // U{0..S·K−1}: unrelated to anything
    Cross,       // leaf mod K: merges the j-th leaf of all superclasses
    Cross8,      // (sup mod 2)·K + leaf mod K: merges leaves of superclasses s and s+2
}

/// <summary>Per-sample labels of each <see cref="SyntheticLabelSet"/>; the random ones are fixed by the seed.</summary>
public static class SyntheticLabelSets
{
    /// <summary>The labels of <paramref name="set"/> for every sample of <paramref name="images"/>, and the class count.</summary>
    public static (int[] Labels, int ClassCount) Labels(SyntheticImageSet images, SyntheticLabelSet set, int seed)
    {
        var config = images.World.Config;
        int k = config.LeavesPerSuperclass, leaves = config.LeafCount;
        var labels = new int[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var random = SampleRandom.For(seed, 0x4C_41_42 + (int)set, i); // "LAB" + set
            int leaf = images.Leaves[i], sup = config.SuperclassOfLeaf(leaf);
            labels[i] = set switch
            {
                SyntheticLabelSet.Coarse => sup,
                SyntheticLabelSet.Mid => config.MiddleOfLeaf(leaf),
                SyntheticLabelSet.Leaf => leaf,
                SyntheticLabelSet.Split4 => leaf * 4 + random.NextInt(4),
                SyntheticLabelSet.Split16 => leaf * 16 + random.NextInt(16),
                SyntheticLabelSet.Instance => i,
                SyntheticLabelSet.RandNested => sup * k + random.NextInt(k),
                SyntheticLabelSet.RandFull => random.NextInt(leaves),
                SyntheticLabelSet.Cross => leaf % k,
                SyntheticLabelSet.Cross8 => (sup % 2) * k + leaf % k,
                _ => throw new ArgumentOutOfRangeException(nameof(set), set, "unknown label set"),
            };
        }
        int classes = set switch
        {
            SyntheticLabelSet.Coarse => config.Superclasses,
            SyntheticLabelSet.Mid => config.MiddleCount,
            SyntheticLabelSet.Leaf or SyntheticLabelSet.RandNested or SyntheticLabelSet.RandFull => leaves,
            SyntheticLabelSet.Split4 => leaves * 4,
            SyntheticLabelSet.Split16 => leaves * 16,
            SyntheticLabelSet.Instance => images.Count,
            SyntheticLabelSet.Cross => k,
            SyntheticLabelSet.Cross8 => 2 * k,
            _ => throw new ArgumentOutOfRangeException(nameof(set)),
        };
        return (labels, classes);
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
