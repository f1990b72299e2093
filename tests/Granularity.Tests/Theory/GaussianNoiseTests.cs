using System.Runtime.InteropServices;
using Granularity.Theory;
using TorchSharp;
using Xunit;
using static Granularity.Tests.Theory.TheoryTestSupport;
using static TorchSharp.torch;

namespace Granularity.Tests.Theory;

public sealed class GaussianNoiseTests
{
    public GaussianNoiseTests() => EnsureNatives();

    [Fact]
    public void ValuesFollowTheNormalDistribution()
    {
        const float std = 0.5f;
        var values = new float[1 << 20];
        GaussianNoise.Fill(values, std, seed: 12345);
        int n = values.Length;
        double mean = values.Average(v => (double)v);
        double variance = values.Average(v => (v - mean) * (v - mean));
        double kurtosis = values.Average(v => Math.Pow(v - mean, 4)) / (variance * variance);
        Assert.InRange(mean, -5 * std / Math.Sqrt(n), 5 * std / Math.Sqrt(n));
        Assert.InRange(variance / (std * std), 1 - 5 * Math.Sqrt(2.0 / n), 1 + 5 * Math.Sqrt(2.0 / n));
        Assert.InRange(kurtosis, 2.95, 3.05);
        foreach (var (z, share) in new[] { (1.0, 0.31731), (2.0, 0.04550), (3.0, 0.00270) })
        {
            var observed = values.Count(v => Math.Abs(v) > z * std) / (double)n;
            var error = 5 * Math.Sqrt(share * (1 - share) / n);
            Assert.True(Math.Abs(observed - share) <= error, $"P(|Z| > {z}) = {observed:F5}, expected {share:F5} ± {error:F5}");
        }
        Assert.True(values.Max(Math.Abs) <= 6.8f * std, "Box–Muller with u₁ ≥ 2^-33 cannot exceed 6.8σ");

        // Kolmogorov–Smirnov distance to Φ, against the 1% critical value 1.63/√n.
        var sorted = values.Select(v => v / (double)std).OrderBy(v => v).ToArray();
        double distance = 0;
        for (int i = 0; i < n; i++)
        {
            var cdf = NormalCdf(sorted[i]);
            distance = Math.Max(distance, Math.Max(Math.Abs((i + 1.0) / n - cdf), Math.Abs(i / (double)n - cdf)));
        }
        Assert.True(distance < 1.63 / Math.Sqrt(n), $"KS distance {distance:E2} ≥ {1.63 / Math.Sqrt(n):E2}");
    }

    [Theory]
    [InlineData(1)]    // neighbours
    [InlineData(16)]   // a pair's cosine and sine value sit 16 apart
    [InlineData(32)]   // the same lane of consecutive blocks
    public void ValuesAreUncorrelated(int lag)
    {
        var values = new float[1 << 20];
        GaussianNoise.Fill(values, 1f, seed: 99);
        double sum = 0;
        for (int i = lag; i < values.Length; i++) sum += values[i] * (double)values[i - lag];
        var correlation = sum / (values.Length - lag);
        Assert.True(Math.Abs(correlation) < 5 / Math.Sqrt(values.Length), $"lag-{lag} correlation {correlation:E2}");
    }

    [Fact]
    public void TheStreamIsAFunctionOfSeedAndPosition()
    {
        var longer = new float[4096];
        var shorter = new float[1000];   // not a multiple of the 32-value block
        GaussianNoise.Fill(longer, 1f, seed: 7);
        GaussianNoise.Fill(shorter, 1f, seed: 7);
        Assert.Equal(longer.Take(1000), shorter);
        var scaled = new float[1000];
        GaussianNoise.Fill(scaled, 0.25f, seed: 7);
        Assert.Equal(shorter.Select(v => v * 0.25f), scaled);
        var other = new float[1000];
        GaussianNoise.Fill(other, 1f, seed: 8);
        Assert.True(other.Zip(shorter).Count(pair => pair.First == pair.Second) < 5, "another seed gives another stream");
    }

    [Fact]
    public void FillsATensorInPlaceAndRefusesOtherTypes()
    {
        using var target = empty(3, 5, 70);
        GaussianNoise.Fill(target, 1f, seed: 3);
        var expected = new float[3 * 5 * 70];
        GaussianNoise.Fill(expected, 1f, seed: 3);
        Assert.Equal(expected, target.data<float>().ToArray());
        using var doubles = empty(new long[] { 4 }, dtype: ScalarType.Float64);
        var error = Assert.Throws<ArgumentException>(() => GaussianNoise.Fill(doubles, 1f, seed: 3));
        Assert.Contains("Float64", error.Message);
        using var strided = empty(6, 4).t();
        Assert.Throws<ArgumentException>(() => GaussianNoise.Fill(strided, 1f, seed: 3));
    }

    [Fact]
    public void OpenBlasRunsAVectorKernelWhereTheCpuHasOne()
    {
        // Sgemm first: a handle of ours held while it loads would keep OpenBLAS from being unloaded and reloaded.
        var backend = Sgemm.Backend;
        var forcedTorch = string.Equals(Environment.GetEnvironmentVariable("GRANULARITY_THEORY_BLAS"), "torch", StringComparison.OrdinalIgnoreCase);
        if (forcedTorch || !System.Runtime.Intrinsics.X86.Avx2.IsSupported || !NativeLibrary.TryLoad("libopenblas.so.0", out var handle))
        {
            Assert.StartsWith("torch", backend);
            return;
        }
        NativeLibrary.Free(handle);
        // OpenBLAS 0.3.21 reads recent Intel cores as "Prescott" (SSE3): Sgemm must then reload it with a vector kernel.
        Assert.StartsWith("openblas (", backend);
        Assert.Contains(Sgemm.Core, new[] { "Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "Excavator" });
    }

    private static double NormalCdf(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));

    // Numerical Recipes' Chebyshev fit of erfc (|error| < 1.2e-7, far below the KS threshold of 1.6e-3).
    private static double Erf(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + 0.5 * z);
        var erfc = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }
}
