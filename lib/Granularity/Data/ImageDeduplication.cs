using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Granularity.Core;
using Granularity.Runs;

namespace Granularity.Data;

/// <summary>One image's fingerprints: SHA-256 of its encoded bytes (exact copies) and a 64-bit perceptual hash (near copies).</summary>
public readonly record struct ImageHash(string Key, string Sha256, ulong Perceptual);

/// <summary>
/// Perceptual hashing: the image, whole, resampled to a 32×32 grey thumbnail; its 2-D DCT; one bit per coefficient of the
/// 8×8 lowest frequencies, set when the coefficient exceeds their median (the DC term left out of the median). Resizing,
/// re-encoding and small crops move few of those bits; different pictures differ in about half of them.
/// </summary>
public static class PerceptualHash
{
    /// <summary>Thumbnail side in pixels.</summary>
    public const int ThumbnailSize = 32;

    /// <summary>Low-frequency block side: 8 × 8 = 64 bits.</summary>
    public const int BlockSize = 8;

    private static readonly double[,] cosines = Cosines();

    private sealed record WholeImage : ImageTransform
    {
        public override (CropRect Crop, bool Flip) Plan(int width, int height, ref SampleRandom random) => (new CropRect(0, 0, width, height), false);
    }

    private static readonly WholeImage thumbnail = new() { OutputSize = ThumbnailSize, Mean = [0f, 0f, 0f], Std = [1f, 1f, 1f] };

    /// <summary>The hash of an encoded image; <paramref name="decoder"/> and <paramref name="pixels"/> are reused per thread.</summary>
    public static ulong Of(ReadOnlySpan<byte> encoded, string source, ImageDecoder decoder, float[] pixels)
    {
        var random = new SampleRandom(0);
        decoder.DecodeInto(encoded, source, thumbnail, ref random, pixels);
        const int n = ThumbnailSize;
        var grey = new double[n * n];
        for (int i = 0; i < n * n; i++) grey[i] = 0.299 * pixels[i] + 0.587 * pixels[n * n + i] + 0.114 * pixels[2 * n * n + i];
        // Separable DCT-II, only the 8 lowest frequencies in each direction.
        var rows = new double[n * BlockSize];
        for (int y = 0; y < n; y++)
            for (int u = 0; u < BlockSize; u++)
            {
                double sum = 0;
                for (int x = 0; x < n; x++) sum += grey[y * n + x] * cosines[u, x];
                rows[y * BlockSize + u] = sum;
            }
        var block = new double[BlockSize * BlockSize];
        for (int v = 0; v < BlockSize; v++)
            for (int u = 0; u < BlockSize; u++)
            {
                double sum = 0;
                for (int y = 0; y < n; y++) sum += rows[y * BlockSize + u] * cosines[v, y];
                block[v * BlockSize + u] = sum;
            }
        var ac = block.Skip(1).Order().ToArray();
        double median = (ac[ac.Length / 2 - 1] + ac[ac.Length / 2]) / 2;
        ulong hash = 0;
        for (int k = 0; k < block.Length; k++) if (block[k] > median) hash |= 1UL << k;
        return hash;
    }

    /// <summary>Bits in which two hashes differ (0–64).</summary>
    public static int Distance(ulong a, ulong b) => BitOperations.PopCount(a ^ b);

    private static double[,] Cosines()
    {
        var table = new double[BlockSize, ThumbnailSize];
        for (int u = 0; u < BlockSize; u++)
            for (int x = 0; x < ThumbnailSize; x++) table[u, x] = Math.Cos((2 * x + 1) * u * Math.PI / (2 * ThumbnailSize));
        return table;
    }
}

/// <summary>Why an image was judged a copy of a reference image.</summary>
public enum DuplicateKind
{
    /// <summary>The same encoded bytes (equal SHA-256).</summary>
    Exact,
    /// <summary>Perceptual hashes within the distance threshold.</summary>
    Near,
}

/// <summary>One image found to duplicate a reference image.</summary>
public sealed record Duplicate(string Key, DuplicateKind Kind, int Distance, string ReferenceKey);

/// <summary>What a de-duplication pass found: the duplicates, and what was compared with what.</summary>
public sealed record DeduplicationReport(IReadOnlyList<Duplicate> Duplicates, int Candidates, int References, int MaxDistance, int Unreadable)
{
    public int Exact => Duplicates.Count(d => d.Kind == DuplicateKind.Exact);
    public int Near => Duplicates.Count(d => d.Kind == DuplicateKind.Near);

    /// <summary>"dropped 12 of 14,197,122 images: 3 exact copies, 9 near-duplicates (≤ 10 bits) of 50,000 reference images".</summary>
    public string Describe(string candidates, string references) =>
        $"dropped {Duplicates.Count:N0} of {Candidates:N0} {candidates} images: {Exact:N0} exact copies, {Near:N0} near-duplicates " +
        $"(perceptual hash within {MaxDistance} of 64 bits) of the {References:N0} {references} images" + (Unreadable > 0 ? $"; {Unreadable:N0} unreadable images kept" : "");
}

