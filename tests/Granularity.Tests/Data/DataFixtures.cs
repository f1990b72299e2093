using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Granularity.Data;
using SkiaSharp;

namespace Granularity.Tests.Data;

public static class DataFixtures
{
    /// <summary>A JPEG with a smooth colour field plus per-pixel noise (so it is not trivially compressible).</summary>
    public static byte[] NoisyJpeg(int width, int height, int seed, int quality = 90)
    {
        var random = SampleRandom.For(seed, 77, 0);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var pixels = new byte[width * height * 4];
        double fx = random.Uniform(0.5, 3), fy = random.Uniform(0.5, 3), phase = random.Uniform(0, 6);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int o = 4 * (y * width + x);
                double u = (double)x / width, v = (double)y / height;
                pixels[o] = Clamp(128 + 90 * Math.Sin(fx * 6.28 * u + phase) + 30 * (random.NextDouble() - 0.5));
                pixels[o + 1] = Clamp(128 + 90 * Math.Cos(fy * 6.28 * v + phase) + 30 * (random.NextDouble() - 0.5));
                pixels[o + 2] = Clamp(128 + 60 * Math.Sin(6.28 * (u + v)) + 30 * (random.NextDouble() - 0.5));
                pixels[o + 3] = 255;
            }
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        return Encode(bitmap, SKEncodedImageFormat.Jpeg, quality);
    }

    /// <summary>An image whose left half is one colour and right half another (for crop/flip/normalise checks).</summary>
    public static byte[] TwoHalves(int width, int height, SKColor left, SKColor right, SKEncodedImageFormat format = SKEncodedImageFormat.Jpeg)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(left);
            using var paint = new SKPaint { Color = right };
            canvas.DrawRect(width / 2, 0, width - width / 2, height, paint);
        }
        return Encode(bitmap, format, 95);
    }

    private static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality);
        return data.ToArray();
    }

    private static byte Clamp(double v) => (byte)Math.Clamp((int)v, 0, 255);

    /// <summary>
    /// An iNat2021-style split under <paramref name="root"/>: <c>SPLIT.json</c> (COCO-style) and
    /// <c>SPLIT/NNNNN_Kingdom_…/uuid.jpg</c>, <paramref name="perCategory"/> images for each of <paramref name="categories"/> categories.
    /// Returns the file names in annotation order with their category.
    /// </summary>
    public static List<(string FileName, int Category)> WriteINatSplit(string root, string split, int categories, int perCategory, int size = 48, int extraCategoryInAnnotation = -1)
    {
        var images = new List<object>();
        var annotations = new List<object>();
        var cats = new List<object>();
        var written = new List<(string, int)>();
        for (int c = 0; c < categories; c++)
        {
            var dir = $"{c:D5}_Animalia_Chordata_Aves_Order{c}_Family{c}_Genus{c}_species{c}";
            cats.Add(new { id = c, name = $"Genus{c} species{c}", common_name = $"bird {c}", supercategory = "Birds", kingdom = "Animalia", image_dir_name = dir });
            for (int k = 0; k < perCategory; k++)
            {
                int id = c * 1000 + k;
                var fileName = $"{split}/{dir}/{Guid.NewGuid()}.jpg";
                var path = Path.Combine(root, fileName);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, NoisyJpeg(size + 7 * k % 13, size - 5 * c % 9, id));
                images.Add(new { id, width = size, height = size, file_name = fileName, license = 0, rights_holder = "test", date = "2020-01-01", latitude = 0.0, longitude = 0.0, location_uncertainty = 1 });
                annotations.Add(new { id, image_id = id, category_id = extraCategoryInAnnotation >= 0 && written.Count == 0 ? extraCategoryInAnnotation : c });
                written.Add((fileName, c));
            }
        }
        var json = JsonSerializer.Serialize(new { info = new { year = 2021 }, images, annotations, categories = cats, licenses = Array.Empty<object>() });
        File.WriteAllText(Path.Combine(root, split + ".json"), json);
        return written;
    }

    /// <summary>An ImageNet-21k-style per-synset tar <c>WNID.tar</c> holding <c>WNID_k.JPEG</c> members; returns the members' bytes.</summary>
    public static List<byte[]> WriteSynsetTar(string folder, string wnid, int images, int seed, TarEntryFormat format = TarEntryFormat.Ustar)
    {
        Directory.CreateDirectory(folder);
        var contents = new List<byte[]>();
        using var stream = File.Create(Path.Combine(folder, wnid + ".tar"));
        using var writer = new TarWriter(stream, format);
        for (int k = 0; k < images; k++)
        {
            var bytes = NoisyJpeg(40 + k, 30 + 2 * k, seed * 100 + k);
            contents.Add(bytes);
            // A long member name exercises pax/GNU long-name records in the in-place reader.
            var name = k == 1 && format != TarEntryFormat.V7 ? $"{wnid}_{new string('x', 120)}_{k}.JPEG" : $"{wnid}_{k}.JPEG";
            TarEntry entry = format switch
            {
                TarEntryFormat.Pax => new PaxTarEntry(TarEntryType.RegularFile, name),
                TarEntryFormat.Gnu => new GnuTarEntry(TarEntryType.RegularFile, name),
                _ => new UstarTarEntry(TarEntryType.RegularFile, name.Length > 100 ? $"{wnid}_{k}.JPEG" : name),
            };
            entry.DataStream = new MemoryStream(bytes);
            writer.WriteEntry(entry);
        }
        return contents;
    }

    /// <summary>A tar (optionally gzip'd) with the given entries: (name, type, content or link target).</summary>
    public static void WriteTar(string path, bool gzip, params (string Name, TarEntryType Type, string Content)[] entries)
    {
        using var file = File.Create(path);
        using Stream stream = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        using var writer = new TarWriter(stream, TarEntryFormat.Pax);
        foreach (var (name, type, content) in entries)
        {
            var entry = new PaxTarEntry(type, name);
            if (type is TarEntryType.SymbolicLink or TarEntryType.HardLink) entry.LinkName = content;
            else if (type == TarEntryType.RegularFile) entry.DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
            writer.WriteEntry(entry);
        }
    }

    /// <summary>Packs a folder's content (relative names) into a tar.gz, as the iNat2021 archives are.</summary>
    public static void TarGzFolder(string sourceRoot, string relative, string archivePath)
    {
        using var file = File.Create(archivePath);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var writer = new TarWriter(gzip, TarEntryFormat.Pax);
        var full = Path.Combine(sourceRoot, relative);
        if (File.Exists(full)) { writer.WriteEntry(full, relative); return; }
        foreach (var path in Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Order())
            writer.WriteEntry(path, Path.GetRelativePath(sourceRoot, path).Replace('\\', '/'));
    }
}
