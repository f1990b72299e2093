namespace Granularity.Hierarchy;

/// <summary>A labelling of images (not of classes): the paper's comparison label sets.</summary>
/// <param name="Name">What the labels are, e.g. "random within target · 1,103 classes".</param>
/// <param name="Labels">Label of each image, 0..ClassCount-1; every label is used.</param>
/// <param name="ClassCount">Number of classes.</param>
public sealed record ImageLabels(string Name, int[] Labels, int ClassCount);

/// <summary>
/// The comparison label sets of the paper: random labels and k-means cluster labels, each either within every target
/// class (aligned with the target by construction) or across the whole dataset, at a chosen number of classes; and one
/// label per image. Within-target labels number target t's sub-classes consecutively, so they coarsen to the target exactly.
/// </summary>
public static class ComparisonLabels
{
    /// <summary>
    /// How many sub-classes each target class gets so that they sum to <paramref name="classCount"/>: proportional to its
    /// images (largest remainder), at least 1 and at most its image count; empty target classes get none.
    /// </summary>
    public static int[] AllocateSubclasses(ReadOnlySpan<long> imagesPerTarget, int classCount)
    {
        int targets = imagesPerTarget.Length;
        long images = 0;
        int nonEmpty = 0;
        foreach (var count in imagesPerTarget)
        {
            if (count < 0) throw new ArgumentException("image counts must be ≥ 0", nameof(imagesPerTarget));
            images += count;
            if (count > 0) nonEmpty++;
        }
        if (classCount < nonEmpty || classCount > images)
            throw new ArgumentException($"classCount must be in {nonEmpty}..{images} (one per non-empty target class up to one per image), got {classCount}", nameof(classCount));
        var ideal = new double[targets];
        var result = new int[targets];
        long assigned = 0;
        for (int t = 0; t < targets; t++)
        {
            if (imagesPerTarget[t] == 0) continue;
            ideal[t] = (double)classCount * imagesPerTarget[t] / images;
            result[t] = (int)Math.Clamp(Math.Floor(ideal[t]), 1, imagesPerTarget[t]);
            assigned += result[t];
        }
        while (assigned < classCount)
        {
            int pick = -1;
            for (int t = 0; t < targets; t++)
                if (result[t] < imagesPerTarget[t] && (pick < 0 || ideal[t] - result[t] > ideal[pick] - result[pick])) pick = t;
            result[pick]++; assigned++;
        }
        while (assigned > classCount)
        {
            int pick = -1;
            for (int t = 0; t < targets; t++)
                if (result[t] > 1 && (pick < 0 || ideal[t] - result[t] < ideal[pick] - result[pick])) pick = t;
            result[pick]--; assigned--;
        }
        return result;
    }

    /// <summary>
    /// Random labels within each target class: target class t's images are shuffled (seeded) and dealt round-robin to its
    /// sub-classes, so every sub-class gets ⌊n/k⌋ or ⌈n/k⌉ images and exactly <paramref name="classCount"/> classes exist.
    /// </summary>
    public static ImageLabels RandomWithinTarget(ReadOnlySpan<int> targetLabels, int targetClassCount, int classCount, int seed)
    {
        var members = GroupByTarget(targetLabels, targetClassCount);
        var allocation = AllocateSubclasses(members.Select(m => (long)m.Count).ToArray(), classCount);
        var labels = new int[targetLabels.Length];
        var random = new Random(seed);
        int offset = 0;
        for (int t = 0; t < targetClassCount; t++)
        {
            var images = members[t].ToArray();
            random.Shuffle(images);
            for (int j = 0; j < images.Length; j++) labels[images[j]] = offset + j % allocation[t];
            offset += allocation[t];
        }
        return new ImageLabels($"random within target · {classCount:N0} classes", labels, classCount);
    }