/// <summary>
/// Removes from a pretraining set the images that duplicate images of a target's evaluation split (as BiT and ViT remove
/// ImageNet-1k validation images from ImageNet-21k): exact copies by SHA-256, near copies (resized, re-encoded, slightly
/// cropped) by a perceptual hash within <see cref="DefaultMaxDistance"/> bits. Reference hashes are cached in a hash file;
/// the result is a de-duplication list the dataset opener reads. Both files are plain text, and malformed lines are
/// refused naming the line.
/// </summary>
public static class ImageDeduplication
{
    /// <summary>
    /// Hamming threshold in bits of 64. ImageDeduplicationTests measured altered copies at 0–12 bits (a 4% crop reaches 12)
    /// and distinct generated pictures at 18–46; a higher threshold catches larger crops at the price of false drops.
    /// </summary>
    public const int DefaultMaxDistance = 12;

    /// <summary>Where the list of <paramref name="split"/>'s images duplicating <paramref name="referenceName"/> lives: ROOT/index/SPLIT.duplicates-of-REFERENCE.tsv.</summary>
    public static string ListPath(string root, string split, string referenceName) => Path.Combine(root, "index", $"{split}.duplicates-of-{referenceName}.tsv");

    /// <summary>Where a reference split's hashes are cached: ROOT/index/SPLIT.hashes.tsv.</summary>
    public static string HashPath(string referenceRoot, string referenceSplit) => Path.Combine(referenceRoot, "index", $"{referenceSplit}.hashes.tsv");

    private const string HashHeader = "# granularity image hashes v1: sha256<TAB>perceptual hash (16 hex digits)<TAB>image key";
    private const string ListHeader = "# granularity de-duplication list v1: image key<TAB>exact|near<TAB>hash distance<TAB>reference image key";

    /// <summary>Hashes every image of <paramref name="dataset"/> (in parallel); unreadable images get no hash and are counted.</summary>
    public static (List<ImageHash> Hashes, int Unreadable) Hash(ImageDataset dataset, IProgressReporter? progress = null, int threads = 0)
    {
        var result = new ImageHash?[dataset.Count];
        int unreadable = 0, done = 0;
        var task = new ProgressTask(progress, "hash", dataset.Count, "images");
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        Parallel.For(0, dataset.Count, options, () => (Buffer: Array.Empty<byte>(), Decoder: new ImageDecoder(), Pixels: new float[3 * PerceptualHash.ThumbnailSize * PerceptualHash.ThumbnailSize]),
            (i, _, local) =>
            {
                try
                {
                    int length = dataset.ReadBytes(i, ref local.Buffer);
                    var bytes = local.Buffer.AsSpan(0, length);
                    result[i] = new ImageHash(dataset.KeyOf(i), Convert.ToHexStringLower(SHA256.HashData(bytes)), PerceptualHash.Of(bytes, dataset.DisplayPathOf(i), local.Decoder, local.Pixels));
                }
                catch (BadImageException) { Interlocked.Increment(ref unreadable); }
                int count = Interlocked.Increment(ref done);
                if (count % 1024 == 0) lock (task) task.Report(count, dataset.Name);
                return local;
            }, _ => { });
        task.Report(dataset.Count, dataset.Name);
        return (result.Where(h => h is not null).Select(h => h!.Value).ToList(), unreadable);
    }

