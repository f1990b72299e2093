using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Granularity.Core;
using SkiaSharp;

namespace Granularity.Data;

/// <summary>One Omniglot drawing as stored in an official zip: alphabet, character, drawing number (the 01–20 suffix) and its PNG bytes.</summary>
public sealed record OmniglotEntry(string Alphabet, string Character, int DrawingNumber, string Source, byte[] Png)
{
    /// <summary>"Alphabet/characterNN": the character's identity across the official zips.</summary>
    public string CharacterKey => $"{Alphabet}/{Character}";
}

/// <summary>
/// Omniglot (Lake et al. 2015) decoded into memory: 1×S×S float images (ink = 1), and per image its alphabet, character
/// and drawing number. Byte-identical PNGs that appear in several zips (the small subsets share Greek and Latin) are
/// kept once; <see cref="DuplicatesDropped"/> counts the rest.
/// </summary>
public sealed class OmniglotImages
{
    internal OmniglotImages(int imageSize, float[] pixels, int[] alphabet, int[] character, int[] drawing,
        IReadOnlyList<string> alphabets, IReadOnlyList<string> characters, int[] alphabetOfCharacter, int entriesRead, int duplicatesDropped, IReadOnlyList<string> sources)
    {
        ImageSize = imageSize; Pixels = pixels; AlphabetOf = alphabet; CharacterOf = character; DrawingNumberOf = drawing;
        Alphabets = alphabets; Characters = characters; AlphabetOfCharacter = alphabetOfCharacter;
        EntriesRead = entriesRead; DuplicatesDropped = duplicatesDropped; Sources = sources;
    }

    public int ImageSize { get; }
    /// <summary>N × S × S floats in [0, 1], ink = 1, in the order images were first seen.</summary>
    public float[] Pixels { get; }
    public int[] AlphabetOf { get; }
    public int[] CharacterOf { get; }
    /// <summary>The file-name suffix 1–20: a replicate index of each character's 20 drawings (see data/omniglot/README.md).</summary>
    public int[] DrawingNumberOf { get; }
    /// <summary>Alphabet names in ordinal order.</summary>
    public IReadOnlyList<string> Alphabets { get; }
    /// <summary>Character keys "Alphabet/characterNN" in ordinal order.</summary>
    public IReadOnlyList<string> Characters { get; }
    public int[] AlphabetOfCharacter { get; }
    public int Count => AlphabetOf.Length;
    /// <summary>PNG entries read from all zips, duplicates included.</summary>
    public int EntriesRead { get; }
    /// <summary>Entries dropped because an identical PNG of the same drawing was already read from another zip.</summary>
    public int DuplicatesDropped { get; }
    public IReadOnlyList<string> Sources { get; }
}

/// <summary>Reads the official Omniglot zips (images_background[_smallN].zip, images_evaluation.zip) and the committed small subsets.</summary>
public static class Omniglot
{
    public const string SmallSubset1 = "images_background_small1.zip";
    public const string SmallSubset2 = "images_background_small2.zip";
    public const string Background = "images_background.zip";
    public const string Evaluation = "images_evaluation.zip";
    public const int DrawingsPerCharacter = 20;
    public const int OriginalSize = 105;

    private static readonly Regex EntryName = new(@"^(?<root>[^/]+)/(?<alphabet>[^/]+)/(?<character>character\d{2})/(?<id>\d{4})_(?<number>\d{2})\.png$", RegexOptions.CultureInvariant);

    /// <summary>The folder holding the committed small subsets (data/omniglot under the repository).</summary>
    public static string CommittedFolder => Path.Combine(ProjectPaths.RepositoryRoot, "data", "omniglot");

    /// <summary>The two committed small subsets, checked to exist.</summary>
    public static IReadOnlyList<string> CommittedSmallSubsets()
    {
        var files = new[] { SmallSubset1, SmallSubset2 }.Select(f => Path.Combine(CommittedFolder, f)).ToList();
        foreach (var file in files)
            if (!File.Exists(file)) throw new FileNotFoundException($"{file}: the committed Omniglot small subset is missing (it ships with the repository under data/omniglot/)", file);
        return files;
    }

