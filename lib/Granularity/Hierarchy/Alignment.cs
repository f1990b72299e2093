namespace Granularity.Hierarchy;

/// <summary>
/// How well a pretraining labelling is aligned with the target labelling (the paper's alignment condition).
/// <see cref="ConditionalEntropyBits"/> = H(target | pretraining), zero exactly when every pretraining class lies inside
/// one target class (the target is a coarsening of the pretraining labels).
/// </summary>
/// <param name="ConditionalEntropyBits">H(target | pretraining) in bits, over images (or leaves weighted by images).</param>
/// <param name="TargetEntropyBits">H(target) in bits: the value the measure takes for a labelling that says nothing about the target.</param>
/// <param name="IsCoarsening">Every pretraining class maps to a single target class.</param>
/// <param name="MixedPretrainingClasses">Pretraining classes that span more than one target class.</param>
/// <param name="MixedImageFraction">Share of images in mixed pretraining classes.</param>
/// <param name="MajorityTarget">For each pretraining class, its most frequent target class (the coarsening map when aligned).</param>
public sealed record AlignmentReport(
    double ConditionalEntropyBits, double TargetEntropyBits, bool IsCoarsening, int MixedPretrainingClasses,
    double MixedImageFraction, int[] MajorityTarget)
{
    /// <summary>H(target | pretraining) / H(target): 0 aligned, about 1 for labels independent of the target.</summary>
    public double NormalizedConditionalEntropy => TargetEntropyBits > 0 ? ConditionalEntropyBits / TargetEntropyBits : 0;
}

/// <summary>Measures alignment between pretraining and target labellings.</summary>
public static class Alignment
{
    /// <summary>H(target | pretraining) in bits over images given each image's pretraining and target label.</summary>
    public static double ConditionalEntropy(ReadOnlySpan<int> pretrainingLabels, int pretrainingClassCount, ReadOnlySpan<int> targetLabels, int targetClassCount) =>
        Measure(pretrainingLabels, pretrainingClassCount, targetLabels, targetClassCount).ConditionalEntropyBits;

    /// <summary>H(target | pretraining) between two levels over the same leaves, each leaf weighted by its images (uniform when empty).</summary>
    public static double ConditionalEntropy(LabelMap pretraining, LabelMap target, ReadOnlySpan<long> imagesPerLeaf = default) =>
        Measure(pretraining, target, imagesPerLeaf).ConditionalEntropyBits;

    /// <summary>The full report for per-image labels.</summary>
    public static AlignmentReport Measure(ReadOnlySpan<int> pretrainingLabels, int pretrainingClassCount, ReadOnlySpan<int> targetLabels, int targetClassCount)
    {
        if (pretrainingLabels.Length != targetLabels.Length)
            throw new ArgumentException($"{pretrainingLabels.Length} pretraining labels but {targetLabels.Length} target labels: one of each per image");
        var joint = new JointCounts(pretrainingClassCount, targetClassCount);
        for (int i = 0; i < pretrainingLabels.Length; i++)
        {
            int p = pretrainingLabels[i], t = targetLabels[i];
            if ((uint)p >= (uint)pretrainingClassCount) throw new ArgumentOutOfRangeException(nameof(pretrainingLabels), $"image {i}: pretraining label {p} outside 0..{pretrainingClassCount - 1}");
            if ((uint)t >= (uint)targetClassCount) throw new ArgumentOutOfRangeException(nameof(targetLabels), $"image {i}: target label {t} outside 0..{targetClassCount - 1}");
            joint.Add(p, t, 1);
        }
        return joint.Report();
    }

    /// <summary>The full report for two levels over the same leaves (weights: images per leaf, or 1 each when empty).</summary>
    public static AlignmentReport Measure(LabelMap pretraining, LabelMap target, ReadOnlySpan<long> imagesPerLeaf = default)
    {
        if (pretraining.LeafCount != target.LeafCount) throw new ArgumentException($"levels over different classes: {pretraining.LeafCount} vs {target.LeafCount} leaves");
        if (!imagesPerLeaf.IsEmpty && imagesPerLeaf.Length != pretraining.LeafCount) throw new ArgumentException($"expected {pretraining.LeafCount} image counts, got {imagesPerLeaf.Length}");
        var joint = new JointCounts(pretraining.ClassCount, target.ClassCount);
        for (int leaf = 0; leaf < pretraining.LeafCount; leaf++)
            joint.Add(pretraining.LeafToLabel[leaf], target.LeafToLabel[leaf], imagesPerLeaf.IsEmpty ? 1 : imagesPerLeaf[leaf]);
        return joint.Report();
    }

    /// <summary>Joint counts, dense when small and sparse (per pretraining class) when the product of class counts is large.</summary>
    private sealed class JointCounts
    {
        private readonly int pretrainingClasses, targetClasses;
        private readonly long[]? dense;
        private readonly Dictionary<long, long>? sparse;

        public JointCounts(int pretrainingClasses, int targetClasses)
        {
            if (pretrainingClasses <= 0 || targetClasses <= 0) throw new ArgumentException("class counts must be positive");
            this.pretrainingClasses = pretrainingClasses;
            this.targetClasses = targetClasses;
            if ((long)pretrainingClasses * targetClasses <= 1 << 24) dense = new long[pretrainingClasses * targetClasses];
            else sparse = new Dictionary<long, long>();
        }

        public void Add(int p, int t, long weight)
        {
            if (weight < 0) throw new ArgumentException("image counts must be ≥ 0");
            if (dense is not null) dense[p * targetClasses + t] += weight;
            else
            {
                var key = (long)p * targetClasses + t;
                sparse![key] = sparse.GetValueOrDefault(key) + weight;
            }
        }

        private IEnumerable<(int P, int T, long Count)> Cells()
        {
            if (dense is not null)
            {
                for (int k = 0; k < dense.Length; k++) if (dense[k] > 0) yield return (k / targetClasses, k % targetClasses, dense[k]);
            }
            else foreach (var (key, count) in sparse!) if (count > 0) yield return ((int)(key / targetClasses), (int)(key % targetClasses), count);
        }

        public AlignmentReport Report()
        {
            var pTotal = new long[pretrainingClasses];
            var tTotal = new long[targetClasses];
            var cellsPerP = new int[pretrainingClasses];
            var best = new long[pretrainingClasses];
            var majority = new int[pretrainingClasses];
            Array.Fill(majority, -1);
            long total = 0;
            var cells = Cells().ToList();
            foreach (var (p, t, count) in cells)
            {
                pTotal[p] += count; tTotal[t] += count; total += count; cellsPerP[p]++;
                if (count > best[p] || (count == best[p] && t < majority[p])) { best[p] = count; majority[p] = t; }
            }
            if (total == 0) return new AlignmentReport(0, 0, true, 0, 0, majority);
            // H(T|P) = Σ_{p,t} n_pt/N · log2(n_p / n_pt); accumulate in bits.
            double conditional = 0;
            foreach (var (p, _, count) in cells) conditional += count * Math.Log2((double)pTotal[p] / count);
            conditional /= total;
            double targetEntropy = 0;
            foreach (var count in tTotal) if (count > 0) targetEntropy -= (double)count / total * Math.Log2((double)count / total);
            int mixed = 0;
            long mixedImages = 0;
            for (int p = 0; p < pretrainingClasses; p++) if (cellsPerP[p] > 1) { mixed++; mixedImages += pTotal[p]; }
            return new AlignmentReport(Math.Max(0, conditional), targetEntropy, mixed == 0, mixed, (double)mixedImages / total, majority);
        }
    }
}
