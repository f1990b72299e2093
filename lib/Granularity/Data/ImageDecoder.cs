using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace Granularity.Data;

/// <summary>An image that cannot be used: missing, not an image, corrupt or truncated. The message names the file and the reason.</summary>
public sealed class BadImageException(string source, string reason, Exception? inner = null)
    : IOException($"{source}: {reason}", inner)
{
    /// <summary>The file (or archive member) that failed.</summary>
    public string ImagePath { get; } = source;
    public string Reason { get; } = reason;
}

/// <summary>
/// Decodes one encoded image (JPEG, or anything else SkiaSharp reads) straight into a normalised CHW float crop:
/// picks the crop with an <see cref="ImageTransform"/>, asks libjpeg for a DCT-scaled decode when the crop would still
/// be at least the output size (1/8 steps), then resamples the crop with an antialiased separable triangle filter
/// (like PIL's bilinear resize), mirroring and normalising on the way out. One instance per thread: it reuses buffers.
/// </summary>
public sealed class ImageDecoder
{
    private byte[] pixels = Array.Empty<byte>();
    private float[] rows = Array.Empty<float>();
    private float[] accumulator = Array.Empty<float>();

    /// <summary>Accept JPEGs whose data ends early (Skia fills the rest grey). Off by default: truncated files count as bad.</summary>
    public bool AcceptTruncated { get; init; }

    /// <summary>Decodes statistics of the last image: original size and the decoded (possibly DCT-scaled) size.</summary>
    public (int Width, int Height) LastOriginalSize { get; private set; }
    public (int Width, int Height) LastDecodedSize { get; private set; }

    /// <summary>
    /// Decodes <paramref name="encoded"/>, applies <paramref name="transform"/> with <paramref name="random"/>, and writes
    /// 3×S×S floats into <paramref name="destination"/>. Throws <see cref="BadImageException"/> for unusable data.
    /// </summary>
    public unsafe void DecodeInto(ReadOnlySpan<byte> encoded, string source, ImageTransform transform, ref SampleRandom random, Span<float> destination)
    {
        int size = transform.OutputSize;
        if (destination.Length < 3 * size * size) throw new ArgumentException($"destination holds {destination.Length} floats; need {3 * size * size}");
        if (encoded.Length == 0) throw new BadImageException(source, "empty file");
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data) ?? throw new BadImageException(source,
            encoded.Length >= 2 && encoded[0] == 0xFF && encoded[1] == 0xD8 ? "corrupt JPEG (unreadable header)" : "not an image SkiaSharp can decode (expected JPEG)");
        int width = codec.Info.Width, height = codec.Info.Height;
        if (width <= 0 || height <= 0) throw new BadImageException(source, $"invalid image size {width}×{height}");
        LastOriginalSize = (width, height);
        var (crop, flip) = transform.Plan(width, height, ref random);

        var decodedSize = ChooseDecodeSize(codec, width, height, crop, size);
        LastDecodedSize = (decodedSize.Width, decodedSize.Height);
        var scaled = crop.Scaled((double)decodedSize.Width / width, (double)decodedSize.Height / height);
        var horizontal = FilterBank.Create(scaled.X, scaled.Width, decodedSize.Width, size);
        var vertical = FilterBank.Create(scaled.Y, scaled.Height, decodedSize.Height, size);
        // The window of decoded pixels the filters read.
        int left = horizontal.Start.Min(), right = Enumerable.Range(0, size).Max(o => horizontal.Start[o] + horizontal.Count[o]);
        int top = vertical.Start.Min(), bottom = Enumerable.Range(0, size).Max(o => vertical.Start[o] + vertical.Count[o]);