    /// <summary>
    /// Reads every drawing of one zip. Entry names must follow <c>ROOT/Alphabet/characterNN/IIII_NN.png</c> with NN in
    /// 01–20; anything else (and a zip that is corrupt or truncated) is an error naming the file and the entry.
    /// </summary>
    public static List<OmniglotEntry> ReadZip(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: Omniglot zip not found", path);
        var entries = new List<OmniglotEntry>();
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries)
            {
                if (entry.FullName.EndsWith('/')) continue;
                var name = entry.FullName.Replace('\\', '/');
                var match = EntryName.Match(name);
                if (!match.Success)
                    throw new InvalidDataException($"{path}: entry '{name}': expected ROOT/Alphabet/characterNN/IIII_NN.png (an official Omniglot zip)");
                int number = int.Parse(match.Groups["number"].Value, System.Globalization.CultureInfo.InvariantCulture);
                if (number is < 1 or > DrawingsPerCharacter)
                    throw new InvalidDataException($"{path}: entry '{name}': drawing number {number} is outside 01–{DrawingsPerCharacter}");
                if (entry.Length > 1 << 20) throw new InvalidDataException($"{path}: entry '{name}': {entry.Length:N0} bytes is too large for a 105×105 drawing");
                var bytes = new byte[entry.Length];
                using (var stream = entry.Open()) stream.ReadExactly(bytes);
                entries.Add(new OmniglotEntry(match.Groups["alphabet"].Value, match.Groups["character"].Value, number, $"{path}!{name}", bytes));
            }
        }
        catch (Exception error) when (error is InvalidDataException or EndOfStreamException or IOException && !error.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: corrupt or truncated zip ({error.Message})", error);
        }
        if (entries.Count == 0) throw new InvalidDataException($"{path}: no Omniglot drawings (expected PNG entries ROOT/Alphabet/characterNN/IIII_NN.png)");
        return entries;
    }

    /// <summary>
    /// Reads and decodes every drawing of <paramref name="zipPaths"/> at <paramref name="imageSize"/> px (area average of
    /// the 105 px original). A drawing met again with identical bytes is dropped and counted; the same drawing with
    /// different bytes is an error naming both entries.
    /// </summary>
    public static OmniglotImages Load(IReadOnlyList<string> zipPaths, int imageSize = 28)
    {
        if (zipPaths.Count == 0) throw new ArgumentException("Omniglot.Load needs at least one zip");
        if (imageSize is < 4 or > OriginalSize) throw new ArgumentException($"imageSize must be in [4, {OriginalSize}] px, got {imageSize}");
        var kept = new List<OmniglotEntry>();
        var seen = new Dictionary<(string Character, int Number), (string Hash, string Source)>();
        int read = 0, dropped = 0;
        foreach (var path in zipPaths)
            foreach (var entry in ReadZip(path))
            {
                read++;
                var hash = Convert.ToHexString(SHA256.HashData(entry.Png));
                var key = (entry.CharacterKey, entry.DrawingNumber);
                if (seen.TryGetValue(key, out var first))
                {
                    if (first.Hash != hash)
                        throw new InvalidDataException($"{entry.Source}: drawing {entry.DrawingNumber:00} of {entry.CharacterKey} differs from {first.Source}, read before; the zips disagree");
                    dropped++;
                    continue;
                }
                seen[key] = (hash, entry.Source);
                kept.Add(entry);
            }

        var alphabets = kept.Select(e => e.Alphabet).Distinct().Order(StringComparer.Ordinal).ToList();
        var characters = kept.Select(e => e.CharacterKey).Distinct().Order(StringComparer.Ordinal).ToList();
        var alphabetIndex = alphabets.Select((a, i) => (a, i)).ToDictionary(p => p.a, p => p.i, StringComparer.Ordinal);
        var characterIndex = characters.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        var alphabetOfCharacter = characters.Select(c => alphabetIndex[c[..c.IndexOf('/')]]).ToArray();
        var pixels = new float[kept.Count * imageSize * imageSize];
        var weights = AreaWeights(OriginalSize, imageSize);
        try
        {
            Parallel.For(0, kept.Count, () => new byte[OriginalSize * OriginalSize], (i, _, gray) =>
            {
                DecodeGray(kept[i], gray);
                Downsample(gray, weights, pixels.AsSpan(i * imageSize * imageSize, imageSize * imageSize), imageSize);
                return gray;
            }, _ => { });
        }
        catch (AggregateException error) when (error.InnerExceptions.FirstOrDefault() is BadImageException bad)
        {
            throw new BadImageException(bad.ImagePath, bad.Reason, error);
        }
        return new OmniglotImages(imageSize, pixels,
            kept.Select(e => alphabetIndex[e.Alphabet]).ToArray(), kept.Select(e => characterIndex[e.CharacterKey]).ToArray(),
            kept.Select(e => e.DrawingNumber).ToArray(), alphabets, characters, alphabetOfCharacter, read, dropped, zipPaths.ToList());
    }

    private static unsafe void DecodeGray(OmniglotEntry entry, byte[] gray)
    {
        using var data = SKData.CreateCopy(entry.Png);
        using var codec = SKCodec.Create(data) ?? throw new BadImageException(entry.Source, "not a PNG SkiaSharp can decode (corrupt or truncated)");
        if (codec.Info.Width != OriginalSize || codec.Info.Height != OriginalSize)
            throw new BadImageException(entry.Source, $"image is {codec.Info.Width}×{codec.Info.Height}, expected {OriginalSize}×{OriginalSize}");
        var info = new SKImageInfo(OriginalSize, OriginalSize, SKColorType.Gray8, SKAlphaType.Opaque);
        fixed (byte* target = gray)
        {
            var result = codec.GetPixels(info, (IntPtr)target);
            if (result != SKCodecResult.Success) throw new BadImageException(entry.Source, $"PNG decode failed ({result}: corrupt or truncated)");
        }
    }

    /// <summary>For each output pixel, the input pixels it covers and their area weights (an exact box filter).</summary>
    private static (int Index, float Weight)[][] AreaWeights(int input, int output)
    {
        var scale = (double)input / output;
        var result = new (int, float)[output][];
        for (int o = 0; o < output; o++)
        {
            double start = o * scale, end = (o + 1) * scale;
            var taps = new List<(int, float)>();
            for (int i = (int)Math.Floor(start); i < Math.Min(input, (int)Math.Ceiling(end)); i++)
            {
                var overlap = Math.Min(end, i + 1) - Math.Max(start, i);
                if (overlap > 1e-9) taps.Add((i, (float)(overlap / scale)));
            }
            result[o] = taps.ToArray();
        }
        return result;
    }

    private static void Downsample(byte[] gray, (int Index, float Weight)[][] weights, Span<float> destination, int size)
    {
        Span<float> rows = stackalloc float[size * OriginalSize];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < OriginalSize; x++)
            {
                float sum = 0;
                foreach (var (index, weight) in weights[y]) sum += weight * (255 - gray[index * OriginalSize + x]);
                rows[y * OriginalSize + x] = sum;
            }
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                float sum = 0;
                foreach (var (index, weight) in weights[x]) sum += weight * rows[y * OriginalSize + index];
                destination[y * size + x] = Math.Clamp(sum / 255f, 0f, 1f); // ink (black on white) becomes 1; clamp float rounding
            }
    }
}
