using Granularity.Data;
using SkiaSharp;
using Xunit;

namespace Granularity.Tests.Data;

public sealed class ImageDecodingTests
{
    private static float[] Decode(byte[] bytes, ImageTransform transform, long seed = 0, long epoch = 0, long index = 0, ImageDecoder? decoder = null)
    {
        var output = new float[3 * transform.OutputSize * transform.OutputSize];
        var random = SampleRandom.For(seed, epoch, index);
        (decoder ?? new ImageDecoder()).DecodeInto(bytes, "test.jpg", transform, ref random, output);
        return output;
    }

    [Fact]
    public void EvalTransformNormalisesAndKeepsLeftRightAndFlipMirrors()
    {
        var bytes = DataFixtures.TwoHalves(200, 100, new SKColor(255, 0, 0), new SKColor(0, 0, 255));
        var eval = new EvalTransform { OutputSize = 32, ResizeSize = 32 };
        var output = Decode(bytes, eval);
        int plane = 32 * 32;
        // Centre crop of a 200×100 image: columns 50..150, so the left half of the output is red and the right blue.
        float redLeft = output[16 * 32 + 2], blueRight = output[2 * plane + 16 * 32 + 29], redRight = output[16 * 32 + 29];
        Assert.InRange(redLeft, (0.95f - 0.485f) / 0.229f, (1f - 0.485f) / 0.229f + 0.01f);
        Assert.InRange(blueRight, (0.95f - 0.406f) / 0.225f, (1f - 0.406f) / 0.225f + 0.01f);
        Assert.InRange(redRight, -0.485f / 0.229f - 0.01f, (0.05f - 0.485f) / 0.229f);

        var flipAlways = new TrainAugmentation { OutputSize = 32, ScaleMin = 1, ScaleMax = 1, RatioMin = 2, RatioMax = 2, FlipProbability = 1 };
        var flipped = Decode(bytes, flipAlways);
        Assert.True(flipped[16 * 32 + 2] < 0 && flipped[16 * 32 + 29] > 1, "a flipped image has red on the right");
    }

    [Fact]
    public void AugmentationIsAPureFunctionOfSeedEpochAndIndex()
    {
        var bytes = DataFixtures.NoisyJpeg(120, 90, seed: 1);
        var train = new TrainAugmentation { OutputSize = 40 };
        Assert.Equal(Decode(bytes, train, 7, 2, 11), Decode(bytes, train, 7, 2, 11, new ImageDecoder()));
        Assert.NotEqual(Decode(bytes, train, 7, 2, 11), Decode(bytes, train, 7, 3, 11));
        Assert.NotEqual(Decode(bytes, train, 7, 2, 11), Decode(bytes, train, 8, 2, 11));
        Assert.All(Decode(bytes, train, 7, 2, 11), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void DctScaledDecodeIsUsedForLargeImagesAndMatchesAFullDecode()
    {
        var jpeg = DataFixtures.TwoHalves(1600, 1200, new SKColor(200, 60, 20), new SKColor(20, 90, 220));
        var png = DataFixtures.TwoHalves(1600, 1200, new SKColor(200, 60, 20), new SKColor(20, 90, 220), SKEncodedImageFormat.Png);
        var eval = new EvalTransform();
        var decoder = new ImageDecoder();
        var fromJpeg = Decode(jpeg, eval, decoder: decoder);
        Assert.Equal((1600, 1200), decoder.LastOriginalSize);
        Assert.True(decoder.LastDecodedSize.Width < 800, $"expected a DCT-scaled decode, got {decoder.LastDecodedSize}");
        Assert.True(decoder.LastDecodedSize.Height >= 224 * 256 / 224.0 - 1);
        var fromPng = Decode(png, eval, decoder: decoder);
        Assert.Equal((1600, 1200), decoder.LastDecodedSize);
        double meanAbs = fromJpeg.Zip(fromPng, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanAbs < 0.05, $"scaled JPEG decode differs from the full PNG decode by {meanAbs:F3} on average");
    }

    [Fact]
    public void WindowedScanlineDecodeOfRandomCropsMatchesAFullDecodeOfTheSamePixels()
    {
        // The PNG holds exactly the JPEG's fully decoded pixels, so only the decode path differs (window + DCT scaling vs full).
        var jpeg = DataFixtures.NoisyJpeg(640, 480, seed: 4, quality: 95);
        using var full = SKBitmap.Decode(jpeg);
        using var image = SKImage.FromBitmap(full);
        var png = image.Encode(SKEncodedImageFormat.Png, 100).ToArray();
        var train = new TrainAugmentation { OutputSize = 64 };
        for (int index = 0; index < 12; index++)
        {
            var fromJpeg = Decode(jpeg, train, 1, 0, index);
            var fromPng = Decode(png, train, 1, 0, index);
            double meanAbs = fromJpeg.Zip(fromPng, (a, b) => Math.Abs(a - b)).Average();
            Assert.True(meanAbs < 0.08, $"crop {index}: windowed JPEG decode differs from the full decode by {meanAbs:F3} on average");
        }
    }

    [Fact]
    public void BadImagesAreReportedWithTheReason()
    {
        var train = new TrainAugmentation { OutputSize = 16 };
        var good = DataFixtures.NoisyJpeg(64, 64, 3);
        var truncated = good.AsSpan(0, good.Length / 2).ToArray();
        // Garbage in the header segments (quantisation and Huffman tables, frame size) after a valid SOI marker.
        var corrupt = good.ToArray();
        var noise = SampleRandom.For(5, 5, 5);
        for (int i = 2; i < 400; i++) corrupt[i] = (byte)noise.NextInt(256);
        var text = System.Text.Encoding.UTF8.GetBytes("this is not a JPEG");
        Assert.Contains("truncated", Assert.Throws<BadImageException>(() => Decode(truncated, train)).Message);
        Assert.Contains("not an image", Assert.Throws<BadImageException>(() => Decode(text, train)).Message);
        Assert.Throws<BadImageException>(() => Decode(Array.Empty<byte>(), train));
        Assert.Contains("corrupt", Assert.Throws<BadImageException>(() => Decode(corrupt, train)).Message);
        Assert.Equal(3 * 16 * 16, Decode(truncated, train, decoder: new ImageDecoder { AcceptTruncated = true }).Length);
    }

    [Fact]
    public void RandomResizedCropStaysInsideTheImageWithinScaleAndRatio()
    {
        var train = new TrainAugmentation();
        for (int i = 0; i < 2000; i++)
        {
            var random = SampleRandom.For(1, 0, i);
            int w = 50 + i % 450, h = 40 + (i * 7) % 400;
            var (crop, _) = train.Plan(w, h, ref random);
            Assert.True(crop.X >= 0 && crop.Y >= 0 && crop.X + crop.Width <= w && crop.Y + crop.Height <= h, $"crop {crop} outside {w}×{h}");
            Assert.True(crop.Width >= 1 && crop.Height >= 1);
        }
    }
}