        bool isJpeg = codec.EncodedFormat == SKEncodedImageFormat.Jpeg;
        if (isJpeg && !AcceptTruncated && !HasEndMarker(encoded)) throw new BadImageException(source, "truncated JPEG (no end-of-image marker)");
        var info = new SKImageInfo(decodedSize.Width, decodedSize.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        int windowWidth = right - left, windowRows = bottom - top, windowRowBytes = 4 * windowWidth;
        int needed = isJpeg ? windowRowBytes * windowRows : info.BytesSize;
        if (pixels.Length < needed) pixels = new byte[Math.Max(needed, pixels.Length * 5 / 4)];
        if (isJpeg)
        {
            // Scanline decoding of just the window: rows above it are skipped (entropy-decoded only), rows below are
            // never decoded, and libjpeg-turbo's column cropping limits IDCT and colour conversion to the window.
            var started = codec.StartScanlineDecode(info, new SKCodecOptions(new SKRectI(left, 0, right, decodedSize.Height)));
            if (started != SKCodecResult.Success) throw new BadImageException(source, $"corrupt JPEG ({started})");
            if (top > 0 && !codec.SkipScanlines(top)) throw new BadImageException(source, "corrupt or truncated JPEG (cannot skip to the crop)");
            int rowsRead;
            fixed (byte* p = pixels) rowsRead = codec.GetScanlines((IntPtr)p, windowRows, windowRowBytes);
            if (rowsRead < windowRows && !AcceptTruncated) throw new BadImageException(source, $"truncated or corrupt JPEG data ({rowsRead} of {windowRows} rows decoded)");
            Resample(pixels, windowRowBytes, left, top, horizontal, vertical, flip, transform, destination);
            return;
        }
        SKCodecResult result;
        fixed (byte* p = pixels) result = codec.GetPixels(info, (IntPtr)p, info.RowBytes, new SKCodecOptions());
        if (result == SKCodecResult.IncompleteInput && !AcceptTruncated) throw new BadImageException(source, "truncated image data (incomplete input)");
        if (result != SKCodecResult.Success && result != SKCodecResult.IncompleteInput) throw new BadImageException(source, $"corrupt image ({result})");
        Resample(pixels, info.RowBytes, 0, 0, horizontal, vertical, flip, transform, destination);
    }

    /// <summary>A complete JPEG ends with the EOI marker FF D9 (some writers append a few bytes after it).</summary>
    private static bool HasEndMarker(ReadOnlySpan<byte> encoded)
    {
        var tail = encoded[Math.Max(0, encoded.Length - 4096)..];
        for (int i = tail.Length - 2; i >= 0; i--)
            if (tail[i] == 0xFF && tail[i + 1] == 0xD9) return true;
        return false;
    }

    /// <summary>The smallest libjpeg DCT scale (n/8) whose decoded crop still covers the output in both directions.</summary>
    private static SKSizeI ChooseDecodeSize(SKCodec codec, int width, int height, CropRect crop, int outputSize)
    {
        var full = new SKSizeI(width, height);
        if (codec.EncodedFormat != SKEncodedImageFormat.Jpeg) return full;
        double desired = Math.Max(outputSize / crop.Width, outputSize / crop.Height);
        if (desired >= 1) return full;
        for (int numerator = Math.Max(1, (int)Math.Ceiling(desired * 8)); numerator < 8; numerator++)
        {
            var candidate = codec.GetScaledDimensions(numerator / 8f);
            if (candidate.Width >= width || candidate.Height >= height) return full;
            if (crop.Width * candidate.Width / width >= outputSize - 1e-6 && crop.Height * candidate.Height / height >= outputSize - 1e-6)
                return candidate;
        }
        return full;
    }

    /// <summary>
    /// Antialiased separable resampling to S×S, then flip and normalise into CHW. <paramref name="source"/> holds RGBA
    /// rows of the decoded window whose top-left pixel is (<paramref name="originX"/>, <paramref name="originY"/>) of the decoded image.
    /// </summary>
    private unsafe void Resample(byte[] source, int rowBytes, int originX, int originY, FilterBank horizontal, FilterBank vertical, bool flip, ImageTransform transform, Span<float> destination)
    {
        int size = transform.OutputSize;
        int firstRow = vertical.Start.Min(), lastRow = 0;
        for (int o = 0; o < size; o++) lastRow = Math.Max(lastRow, vertical.Start[o] + vertical.Count[o]);
        // Rows hold 4 floats per pixel (RGBA order, alpha unused) so one SIMD lane group carries a whole pixel.
        int rowCount = lastRow - firstRow, rowLength = 4 * size;
        if (rows.Length < rowCount * rowLength) rows = new float[rowCount * rowLength];
        if (accumulator.Length < rowLength) accumulator = new float[rowLength];

        // Horizontal pass: each needed source row → S pixels (mirrored when flipping).
        fixed (byte* src = source)
        fixed (float* rowBase = rows)
        fixed (float* weights = horizontal.Weights)
        {
            for (int r = 0; r < rowCount; r++)
            {
                byte* line = src + (long)(firstRow + r - originY) * rowBytes - 4 * originX;
                float* output = rowBase + r * rowLength;
                for (int o = 0; o < size; o++)
                {
                    int start = horizontal.Start[o], count = horizontal.Count[o];
                    float* w = weights + o * horizontal.MaxTaps;
                    uint* px = (uint*)(line + 4 * start);
                    var sum = Vector128<float>.Zero;
                    for (int k = 0; k < count; k++)
                        sum += PixelToVector(px[k]) * Vector128.Create(w[k]);
                    int target = 4 * (flip ? size - 1 - o : o);
                    sum.Store(output + target);
                }
            }
        }

        // Vertical pass and normalisation: value/255 → (value/255 − mean)/std, written as scale·value + bias.
        Span<float> scale = stackalloc float[3], bias = stackalloc float[3];
        for (int c = 0; c < 3; c++) { scale[c] = 1f / (255f * transform.Std[c]); bias[c] = -transform.Mean[c] / transform.Std[c]; }
        int plane = size * size;
        var acc = accumulator.AsSpan(0, rowLength);
        for (int o = 0; o < size; o++)
        {
            acc.Clear();
            int start = vertical.Start[o] - firstRow, count = vertical.Count[o];
            for (int k = 0; k < count; k++)
                MultiplyAdd(acc, rows.AsSpan((start + k) * rowLength, rowLength), vertical.Weights[o * vertical.MaxTaps + k]);
            int rowOffset = o * size;
            for (int x = 0; x < size; x++)
            {
                destination[rowOffset + x] = acc[4 * x] * scale[0] + bias[0];
                destination[plane + rowOffset + x] = acc[4 * x + 1] * scale[1] + bias[1];
                destination[2 * plane + rowOffset + x] = acc[4 * x + 2] * scale[2] + bias[2];
            }
        }
    }

