using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Training.Models;

/// <summary>How a conv body turns its last feature map into the feature vector the head reads.</summary>
public enum FeaturePool
{
    /// <summary>The maximum over the map, per channel: a detector fires somewhere in the image.</summary>
    GlobalMax,
    /// <summary>The mean over the map, per channel.</summary>
    GlobalAverage,
    /// <summary>The whole map, flattened (channels × height × width values): keeps where a stroke is.</summary>
    Flatten,
}

/// <summary>
/// A plain conv body of one block per entry of <see cref="Channels"/>: conv3×3 (no bias) → BN → ReLU, with a 2×2 max pool
/// after every block but the last; then <see cref="FeaturePool"/>. The real-image protocol study chooses its depth, widths and pooling.
/// </summary>
public sealed class ConvNetBody : nn.Module<Tensor, Tensor>, IFeatureBody
{
    private readonly nn.Module<Tensor, Tensor> features;

    public ConvNetBody(IReadOnlyList<int> channels, FeaturePool pool, int inputChannels, int imageSize) : base(nameof(ConvNetBody))
    {
        if (channels is not { Count: > 0 } || channels.Any(c => c < 1)) throw new ArgumentException($"channels must be a non-empty list of counts ≥ 1, got [{string.Join(", ", channels ?? [])}]", nameof(channels));
        if (inputChannels < 1) throw new ArgumentException($"inputChannels must be ≥ 1, got {inputChannels}", nameof(inputChannels));
        var mapSize = MapSize(channels.Count, imageSize);
        if (mapSize < 1) throw new ArgumentException($"{channels.Count} blocks pool a {imageSize} px image {channels.Count - 1} times, below 1 px; use fewer blocks or larger images", nameof(channels));
        Channels = channels.ToArray();
        Pool = pool;
        FeatureCount = pool == FeaturePool.Flatten ? channels[^1] * mapSize * mapSize : channels[^1];
        var layers = new List<nn.Module<Tensor, Tensor>>();
        int input = inputChannels;
        for (int block = 0; block < channels.Count; block++)
        {
            layers.Add(nn.Conv2d(input, channels[block], 3, padding: 1, bias: false));
            layers.Add(nn.BatchNorm2d(channels[block]));
            layers.Add(nn.ReLU());
            if (block < channels.Count - 1) layers.Add(nn.MaxPool2d(2));
            input = channels[block];
        }
        features = nn.Sequential(layers);
        RegisterComponents();
    }

    /// <summary>The side of the last feature map: each 2×2 pool floors the size by half.</summary>
    public static int MapSize(int blocks, int imageSize)
    {
        int size = imageSize;
        for (int i = 0; i < blocks - 1; i++) size /= 2;
        return size;
    }

    /// <summary>The convolutions' multiply-accumulates per image: the body's deterministic cost.</summary>
    public static long MultiplyAccumulates(IReadOnlyList<int> channels, int inputChannels, int imageSize)
    {
        long total = 0;
        int size = imageSize, input = inputChannels;
        for (int block = 0; block < channels.Count; block++)
        {
            total += (long)size * size * input * channels[block] * 9;
            input = channels[block];
            if (block < channels.Count - 1) size /= 2;
        }
        return total;
    }

    public IReadOnlyList<int> Channels { get; }
    public FeaturePool Pool { get; }
    public int FeatureCount { get; }

    public override Tensor forward(Tensor images)
    {
        using var maps = features.call(images);
        return Pool switch
        {
            FeaturePool.GlobalMax => maps.amax(new long[] { 2, 3 }),
            FeaturePool.GlobalAverage => maps.mean(new long[] { 2, 3 }),
            _ => maps.flatten(1),
        };
    }
}