    /// <summary>The reference image each candidate duplicates, if any: an exact SHA-256 match first, else the nearest perceptual hash within <paramref name="maxDistance"/>.</summary>
    public static List<Duplicate> Find(IReadOnlyList<ImageHash> candidates, IReadOnlyList<ImageHash> references, int maxDistance = DefaultMaxDistance)
    {
        if (maxDistance is < 0 or > 64) throw new ArgumentOutOfRangeException(nameof(maxDistance), maxDistance, "a Hamming distance of a 64-bit hash is 0–64");
        var bySha = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var reference in references) bySha.TryAdd(reference.Sha256, reference.Key);
        var perceptual = references.Select(r => r.Perceptual).ToArray();
        var found = new Duplicate?[candidates.Count];
        Parallel.For(0, candidates.Count, i =>
        {
            var candidate = candidates[i];
            if (bySha.TryGetValue(candidate.Sha256, out var exact)) { found[i] = new Duplicate(candidate.Key, DuplicateKind.Exact, 0, exact); return; }
            int best = maxDistance + 1, bestIndex = -1;
            for (int r = 0; r < perceptual.Length; r++)
            {
                int distance = BitOperations.PopCount(candidate.Perceptual ^ perceptual[r]);
                if (distance < best) { best = distance; bestIndex = r; }
            }
            if (bestIndex >= 0) found[i] = new Duplicate(candidate.Key, DuplicateKind.Near, best, references[bestIndex].Key);
        });
        return found.Where(d => d is not null).Select(d => d!).ToList();
    }

    /// <summary>
    /// The whole step: hashes <paramref name="references"/> (or reads them from <paramref name="referenceHashFile"/> when it
    /// exists, else writes it there), hashes <paramref name="candidates"/>, writes the de-duplication list to <paramref name="listPath"/>.
    /// </summary>
    public static DeduplicationReport Run(ImageDataset candidates, ImageDataset references, string referenceHashFile, string listPath,
        int maxDistance = DefaultMaxDistance, IProgressReporter? progress = null, int threads = 0, Action<string>? log = null)
    {
        List<ImageHash> referenceHashes;
        if (File.Exists(referenceHashFile))
        {
            referenceHashes = ReadHashes(referenceHashFile);
            log?.Invoke($"{referenceHashes.Count:N0} reference hashes read from {referenceHashFile}");
        }
        else
        {
            (referenceHashes, var unreadableReferences) = Hash(references, progress, threads);
            WriteHashes(referenceHashFile, referenceHashes);
            log?.Invoke($"hashed {referenceHashes.Count:N0} reference images of {references.Name} into {referenceHashFile}" + (unreadableReferences > 0 ? $" ({unreadableReferences:N0} unreadable)" : ""));
        }
        var (candidateHashes, unreadable) = Hash(candidates, progress, threads);
        var duplicates = Find(candidateHashes, referenceHashes, maxDistance);
        var report = new DeduplicationReport(duplicates, candidates.Count, referenceHashes.Count, maxDistance, unreadable);
        WriteList(listPath, report, $"{candidates.Name} against {references.Name}");
        return report;
    }

    public static void WriteHashes(string path, IEnumerable<ImageHash> hashes)
    {
        var text = new StringBuilder(HashHeader).Append('\n');
        foreach (var hash in hashes) text.Append(hash.Sha256).Append('\t').Append(hash.Perceptual.ToString("x16", CultureInfo.InvariantCulture)).Append('\t').Append(hash.Key).Append('\n');
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>Reads a hash file; a malformed line is an <see cref="InputFormatException"/> naming it and the expected form.</summary>
    public static List<ImageHash> ReadHashes(string path)
    {
        var hashes = new List<ImageHash>();
        foreach (var (line, number) in DataLines(path))
        {
            var fields = line.Split('\t');
            if (fields.Length != 3 || fields[0].Length != 64 || !fields[0].All(char.IsAsciiHexDigitLower)
                || fields[1].Length != 16 || !ulong.TryParse(fields[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var perceptual) || fields[2].Length == 0)
                throw InputFormatException.AtLine(path, number, "expected 'sha256 (64 lower-case hex digits)<TAB>perceptual hash (16 hex digits)<TAB>image key'");
            hashes.Add(new ImageHash(fields[2], fields[0], perceptual));
        }
        return hashes;
    }

    public static void WriteList(string path, DeduplicationReport report, string what)
    {
        var text = new StringBuilder(ListHeader).Append('\n')
            .Append("# ").Append(what).Append(": ").Append(report.Describe("candidate", "reference")).Append('\n');
        foreach (var d in report.Duplicates)
            text.Append(d.Key).Append('\t').Append(d.Kind == DuplicateKind.Exact ? "exact" : "near").Append('\t').Append(d.Distance).Append('\t').Append(d.ReferenceKey).Append('\n');
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>Reads a de-duplication list; a malformed line (or a key listed twice) is an <see cref="InputFormatException"/> naming it.</summary>
    public static List<Duplicate> ReadList(string path)
    {
        var list = new List<Duplicate>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (line, number) in DataLines(path))
        {
            var fields = line.Split('\t');
            if (fields.Length != 4 || fields[0].Length == 0 || fields[3].Length == 0 || fields[1] is not ("exact" or "near")
                || !int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var distance) || distance > 64)
                throw InputFormatException.AtLine(path, number, "expected 'image key<TAB>exact|near<TAB>hash distance (0–64)<TAB>reference image key'");
            if (!seen.TryAdd(fields[0], number)) throw InputFormatException.AtLine(path, number, $"image '{fields[0]}' already listed at line {seen[fields[0]]}");
            list.Add(new Duplicate(fields[0], fields[1] == "exact" ? DuplicateKind.Exact : DuplicateKind.Near, distance, fields[3]));
        }
        return list;
    }

    /// <summary>Which images of <paramref name="dataset"/> the list drops; a listed key that is not in the dataset is an error (the list belongs to another preparation).</summary>
    public static bool[] Dropped(ImageDataset dataset, IReadOnlyList<Duplicate> list, string listPath)
    {
        var index = new Dictionary<string, int>(dataset.Count, StringComparer.Ordinal);
        for (int i = 0; i < dataset.Count; i++) index[dataset.KeyOf(i)] = i;
        var dropped = new bool[dataset.Count];
        foreach (var duplicate in list)
        {
            if (!index.TryGetValue(duplicate.Key, out var i))
                throw new InvalidDataException($"{listPath}: image '{duplicate.Key}' is not in {dataset.Name} ({dataset.Count:N0} images): the list was made for another preparation; run `granularity data dedup` again");
            dropped[i] = true;
        }
        return dropped;
    }

    private static IEnumerable<(string Line, int Number)> DataLines(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found", path);
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0 || line[0] == '#') continue;
            yield return (line, number);
        }
    }
}
