using Granularity.Core;
using Granularity.Hierarchy;

namespace Granularity.Data;

/// <summary>CIFAR-100 records in memory: 3×32×32 bytes per image (R plane, G plane, B plane, row-major), coarse and fine label.</summary>
public sealed record Cifar100Split(string Source, byte[] Pixels, byte[] Coarse, byte[] Fine)
{
    public int Count => Coarse.Length;
}

/// <summary>The CIFAR-100 20 → 100 tree (data-manifests/hierarchies/cifar100-tree.txt): class names in label order and the superclass of each class.</summary>
public sealed record Cifar100Tree(IReadOnlyList<string> CoarseNames, IReadOnlyList<string> FineNames, int[] CoarseOfFine);

/// <summary>Reads the binary version of CIFAR-100 (cifar-100-binary.tar.gz: train.bin, test.bin) and its committed tree.</summary>
public static class Cifar100
{
    public const int ImageSize = 32;
    public const int PixelBytes = 3 * ImageSize * ImageSize;
    public const int RecordBytes = 2 + PixelBytes;
    public const int CoarseClasses = 20;
    public const int FineClasses = 100;
    public const int TrainImages = 50_000;
    public const int TestImages = 10_000;
    public const string FolderName = "cifar-100-binary";
    public const string TreeResource = "cifar100-tree.txt";

    /// <summary>
    /// Reads a CIFAR-100 binary file: records of 1 coarse byte, 1 fine byte and 3,072 pixel bytes. A length that is not a
    /// whole number of records, a label out of range, or a count other than <paramref name="expectedRecords"/> (when
    /// given) is an error naming the file (and the record).
    /// </summary>
    public static Cifar100Split Read(string path, int? expectedRecords = null, Cifar100Tree? tree = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: CIFAR-100 binary file not found (extract cifar-100-binary.tar.gz; see data-manifests/cifar100.md)", path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
            throw new InvalidDataException($"{path}: {bytes.Length:N0} bytes is not a whole number of {RecordBytes:N0}-byte records (1 coarse label, 1 fine label, 3,072 pixels): truncated or not CIFAR-100 binary");
        int count = bytes.Length / RecordBytes;
        if (expectedRecords is { } expected && count != expected)
            throw new InvalidDataException($"{path}: {count:N0} records, expected {expected:N0} (truncated or the wrong file)");
        var coarse = new byte[count];
        var fine = new byte[count];
        var pixels = new byte[(long)count * PixelBytes];
        for (int i = 0; i < count; i++)
        {
            int offset = i * RecordBytes;
            coarse[i] = bytes[offset];
            fine[i] = bytes[offset + 1];
            if (coarse[i] >= CoarseClasses) throw new InvalidDataException($"{path}: record {i} (byte {offset:N0}): coarse label {coarse[i]}, expected 0–{CoarseClasses - 1}");
            if (fine[i] >= FineClasses) throw new InvalidDataException($"{path}: record {i} (byte {offset + 1:N0}): fine label {fine[i]}, expected 0–{FineClasses - 1}");
            if (tree is not null && tree.CoarseOfFine[fine[i]] != coarse[i])
                throw new InvalidDataException($"{path}: record {i}: fine label {fine[i]} ({tree.FineNames[fine[i]]}) with coarse label {coarse[i]} ({tree.CoarseNames[coarse[i]]}); the tree puts it under {tree.CoarseOfFine[fine[i]]} ({tree.CoarseNames[tree.CoarseOfFine[fine[i]]]})");
            Buffer.BlockCopy(bytes, offset + 2, pixels, i * PixelBytes, PixelBytes);
        }
        return new Cifar100Split(path, pixels, coarse, fine);
    }

