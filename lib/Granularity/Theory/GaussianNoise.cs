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
        var count = checked((int)target.numel());
        if (!TensorMemory.Available)
        {
            var values = new float[count];
            Fill(values, std, seed);
            using var source = tensor(values).view(target.shape);
            target.copy_(source);
            return;
        }
        var destination = (float*)TensorMemory.Address(target);
        Fill(new Span<float>(destination, count), std, seed);
        GC.KeepAlive(target);
    }

    /// <summary>
    /// Fills <paramref name="destination"/>: block b (values 32b … 32b+31) holds r_i·cos θ_i then r_i·sin θ_i for the
    /// pairs i = 16b … 16b+15, where pair i's 64 random bits are SplitMix64's output for state seed + (i + 1)·γ, the low 32 give
    /// r = σ·√(−2 ln u₁) with u₁ ∈ (0, 1] and the high 32 give θ = 2π·u₂ (so |value| ≤ 6.8σ).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(Span<float> destination, float std, ulong seed)
    {
        var blocks = destination.Length / ValuesPerBlock;
        // SplitMix64's state for pairs 1…8 and 9…16 of the first block, advanced by 16γ per block (no multiply).
        var seeds = Vector512.Create(seed);
        var first = seeds + Vector512.Create(1UL, 2, 3, 4, 5, 6, 7, 8) * Golden;
        var second = seeds + Vector512.Create(9UL, 10, 11, 12, 13, 14, 15, 16) * Golden;
        var step = Vector512.Create(unchecked(PairsPerBlock * Golden));
        var scale = Vector512.Create(std);
        for (int block = 0; block < blocks; block++)
        {
            Block(first, second, scale, out var cosines, out var sines);
            cosines.CopyTo(destination.Slice(block * ValuesPerBlock));
            sines.CopyTo(destination.Slice(block * ValuesPerBlock + PairsPerBlock));
            first += step;
            second += step;
        }
        var rest = destination.Length - blocks * ValuesPerBlock;
        if (rest == 0) return;
        Span<float> last = stackalloc float[ValuesPerBlock];
        Block(first, second, scale, out var lastCosines, out var lastSines);
        lastCosines.CopyTo(last);
        lastSines.CopyTo(last.Slice(PairsPerBlock));
        last.Slice(0, rest).CopyTo(destination.Slice(blocks * ValuesPerBlock));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(Vector512<ulong> firstState, Vector512<ulong> secondState, Vector512<float> scale, out Vector512<float> cosines, out Vector512<float> sines)
    {
        var low = Mix(firstState);
        var high = Mix(secondState);
        var mask = Vector512.Create(0xFFFF_FFFFUL);
        var radiusBits = Vector512.Narrow(low & mask, high & mask);
        var angleBits = Vector512.Narrow(low >>> 32, high >>> 32);
        const float TwoToMinus32 = 2.3283064365386963e-10f;   // 2^-32
        var u1 = Vector512.ConvertToSingle(radiusBits) * TwoToMinus32 + Vector512.Create(TwoToMinus32 / 2);   // (0, 1]
        var radius = Vector512.Sqrt(LogOfUnit(u1) * -2f) * scale;
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

    /// <summary>SplitMix64's output function of its state z = seed + i·γ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Mix(Vector512<ulong> z)
    {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >>> 31);
    }

    /// <summary>
    /// ln x for normal x in (0, 1] (Cephes' logf: x = m·2^e with m ∈ [√½, √2), a degree-9 polynomial in m − 1; about
    /// 1 ulp). No special cases: the noise never asks for 0, negative or subnormal x.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> LogOfUnit(Vector512<float> x)
    {
        var bits = x.AsInt32();
        var exponent = (bits >>> 23) - Vector512.Create(126);
        var mantissa = ((bits & Vector512.Create(0x007F_FFFF)) | Vector512.Create(0x3F00_0000)).AsSingle();   // [0.5, 1)
        var small = Vector512.LessThan(mantissa, Vector512.Create(0.70710678f));
        exponent += small.AsInt32();                                    // −1 where m < √½
        var f = Vector512.ConditionalSelect(small, mantissa + mantissa, mantissa) - Vector512.Create(1f);
        var e = Vector512.ConvertToSingle(exponent);
        var z = f * f;
        var polynomial = (((((((Vector512.Create(7.0376836292e-2f) * f - Vector512.Create(1.1514610310e-1f)) * f + Vector512.Create(1.1676998740e-1f)) * f
            - Vector512.Create(1.2420140846e-1f)) * f + Vector512.Create(1.4249322787e-1f)) * f - Vector512.Create(1.6668057665e-1f)) * f
            + Vector512.Create(2.0000714765e-1f)) * f - Vector512.Create(2.4999993993e-1f)) * f + Vector512.Create(3.3333331174e-1f);
        var y = polynomial * f * z + e * -2.12194440e-4f - z * 0.5f;
        return f + y + e * 0.693359375f;
    }

    /// <summary>A 64-bit stream seed drawn from <paramref name="generator"/> (advancing it), so noise stays a function of the generator's state.</summary>
    public static ulong SeedFrom(Generator generator)
    {
        using var scope = NewDisposeScope();
        var halves = randint(0, 1L << 32, new long[] { 2 }, dtype: ScalarType.Int64, generator: generator).data<long>().ToArray();
        return ((ulong)halves[0] << 32) | (ulong)halves[1];
    }
}
