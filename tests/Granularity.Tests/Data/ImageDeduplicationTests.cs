using Granularity.Core;
using Granularity.Data;
using Granularity.Experiments;
using Granularity.Training;
using SkiaSharp;
using Xunit;
using Xunit.Abstractions;

namespace Granularity.Tests.Data;

/// <summary>De-duplication against a target's evaluation images, on generated pictures and their altered copies.</summary>
public sealed class ImageDeduplicationTests(ITestOutputHelper output)
{
    /// <summary>A picture: a two-colour gradient with a few filled circles and rectangles, all placed by <paramref name="seed"/>.</summary>
    private static SKBitmap Scene(int seed, int width = 200, int height = 150)
    {
        var random = new Random(seed);
        SKColor Colour() => new((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        using (var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height), [Colour(), Colour()], SKShaderTileMode.Clamp))
        using (var background = new SKPaint { Shader = shader })
            canvas.DrawRect(0, 0, width, height, background);
        for (int k = 0; k < 6; k++)
        {
            using var paint = new SKPaint { Color = Colour(), IsAntialias = true };
            float x = random.Next(width), y = random.Next(height), size = 15 + random.Next(45);
            if (k % 2 == 0) canvas.DrawCircle(x, y, size, paint);
            else canvas.DrawRect(x - size, y - size / 2, 2 * size, size, paint);
        }
        return bitmap;
    }