    /// <summary>
    /// The 20 → 100 tree from its edge list (<c>superclass class</c> per line): superclasses and classes each in
    /// alphabetical order, which is CIFAR-100's label order (coarse_label_names.txt, fine_label_names.txt).
    /// </summary>
    public static Cifar100Tree Tree(string? path = null)
    {
        List<Edge> edges;
        if (path is not null) edges = EdgeList.Read(path);
        else
        {
            using var stream = typeof(Cifar100).Assembly.GetManifestResourceStream("hierarchies/" + TreeResource)
                ?? throw new FileNotFoundException($"the library lacks its embedded {TreeResource} (data-manifests/hierarchies/{TreeResource})");
            using var reader = new StreamReader(stream);
            edges = EdgeList.Parse(reader, $"data-manifests/hierarchies/{TreeResource}");
        }
        var coarseNames = edges.Select(e => e.Parent).Distinct().Order(StringComparer.Ordinal).ToList();
        var fineNames = edges.Select(e => e.Child).Distinct().Order(StringComparer.Ordinal).ToList();
        var source = edges.Count > 0 ? edges[0].Source : path ?? TreeResource;
        if (coarseNames.Count != CoarseClasses || fineNames.Count != FineClasses || edges.Count != FineClasses)
            throw new InvalidDataException($"{source}: expected {FineClasses} edges from {CoarseClasses} superclasses to {FineClasses} distinct classes, got {edges.Count} edges, {coarseNames.Count} superclasses, {fineNames.Count} classes");
        var coarseIndex = coarseNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        var coarseOfFine = fineNames.Select(f => coarseIndex[edges.First(e => e.Child == f).Parent]).ToArray();
        return new Cifar100Tree(coarseNames, fineNames, coarseOfFine);
    }

    /// <summary>
    /// Reads train.bin and test.bin from <paramref name="folder"/> (the extracted cifar-100-binary folder, or a folder
    /// holding it), checking counts, labels against the tree, and the name files when present.
    /// </summary>
    public static (Cifar100Split Train, Cifar100Split Test, Cifar100Tree Tree) Load(string folder, bool checkCounts = true)
    {
        var root = Directory.Exists(Path.Combine(folder, FolderName)) ? Path.Combine(folder, FolderName) : folder;
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{folder}: CIFAR-100 folder not found; run `granularity data prepare --dataset cifar100 --archives FOLDER --splits train,test`");
        var tree = Tree();
        CheckNames(Path.Combine(root, "coarse_label_names.txt"), tree.CoarseNames);
        CheckNames(Path.Combine(root, "fine_label_names.txt"), tree.FineNames);
        var train = Read(Path.Combine(root, "train.bin"), checkCounts ? TrainImages : null, tree);
        var test = Read(Path.Combine(root, "test.bin"), checkCounts ? TestImages : null, tree);
        return (train, test, tree);
    }

    private static void CheckNames(string path, IReadOnlyList<string> expected)
    {
        if (!File.Exists(path)) return;
        var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        for (int i = 0; i < Math.Max(names.Count, expected.Count); i++)
        {
            var got = i < names.Count ? names[i] : "(missing)";
            var want = i < expected.Count ? expected[i] : "(none)";
            if (got != want) throw new InvalidDataException($"{path}:{i + 1}: class name '{got}', the committed tree has '{want}' at label {i}");
        }
    }

    /// <summary>Writes records in the exact binary layout (tests and fixtures).</summary>
    public static void Write(string path, byte[] coarse, byte[] fine, byte[] pixels)
    {
        if (coarse.Length != fine.Length || pixels.Length != (long)coarse.Length * PixelBytes)
            throw new ArgumentException($"need one coarse and one fine label and {PixelBytes} pixel bytes per record");
        var bytes = new byte[coarse.Length * RecordBytes];
        for (int i = 0; i < coarse.Length; i++)
        {
            bytes[i * RecordBytes] = coarse[i];
            bytes[i * RecordBytes + 1] = fine[i];
            Buffer.BlockCopy(pixels, i * PixelBytes, bytes, i * RecordBytes + 2, PixelBytes);
        }
        AtomicFile.WriteAllBytes(path, bytes);
    }
}
