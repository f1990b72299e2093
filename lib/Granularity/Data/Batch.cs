using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Data;

/// <summary>
/// One training or evaluation batch: images in NCHW float, labels at the granularity the source was asked for, and the
/// dataset indices of its samples (so evaluation can split results, e.g. into easy and hard samples).
/// </summary>
public sealed class Batch : IDisposable
{
    public Batch(Tensor images, Tensor labels, long[] indices)
    {
        if (images.shape.Length != 4) throw new ArgumentException($"images must be NCHW, got shape [{string.Join(", ", images.shape)}]");
        if (labels.shape.Length != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"labels must be a vector of {images.shape[0]} class ids, got shape [{string.Join(", ", labels.shape)}]");
        if (indices.Length != images.shape[0]) throw new ArgumentException($"expected {images.shape[0]} indices, got {indices.Length}");
        Images = images;
        Labels = labels;
        Indices = indices;
    }

    public Tensor Images { get; }
    public Tensor Labels { get; }
    public long[] Indices { get; }
    public int Size => Indices.Length;

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}

/// <summary>Something that yields the batches of one epoch: an in-memory tensor set, or the multi-threaded image loader.</summary>
public interface IBatchSource
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Number of classes of the labels this source yields.</summary>
    int ClassCount { get; }

    /// <summary>
    /// The batches of <paramref name="epoch"/>; order and augmentation are a pure function of the source's seed and the epoch.
    /// The caller owns (disposes) each batch.
    /// </summary>
    IEnumerable<Batch> Epoch(int epoch);
}