    /// <summary>Random labels ignoring the target: images shuffled (seeded) and dealt round-robin to <paramref name="classCount"/> classes.</summary>
    public static ImageLabels RandomAcrossDataset(int imageCount, int classCount, int seed)
    {
        if (classCount < 1 || classCount > imageCount) throw new ArgumentException($"classCount must be in 1..{imageCount}, got {classCount}", nameof(classCount));
        var order = Enumerable.Range(0, imageCount).ToArray();
        new Random(seed).Shuffle(order);
        var labels = new int[imageCount];
        for (int j = 0; j < imageCount; j++) labels[order[j]] = j % classCount;
        return new ImageLabels($"random across dataset · {classCount:N0} classes", labels, classCount);
    }

    /// <summary>k-means clusters of image features inside each target class, sub-class counts as in <see cref="AllocateSubclasses"/>.</summary>
    public static ImageLabels KMeansWithinTarget(float[] features, int dimension, ReadOnlySpan<int> targetLabels, int targetClassCount, int classCount, int seed, int maxIterations = 30)
    {
        CheckFeatures(features, dimension, targetLabels.Length);
        var members = GroupByTarget(targetLabels, targetClassCount);
        var allocation = AllocateSubclasses(members.Select(m => (long)m.Count).ToArray(), classCount);
        var labels = new int[targetLabels.Length];
        int offset = 0;
        for (int t = 0; t < targetClassCount; t++)
        {
            var images = members[t];
            if (images.Count == 0) continue;
            var subset = new float[images.Count * dimension];
            for (int j = 0; j < images.Count; j++) features.AsSpan(images[j] * dimension, dimension).CopyTo(subset.AsSpan(j * dimension, dimension));
            var fit = KMeans.Fit(subset, dimension, allocation[t], unchecked(seed * 7919 + t), maxIterations);
            for (int j = 0; j < images.Count; j++) labels[images[j]] = offset + fit.Assignments[j];
            offset += allocation[t];
        }
        return new ImageLabels($"k-means within target · {classCount:N0} classes", labels, classCount);
    }

    /// <summary>k-means clusters of image features over the whole dataset.</summary>
    public static ImageLabels KMeansAcrossDataset(float[] features, int dimension, int classCount, int seed, int maxIterations = 30)
    {
        if (dimension <= 0 || features.Length % dimension != 0) throw new ArgumentException($"{features.Length} values is not a whole number of {dimension}-dimensional feature vectors", nameof(features));
        var fit = KMeans.Fit(features, dimension, classCount, seed, maxIterations);
        return new ImageLabels($"k-means across dataset · {classCount:N0} classes", fit.Assignments, classCount);
    }

    /// <summary>Each image its own class (the finest possible labelling).</summary>
    public static ImageLabels OnePerImage(int imageCount) =>
        new($"one label per image · {imageCount:N0} classes", Enumerable.Range(0, imageCount).ToArray(), imageCount);

    private static List<int>[] GroupByTarget(ReadOnlySpan<int> targetLabels, int targetClassCount)
    {
        if (targetClassCount < 1) throw new ArgumentException($"targetClassCount must be ≥ 1, got {targetClassCount}", nameof(targetClassCount));
        var members = new List<int>[targetClassCount];
        for (int t = 0; t < targetClassCount; t++) members[t] = new List<int>();
        for (int i = 0; i < targetLabels.Length; i++)
        {
            if ((uint)targetLabels[i] >= (uint)targetClassCount)
                throw new ArgumentOutOfRangeException(nameof(targetLabels), $"image {i} has target label {targetLabels[i]}, outside 0..{targetClassCount - 1}");
            members[targetLabels[i]].Add(i);
        }
        return members;
    }

    private static void CheckFeatures(float[] features, int dimension, int imageCount)
    {
        if (dimension <= 0 || features.Length != (long)imageCount * dimension)
            throw new ArgumentException($"expected {imageCount} × {dimension} feature values (one row per image), got {features.Length}", nameof(features));
    }
}
