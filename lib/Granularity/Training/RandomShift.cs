using static TorchSharp.torch;

namespace Granularity.Training;

/// <summary>
/// Training-time augmentation: each image moves by its own random offset of up to <c>maxShift</c> pixels in each
/// direction, the uncovered border filled with zeros (no ink). Offsets come from the caller's seeded random source.
/// </summary>
public static class RandomShift
{
    /// <summary>The offsets (dy, dx) drawn for <paramref name="count"/> images, each in [−maxShift, maxShift].</summary>
    public static (int Dy, int Dx)[] Offsets(int count, int maxShift, Random random) =>
        Enumerable.Range(0, count).Select(_ => (random.Next(-maxShift, maxShift + 1), random.Next(-maxShift, maxShift + 1))).ToArray();

    /// <summary>A new N×C×H×W tensor: image i of <paramref name="images"/> shifted by offsets[i] (content moves down/right for positive values).</summary>
    public static Tensor Apply(Tensor images, int maxShift, IReadOnlyList<(int Dy, int Dx)> offsets)
    {
        if (images.dim() != 4) throw new ArgumentException($"images must be N×C×H×W, got shape [{string.Join(", ", images.shape)}]", nameof(images));
        if (maxShift < 0) throw new ArgumentException($"maxShift must be ≥ 0, got {maxShift}", nameof(maxShift));
        if (offsets.Count != images.shape[0]) throw new ArgumentException($"{offsets.Count} offsets for {images.shape[0]} images", nameof(offsets));
        if (maxShift == 0) return images.clone();
        long height = images.shape[2], width = images.shape[3];
        using var scope = NewDisposeScope();
        var padded = nn.functional.pad(images, [maxShift, maxShift, maxShift, maxShift]);
        var shifted = new Tensor[offsets.Count];
        for (int i = 0; i < offsets.Count; i++)
        {
            var (dy, dx) = offsets[i];
            if (Math.Abs(dy) > maxShift || Math.Abs(dx) > maxShift) throw new ArgumentException($"offset ({dy}, {dx}) of image {i} exceeds maxShift {maxShift}", nameof(offsets));
            shifted[i] = padded[i].narrow(1, maxShift - dy, height).narrow(2, maxShift - dx, width);
        }
        return stack(shifted).MoveToOuterDisposeScope();
    }
}