    private static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format = SKEncodedImageFormat.Jpeg, int quality = 90)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality);
        return data.ToArray();
    }

    private static SKBitmap Resized(SKBitmap bitmap, double scale)
    {
        var resized = new SKBitmap(new SKImageInfo((int)(bitmap.Width * scale), (int)(bitmap.Height * scale), SKColorType.Rgba8888, SKAlphaType.Premul));
        bitmap.ScalePixels(resized, SKFilterQuality.High);
        return resized;
    }

    private static SKBitmap Cropped(SKBitmap bitmap, double share)
    {
        int dx = (int)(bitmap.Width * share), dy = (int)(bitmap.Height * share);
        var cropped = new SKBitmap(new SKImageInfo(bitmap.Width - dx, bitmap.Height - dy, SKColorType.Rgba8888, SKAlphaType.Premul));
        bitmap.ExtractSubset(cropped, new SKRectI(dx / 2, dy / 2, bitmap.Width - (dx - dx / 2), bitmap.Height - (dy - dy / 2)));
        return cropped.Copy();
    }

    /// <summary>The altered copies of one picture a duplicate search must catch, by name.</summary>
    private static IEnumerable<(string Alteration, byte[] Bytes)> NearCopies(SKBitmap original)
    {
        using var half = Resized(original, 0.5);
        using var larger = Resized(original, 1.6);
        using var cropped = Cropped(original, 0.04);
        using var croppedLess = Cropped(original, 0.02);
        using var croppedSmall = Resized(croppedLess, 0.7);
        yield return ("resized to 50%", Encode(half));
        yield return ("resized to 160%", Encode(larger));
        yield return ("re-encoded at JPEG quality 40", Encode(original, quality: 40));
        yield return ("re-encoded as PNG", Encode(original, SKEncodedImageFormat.Png));
        yield return ("cropped by 4%", Encode(cropped));
        yield return ("cropped by 2%, resized to 70%, quality 60", Encode(croppedSmall, quality: 60));
    }

    private static ulong Hash(byte[] bytes) =>
        PerceptualHash.Of(bytes, "test image", new ImageDecoder(), new float[3 * PerceptualHash.ThumbnailSize * PerceptualHash.ThumbnailSize]);

    [Fact]
    public void NearCopiesFallWithinTheThresholdAndDistinctPicturesFarOutside()
    {
        var nearDistances = new List<(string, int)>();
        var originals = new List<ulong>();
        for (int seed = 0; seed < 40; seed++)
        {
            using var scene = Scene(seed);
            var original = Hash(Encode(scene));
            originals.Add(original);
            if (seed < 10)
                foreach (var (alteration, bytes) in NearCopies(scene)) nearDistances.Add((alteration, PerceptualHash.Distance(original, Hash(bytes))));
        }
        var distinct = new List<int>();
        for (int a = 0; a < originals.Count; a++)
            for (int b = a + 1; b < originals.Count; b++) distinct.Add(PerceptualHash.Distance(originals[a], originals[b]));
        foreach (var group in nearDistances.GroupBy(d => d.Item1))
            output.WriteLine($"{group.Key}: distance {group.Min(d => d.Item2)}–{group.Max(d => d.Item2)} over {group.Count()} pictures");
        output.WriteLine($"distinct pictures: distance {distinct.Min()}–{distinct.Max()} (median {distinct.Order().ElementAt(distinct.Count / 2)}) over {distinct.Count} pairs");
        Assert.All(nearDistances, d => Assert.True(d.Item2 <= ImageDeduplication.DefaultMaxDistance, $"{d.Item1}: distance {d.Item2}"));
        Assert.True(distinct.Min() > ImageDeduplication.DefaultMaxDistance, $"two distinct pictures within {distinct.Min()} bits");
    }

    [Fact]
    public void TheStepDropsExactAndNearCopiesOfReferenceImagesOnlyAndSaysHowMany()
    {
        using var folder = new TempFolder();
        string Write(string relative, byte[] bytes)
        {
            var path = folder.Combine(relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            return relative;
        }
        var references = new ImageDatasetBuilder("reference-val", folder.Combine("reference"), ["c0"]);
        var candidates = new ImageDatasetBuilder("pretraining", folder.Combine("pretraining"), ["c0", "c1"]);
        var expected = new Dictionary<string, DuplicateKind>();
        for (int seed = 0; seed < 8; seed++)
        {
            using var scene = Scene(1000 + seed);
            var bytes = Encode(scene);
            references.AddFile(Write($"reference/val/{seed}.jpg", bytes)[("reference/".Length)..], bytes.Length, 0);
            if (seed == 0) { candidates.AddFile(Write("pretraining/c0/exact.jpg", bytes)["pretraining/".Length..], bytes.Length, 0); expected["c0/exact.jpg"] = DuplicateKind.Exact; }
            if (seed is >= 1 and <= 3)
            {
                var (alteration, copy) = NearCopies(scene).ElementAt(seed + 1);
                var name = $"c1/near-{seed}.jpg";
                candidates.AddFile(Write("pretraining/" + name, copy)["pretraining/".Length..], copy.Length, 1);
                expected[name] = DuplicateKind.Near;
            }
        }
        for (int seed = 0; seed < 30; seed++)
        {
            var bytes = Encode(Scene(2000 + seed));
            candidates.AddFile(Write($"pretraining/c{seed % 2}/other-{seed}.jpg", bytes)["pretraining/".Length..], bytes.Length, seed % 2);
        }
        var candidateSet = candidates.Build();
        var hashFile = folder.Combine("reference", "index", "val.hashes.tsv");
        var listPath = folder.Combine("pretraining", "index", "train.duplicates-of-reference.tsv");
        var report = ImageDeduplication.Run(candidateSet, references.Build(), hashFile, listPath, threads: 1);
        output.WriteLine(report.Describe("pretraining", "reference"));
        Assert.Equal(expected.OrderBy(e => e.Key), report.Duplicates.Select(d => KeyValuePair.Create(d.Key, d.Kind)).OrderBy(e => e.Key));
        Assert.Equal((1, 3, 34, 8), (report.Exact, report.Near, report.Candidates, report.References));
        Assert.Contains("dropped 4 of 34 pretraining images: 1 exact copies, 3 near-duplicates", report.Describe("pretraining", "reference"));

        var list = ImageDeduplication.ReadList(listPath);
        Assert.Equal(report.Duplicates, list);
        Assert.Equal(8, ImageDeduplication.ReadHashes(hashFile).Count);
        var dropped = ImageDeduplication.Dropped(candidateSet, list, listPath);
        Assert.Equal(4, dropped.Count(d => d));
        Assert.All(Enumerable.Range(0, candidateSet.Count), i => Assert.Equal(expected.ContainsKey(candidateSet.KeyOf(i)), dropped[i]));
        // A rerun reads the cached reference hashes and finds the same.
        Assert.Equal(report.Duplicates, ImageDeduplication.Run(candidateSet, references.Build(), hashFile, listPath, threads: 1).Duplicates);
    }

    [Theory]
    [InlineData("c0/a.jpg\tnear\t3\tval/1.jpg\nc0/b.jpg\tsimilar\t3\tval/2.jpg\n", 3, "exact|near")]
    [InlineData("c0/a.jpg\tnear\t3\n", 2, "expected 'image key")]
    [InlineData("c0/a.jpg\tnear\t65\tval/1.jpg\n", 2, "hash distance (0–64)")]
    [InlineData("c0/a.jpg\tnear\t3\tval/1.jpg\nc0/a.jpg\texact\t0\tval/2.jpg\n", 3, "already listed at line 2")]
    public void AMalformedDeduplicationListIsRefusedNamingTheLine(string body, int line, string expected)
    {
        using var folder = new TempFolder();
        var path = folder.Combine("list.tsv");
        File.WriteAllText(path, "# header\n" + body);
        var error = Assert.Throws<InputFormatException>(() => ImageDeduplication.ReadList(path));
        Assert.Equal($"line {line}", error.Position);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("0123\t00000000000000ff\tval/1.jpg\n")]
    [InlineData("{0}\t00ff\tval/1.jpg\n")]
    [InlineData("{0}\t00000000000000zz\tval/1.jpg\n")]
    [InlineData("{0}\t00000000000000ff\n")]
    public void AMalformedHashFileIsRefusedNamingTheLine(string body)
    {
        using var folder = new TempFolder();
        var path = folder.Combine("val.hashes.tsv");
        var sha = new string('a', 64);
        File.WriteAllText(path, $"# header\n{sha}\t0000000000000001\tval/0.jpg\n" + string.Format(body, sha));
        var error = Assert.Throws<InputFormatException>(() => ImageDeduplication.ReadHashes(path));
        Assert.Equal("line 3", error.Position);
        Assert.Contains("sha256 (64 lower-case hex digits)", error.Message);
    }

    [Fact]
    public void TheImageNetFullConfigDeduplicatesByNameAndCanSwitchItOff()
    {
        var full = ImageNetExperimentConfig.Full().Template.Dataset;
        Assert.Equal(DatasetConfig.ImageNet1kValidationDuplicates, full.Deduplication);
        Assert.True(full.Deduplicates);
        var off = full with { Deduplication = "none" };
        Assert.False(off.Validated().Deduplicates);
        Assert.Contains("DatasetConfig.Deduplication must be one of none, imagenet1k-val", Assert.Throws<ArgumentException>(() => (full with { Deduplication = "imagenet-val" }).Validated()).Message);
        // Off by default, and left out of the JSON then: configs without the step keep their run-folder keys.
        Assert.DoesNotContain("deduplication", JsonFiles.Serialize(new DatasetConfig("x")));
        Assert.Contains("\"deduplication\": \"imagenet1k-val\"", JsonFiles.Serialize(full));

        using var folder = new TempFolder();
        var missing = Assert.Throws<FileNotFoundException>(() => RealDatasets.DuplicatesOfImageNet1kVal(full, new ImageDatasetBuilder("in21k", folder.Path, ["n0"]).Build(), folder.Path, folder.Combine("1k")));
        Assert.Contains("granularity data dedup", missing.Message);
        Assert.Contains("\"none\"", missing.Message);
        Assert.Null(RealDatasets.DuplicatesOfImageNet1kVal(off, new ImageDatasetBuilder("in21k", folder.Path, ["n0"]).Build(), folder.Path, folder.Path));
    }
}
