using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Training.Models;

/// <summary>
/// The Quick-mode body of the synthetic pilot (docs/synthetic-hierarchy.md, "Training recipe"): three conv3×3+BN+ReLU blocks
/// (16, 32, <see cref="FeatureCount"/> channels, the first two followed by 2×2 max pooling) and a global max pool.
/// </summary>
public sealed class SmallCnnBody : nn.Module<Tensor, Tensor>, IFeatureBody
{
    private readonly nn.Module<Tensor, Tensor> features;

    public SmallCnnBody(int featureCount = 256, int inputChannels = 3) : base(nameof(SmallCnnBody))
    {
        if (featureCount < 1) throw new ArgumentException($"featureCount must be ≥ 1, got {featureCount}");
        if (inputChannels < 1) throw new ArgumentException($"inputChannels must be ≥ 1, got {inputChannels}");
        FeatureCount = featureCount;
        features = nn.Sequential(
            nn.Conv2d(inputChannels, 16, 3, padding: 1, bias: false), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding: 1, bias: false), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, featureCount, 3, padding: 1, bias: false), nn.BatchNorm2d(featureCount), nn.ReLU());
        RegisterComponents();
    }

    public int FeatureCount { get; }

    public override Tensor forward(Tensor images)
    {
        // Channels-last strides (the same values, an NHWC layout) let libtorch's CPU convolutions, batch norms and max
        // pools take their vectorised paths: 20–40% faster steps at 3×32×32 (docs/benchmarks.md). A one-channel image
        // has no channel axis to move, and there the NCHW kernels measured as fast.
        using var channelsLast = images.shape[1] > 1 ? images.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : null;
        using var maps = features.call(channelsLast ?? images);
        // Global max pool: a glyph detector fires somewhere in the image; averaging would dilute a small local pattern.
        return maps.amax(new long[] { 2, 3 });
    }
}