    /// <summary>Four bytes (R, G, B, A) → four floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> PixelToVector(uint rgba)
    {
        var bytes = Vector128.CreateScalarUnsafe(rgba).AsByte();
        var words = Vector128.WidenLower(bytes);
        var ints = Vector128.WidenLower(words);
        return Vector128.ConvertToSingle(ints.AsInt32());
    }

    private static void MultiplyAdd(Span<float> accumulator, ReadOnlySpan<float> values, float weight)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && accumulator.Length >= Vector<float>.Count)
        {
            var w = new Vector<float>(weight);
            var accVectors = MemoryMarshal.Cast<float, Vector<float>>(accumulator);
            var valueVectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            for (int v = 0; v < accVectors.Length; v++) accVectors[v] += valueVectors[v] * w;
            i = accVectors.Length * Vector<float>.Count;
        }
        for (; i < accumulator.Length; i++) accumulator[i] += values[i] * weight;
    }

    /// <summary>Per output pixel: the first source pixel, the tap count and the normalised triangle-filter weights.</summary>
    internal sealed class FilterBank
    {
        public required int[] Start { get; init; }
        public required int[] Count { get; init; }
        public required float[] Weights { get; init; }
        public required int MaxTaps { get; init; }

        /// <summary>
        /// Maps [<paramref name="inStart"/>, inStart + <paramref name="inSize"/>) of a line of <paramref name="limit"/>
        /// pixels onto <paramref name="outSize"/> pixels; the filter widens with the downscale factor (antialiasing).
        /// </summary>
        public static FilterBank Create(double inStart, double inSize, int limit, int outSize)
        {
            double scale = inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = filterScale; // the triangle has radius 1 output pixel
            int maxTaps = (int)Math.Ceiling(support) * 2 + 1;
            var start = new int[outSize];
            var count = new int[outSize];
            var weights = new float[outSize * maxTaps];
            for (int o = 0; o < outSize; o++)
            {
                double center = inStart + (o + 0.5) * scale;
                int low = Math.Max(0, (int)Math.Floor(center - support));
                int high = Math.Min(limit, (int)Math.Ceiling(center + support));
                double total = 0;
                int n = 0;
                for (int x = low; x < high && n < maxTaps; x++)
                {
                    double w = 1 - Math.Abs((x + 0.5 - center) / filterScale);
                    if (w <= 0) { if (n == 0) low = x + 1; continue; }
                    weights[o * maxTaps + n++] = (float)w;
                    total += w;
                }
                if (n == 0 || total <= 0)
                {
                    low = Math.Clamp((int)Math.Floor(center), 0, limit - 1);
                    n = 1;
                    weights[o * maxTaps] = 1f;
                    total = 1;
                }
                for (int k = 0; k < n; k++) weights[o * maxTaps + k] = (float)(weights[o * maxTaps + k] / total);
                start[o] = low;
                count[o] = n;
            }
            return new FilterBank { Start = start, Count = count, Weights = weights, MaxTaps = maxTaps };
        }
    }
}
