using System.Runtime.CompilerServices;

namespace Granularity.Data;

/// <summary>
/// A small, fast random generator (SplitMix64) whose state is derived from (seed, stream, index), so that every sample's
/// augmentation or synthesis is a pure function of those numbers, whatever thread or order it runs in.
/// </summary>
public struct SampleRandom
{
    private ulong state;

    public SampleRandom(ulong state) { this.state = state; }

    /// <summary>The generator for one sample: mixes seed, a stream id (e.g. the epoch or a purpose tag) and the sample index.</summary>
    public static SampleRandom For(long seed, long stream, long index)
    {
        var mixed = Mix((ulong)seed ^ 0x9E3779B97F4A7C15UL);
        mixed = Mix(mixed ^ (ulong)stream * 0xC2B2AE3D27D4EB4FUL);
        mixed = Mix(mixed ^ (ulong)index * 0x165667B19E3779F9UL);
        return new SampleRandom(mixed);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextULong()
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) as a float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float NextFloat() => (NextULong() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [low, high).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform whole number in [0, count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NextInt(int count)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be positive");
        return (int)(((NextULong() >> 32) * (ulong)count) >> 32);
    }

    public bool Bernoulli(double p) => NextDouble() < p;

    /// <summary>A pair of independent standard normal samples (Box–Muller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public (float, float) NextGaussianPair()
    {
        double u1 = 1.0 - NextDouble(); // (0, 1]: log is finite
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        var (sin, cos) = Math.SinCos(2 * Math.PI * u2);
        return ((float)(radius * cos), (float)(radius * sin));
    }

    /// <summary>A uniformly random permutation of 0..count-1 (Fisher–Yates).</summary>
    public static int[] Permutation(int count, long seed, long stream)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        var random = For(seed, stream, -1);
        for (int i = count - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
