using Granularity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Training;

/// <summary>
/// An <see cref="IBatchSource"/> over tensors already in memory (synthetic images, precomputed features): batches of
/// <c>BatchSize</c> in an order that is a pure function of the seed and the epoch (shuffled when asked).
/// </summary>
public sealed class InMemoryBatchSource : IBatchSource, IDisposable
{
    private readonly Tensor images;
    private readonly Tensor labels;

    /// <param name="images">N×C×H×W float (kept; disposed with this source).</param>
    /// <param name="labels">N class ids in [0, <paramref name="classCount"/>).</param>
    /// <param name="classCount">classes of the level</param>
    /// <param name="batchSize">images per batch</param>
    /// <param name="shuffle">reshuffle every epoch</param>
    /// <param name="seed">seed of the shuffles</param>
    public InMemoryBatchSource(Tensor images, long[] labels, int classCount, int batchSize, bool shuffle, int seed)
    {
        if (images.shape.Length != 4) throw new ArgumentException($"images must be N×C×H×W, got shape [{string.Join(", ", images.shape)}]");
        if (images.shape[0] != labels.Length) throw new ArgumentException($"{images.shape[0]} images but {labels.Length} labels");
        if (batchSize < 1) throw new ArgumentException($"batchSize must be ≥ 1, got {batchSize}");
        if (classCount < 1) throw new ArgumentException($"classCount must be ≥ 1, got {classCount}");
        var bad = Array.FindIndex(labels, l => l < 0 || l >= classCount);
        if (bad >= 0) throw new ArgumentException($"label {labels[bad]} of sample {bad} is outside [0, {classCount})");
        this.images = images.detach().contiguous();
        this.labels = tensor(labels, ScalarType.Int64);
        Count = labels.Length;
        ClassCount = classCount;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
    }

    public int Count { get; }
    public int ClassCount { get; }
    public int BatchSize { get; }
    public bool Shuffle { get; }
    public int Seed { get; }

    /// <summary>The images of all samples (owned by this source).</summary>
    public Tensor Images => images;

    /// <summary>The sample order of <paramref name="epoch"/>: identity, or a Fisher–Yates shuffle seeded by (seed, epoch).</summary>
    public long[] Order(int epoch)
    {
        var order = new long[Count];
        for (int i = 0; i < Count; i++) order[i] = i;
        if (!Shuffle) return order;
        var random = new Random(SeedMix.Combine(Seed, epoch, 0x5EED));
        for (int i = Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    public IEnumerable<Batch> Epoch(int epoch)
    {
        var order = Order(epoch);
        for (int start = 0; start < Count; start += BatchSize)
        {
            var indices = order[start..Math.Min(Count, start + BatchSize)];
            using var index = tensor(indices, ScalarType.Int64);
            yield return new Batch(images.index_select(0, index), labels.index_select(0, index), indices);
        }
    }

    public void Dispose()
    {
        images.Dispose();
        labels.Dispose();
    }
}

/// <summary>Deterministic seed derivation, so each epoch and stage gets its own stream whatever ran before it.</summary>
public static class SeedMix
{
    /// <summary>A 31-bit non-negative seed mixed from the parts (SplitMix64 finaliser).</summary>
    public static int Combine(params long[] parts)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (var part in parts)
        {
            h ^= (ulong)part + 0x9E3779B97F4A7C15UL + (h << 6) + (h >> 2);
            h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
            h = (h ^ (h >> 27)) * 0x94D049BB133111EBUL;
            h ^= h >> 31;
        }
        return (int)(h & 0x7FFFFFFF);
    }

    /// <summary>Combine with a text tag (stage names), hashed stably across processes.</summary>
    public static int Combine(int seed, string tag, params long[] parts)
    {
        long t = 1469598103934665603L;
        foreach (var c in tag) t = (t ^ c) * 1099511628211L;
        return Combine([seed, t, .. parts]);
    }
}
