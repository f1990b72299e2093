using Granularity.Core;
using Granularity.Notebook;
using Granularity.Theory;
using TorchSharp;

namespace Granularity.Tests.Theory;

/// <summary>Small configurations and helpers shared by the theory tests.</summary>
internal static class TheoryTestSupport
{
    static TheoryTestSupport() => TorchRuntime.EnsureNativesLoaded();

    /// <summary>A fast configuration (d = 60, k = 3, σ = 0.15 per coordinate) for unit tests.</summary>
    public static TheoryConfig Small(int seed = 0) => new TheoryConfig
    {
        NoiseStd = 0.15, Dimension = 60, SubclassesPerSuperclass = 3, Steps = 60, EvalEvery = 20, TestSamplesPerKind = 200, TransferSamples = 200, TransferSteps = 30, FinalTestSamplesPerKind = 300, Seed = seed,
    }.Validate();

    public static void EnsureNatives() => TorchRuntime.EnsureNativesLoaded();

    public static float[] Values(torch.Tensor tensor) => tensor.cpu().to(torch.ScalarType.Float32).data<float>().ToArray();

    public static long[] Longs(torch.Tensor tensor) => tensor.cpu().to(torch.ScalarType.Int64).data<long>().ToArray();

    public static string TemporaryFolder() => TempFolder.Create("theory");
}
