using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Theory;

/// <summary>
/// N(0, σ²) noise for the theory's data model, written straight into a float32 CPU tensor: a counter-based stream
/// (SplitMix64 of the seed and the pair's index) turned into normals by Box–Muller, sixteen pairs per vector step.
/// The values are a pure function of the seed and the position, whatever the vector width, so a batch is the same on
/// every machine that runs .NET's vector maths. libtorch's <c>normal_</c> draws every uniform from a scalar Mersenne
/// Twister and was the largest cost of a theory step outside its two matrix products (docs/benchmarks.md, Theory).
/// </summary>
public static class GaussianNoise
{
    private const int PairsPerBlock = 16, ValuesPerBlock = 2 * PairsPerBlock;
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>Fills <paramref name="target"/> (float32, contiguous, CPU) with N(0, <paramref name="std"/>²) values from stream <paramref name="seed"/>.</summary>
    public static unsafe void Fill(Tensor target, float std, ulong seed)
    {
        if (target.dtype != ScalarType.Float32) throw new ArgumentException($"noise is float32, the tensor is {target.dtype}", nameof(target));
        var count = target.numel();
        var destination = (float*)TensorMemory.Address(target);
        Fill(new Span<float>(destination, checked((int)count)), std, seed);
        GC.KeepAlive(target);
    }

    /// <summary>
    /// Fills <paramref name="destination"/>: block b (values 32b … 32b+31) holds r_i·cos θ_i then r_i·sin θ_i for the
    /// pairs i = 16b … 16b+15, where pair i's 64 random bits are SplitMix64(seed + (i + 1)·γ), the low 32 give
    /// r = σ·√(−2 ln u₁) with u₁ ∈ (0, 1] and the high 32 give θ = 2π·u₂ (so |value| ≤ 6.8σ).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(Span<float> destination, float std, ulong seed)
    {
        var blocks = destination.Length / ValuesPerBlock;
        var pairIndex = Vector512.Create(1UL, 2, 3, 4, 5, 6, 7, 8);
        var scale = Vector512.Create(std);
        for (int block = 0; block < blocks; block++)
        {
            Block(seed, pairIndex, scale, out var cosines, out var sines);
            cosines.CopyTo(destination.Slice(block * ValuesPerBlock));
            sines.CopyTo(destination.Slice(block * ValuesPerBlock + PairsPerBlock));
            pairIndex += Vector512.Create((ulong)PairsPerBlock);
        }
        var rest = destination.Length - blocks * ValuesPerBlock;
        if (rest == 0) return;
        Span<float> last = stackalloc float[ValuesPerBlock];
        Block(seed, pairIndex, scale, out var lastCosines, out var lastSines);
        lastCosines.CopyTo(last);
        lastSines.CopyTo(last.Slice(PairsPerBlock));
        last.Slice(0, rest).CopyTo(destination.Slice(blocks * ValuesPerBlock));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(ulong seed, Vector512<ulong> pairIndex, Vector512<float> scale, out Vector512<float> cosines, out Vector512<float> sines)
    {
        var low = SplitMix(seed, pairIndex);
        var high = SplitMix(seed, pairIndex + Vector512.Create(8UL));
        var mask = Vector512.Create(0xFFFF_FFFFUL);
        var radiusBits = Vector512.Narrow(low & mask, high & mask);
        var angleBits = Vector512.Narrow(low >>> 32, high >>> 32);
        const float TwoToMinus32 = 2.3283064365386963e-10f;   // 2^-32
        var u1 = Vector512.ConvertToSingle(radiusBits) * TwoToMinus32 + Vector512.Create(TwoToMinus32 / 2);   // (0, 1]
        var radius = Vector512.Sqrt(Vector512.Log(u1) * -2f) * scale;
        // θ = 2π·u₂ as a quarter turn q (nearest, taken mod 4) plus x ∈ [−π/4, π/4], so two short polynomials suffice.
        var quarters = Vector512.ConvertToSingle(angleBits) * (TwoToMinus32 * 4);                               // [0, 4]
        var nearest = Vector512.Round(quarters);
        var x = (quarters - nearest) * (MathF.PI / 2);
        var (sin, cos) = SinCosQuarter(x);
        var quarter = Vector512.ConvertToInt32(nearest) & Vector512.Create(3);
        var swap = Vector512.Equals(quarter & Vector512.Create(1), Vector512.Create(1)).AsSingle();
        var cosSign = ((quarter + Vector512.Create(1)) & Vector512.Create(2)) << 30;   // negative for q = 1, 2
        var sinSign = (quarter & Vector512.Create(2)) << 30;                           // negative for q = 2, 3
        var rotatedCos = Vector512.ConditionalSelect(swap, sin, cos).AsInt32() ^ cosSign;
        var rotatedSin = Vector512.ConditionalSelect(swap, cos, sin).AsInt32() ^ sinSign;
        cosines = radius * rotatedCos.AsSingle();
        sines = radius * rotatedSin.AsSingle();
    }

    /// <summary>sin x and cos x for |x| ≤ π/4 (Cephes' single-precision minimax polynomials, about 1 ulp).</summary>
    private static (Vector512<float> Sin, Vector512<float> Cos) SinCosQuarter(Vector512<float> x)
    {
        var x2 = x * x;
        var sin = x + x * x2 * (Vector512.Create(-1.6666654611e-1f) + x2 * (Vector512.Create(8.3321608736e-3f) + x2 * Vector512.Create(-1.9515295891e-4f)));
        var cos = Vector512.Create(1f) - x2 * 0.5f
            + x2 * x2 * (Vector512.Create(4.166664568298827e-2f) + x2 * (Vector512.Create(-1.388731625493765e-3f) + x2 * Vector512.Create(2.443315711809948e-5f)));
        return (sin, cos);
    }

    private static Vector512<ulong> SplitMix(ulong seed, Vector512<ulong> index)
    {
        var z = Vector512.Create(seed) + index * Golden;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >>> 31);
    }

    /// <summary>A 64-bit stream seed drawn from <paramref name="generator"/> (advancing it), so noise stays a function of the generator's state.</summary>
    public static ulong SeedFrom(Generator generator)
    {
        using var scope = NewDisposeScope();
        var halves = randint(0, 1L << 32, new long[] { 2 }, dtype: ScalarType.Int64, generator: generator).data<long>().ToArray();
        return ((ulong)halves[0] << 32) | (ulong)halves[1];
    }
}
