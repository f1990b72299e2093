using System.IO.Compression;
using Granularity.Core;
using Granularity.Data;
using SkiaSharp;
using Xunit;

namespace Granularity.Tests.Data;

/// <summary>The Omniglot zip and CIFAR-100 binary readers on files generated in the exact formats, and on the committed subsets.</summary>
public sealed class RealImageReaderTests
{
    /// <summary>A 105×105 black-on-white PNG with a bar at <paramref name="row"/> (so drawings differ).</summary>
    internal static byte[] DrawingPng(int row)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(Omniglot.OriginalSize, Omniglot.OriginalSize, SKColorType.Gray8, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using var paint = new SKPaint { Color = SKColors.Black };
            canvas.DrawRect(10, row % 90, 80, 10, paint);
        }
        using var image = SKImage.FromBitmap(bitmap);
        return image.Encode(SKEncodedImageFormat.Png, 100).ToArray();
    }

    /// <summary>Writes an official-layout zip: ROOT/Alphabet/characterNN/IIII_NN.png for the given (alphabet, character, drawing).</summary>
    internal static string WriteZip(TempFolder folder, string name, IEnumerable<(string Alphabet, int Character, int Drawing)> drawings, Func<int, byte[]>? png = null)
    {
        var path = folder.Combine(name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        var root = Path.GetFileNameWithoutExtension(name);
        zip.CreateEntry($"{root}/");
        foreach (var (alphabet, character, drawing) in drawings)
        {
            var entry = zip.CreateEntry($"{root}/{alphabet}/character{character:00}/{1000 + character:0000}_{drawing:00}.png");
            using var stream = entry.Open();
            stream.Write((png ?? (d => DrawingPng(character * 7 + d)))(drawing));
        }
        return path;
    }

    internal static IEnumerable<(string, int, int)> Drawings(string alphabet, int characters, int drawings = 20) =>
        from c in Enumerable.Range(1, characters) from d in Enumerable.Range(1, drawings) select (alphabet, c, d);

    [Fact]
    public void OmniglotZipsAreReadDecodedAndDeduplicated()
    {
        using var folder = new TempFolder();
        var first = WriteZip(folder, "images_background_small1.zip", Drawings("Alpha", 2).Concat(Drawings("Shared", 1)));
        var second = WriteZip(folder, "images_background_small2.zip", Drawings("Beta", 3).Concat(Drawings("Shared", 1)));
        var images = Omniglot.Load([first, second], imageSize: 15);
        Assert.Equal(20 * (2 + 1 + 3 + 1), images.EntriesRead);
        Assert.Equal(20, images.DuplicatesDropped);
        Assert.Equal(20 * 6, images.Count);
        Assert.Equal(["Alpha", "Beta", "Shared"], images.Alphabets);
        Assert.Equal(6, images.Characters.Count);
        Assert.Equal(Enumerable.Range(1, 20), images.DrawingNumberOf.Take(20));
        // Ink is 1, paper 0: the bar 10–80 px wide and 10 px tall covers (70 × 10) / 105² of the image.
        var mean = images.Pixels.Take(15 * 15).Average();
        Assert.InRange(mean, 700.0 / (105 * 105) - 0.01, 700.0 / (105 * 105) + 0.01);
        Assert.All(images.Pixels, p => Assert.InRange(p, 0f, 1f));
    }

    [Fact]
    public void OmniglotBadFilesGetErrorsNamingTheFile()
    {
        using var folder = new TempFolder();
        var garbage = folder.Combine("garbage.zip");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 5000).Select(i => (byte)(i * 31)).ToArray());
        Assert.Contains(garbage, Assert.Throws<InvalidDataException>(() => Omniglot.ReadZip(garbage)).Message);

        var good = WriteZip(folder, "good.zip", Drawings("Alpha", 2));
        var truncated = folder.Combine("truncated.zip");
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        Assert.Contains(truncated, Assert.Throws<InvalidDataException>(() => Omniglot.ReadZip(truncated)).Message);

        var badName = folder.Combine("badname.zip");
        using (var zip = ZipFile.Open(badName, ZipArchiveMode.Create)) using (var s = zip.CreateEntry("root/Alpha/char1/x.png").Open()) s.Write(DrawingPng(1));
        var error = Assert.Throws<InvalidDataException>(() => Omniglot.ReadZip(badName)).Message;
        Assert.Contains(badName, error);
        Assert.Contains("root/Alpha/char1/x.png", error);

        var badNumber = WriteZip(folder, "badnumber.zip", [("Alpha", 1, 21)]);
        Assert.Contains("drawing number 21", Assert.Throws<InvalidDataException>(() => Omniglot.ReadZip(badNumber)).Message);

        var corruptPng = WriteZip(folder, "corruptpng.zip", [("Alpha", 1, 1)], _ => DrawingPng(3)[..40]);
        var bad = Assert.Throws<BadImageException>(() => Omniglot.Load([corruptPng]));
        Assert.Contains("corruptpng.zip!corruptpng/Alpha/character01/1001_01.png", bad.Message);

        var conflicting = WriteZip(folder, "conflict.zip", [("Alpha", 1, 1)], _ => DrawingPng(50));
        var original = WriteZip(folder, "original.zip", [("Alpha", 1, 1)], _ => DrawingPng(20));
        Assert.Contains("differs from", Assert.Throws<InvalidDataException>(() => Omniglot.Load([original, conflicting])).Message);

        Assert.Throws<FileNotFoundException>(() => Omniglot.ReadZip(folder.Combine("missing.zip")));
    }

    [Fact]
    public void CommittedSmallSubsetsHaveTheDocumentedCountsAndChecksums()
    {
        var manifest = DatasetManifest.Load("omniglot");
        foreach (var path in Omniglot.CommittedSmallSubsets())
        {
            var file = manifest.File(Path.GetFileName(path));
            Assert.Equal(file.Bytes, new FileInfo(path).Length);
            Assert.Equal(file.Md5, ArchiveVerifier.Md5Of(path));
        }
        Assert.True(File.Exists(Path.Combine(Omniglot.CommittedFolder, "LICENSE")));
        var small1 = Omniglot.ReadZip(Omniglot.CommittedSmallSubsets()[0]);
        Assert.Equal(2720, small1.Count);
        Assert.Equal(5, small1.Select(e => e.Alphabet).Distinct().Count());
        Assert.Equal(136, small1.Select(e => e.CharacterKey).Distinct().Count());
        var union = Omniglot.Load(Omniglot.CommittedSmallSubsets(), imageSize: 8);
        Assert.Equal(2720 + 3120, union.EntriesRead);
        Assert.Equal(4840, union.Count);
        Assert.Equal(1000, union.DuplicatesDropped); // Greek (24 characters) and Latin (26) are in both subsets
        Assert.Equal(8, union.Alphabets.Count);
        Assert.Equal(242, union.Characters.Count);
        Assert.Equal(manifest.Split("small").Images, union.Count);
        Assert.All(union.Characters.GroupBy(c => c).Select(g => g.Count()), n => Assert.Equal(1, n));
        Assert.Equal(Enumerable.Repeat(20, 242), union.CharacterOf.GroupBy(c => c).OrderBy(g => g.Key).Select(g => g.Count()));

        var set = HierarchicalImageSet.FromOmniglot(union, "omniglot-small");
        Assert.Equal(242 * 14, set.Train.Length);
        Assert.Equal(242 * 2, set.Validation.Length);
        Assert.Equal(242 * 4, set.Test.Length);
        Assert.Empty(set.Train.Select(i => set.DrawingNumber![i]).Intersect(set.Test.Select(i => set.DrawingNumber![i])));
        // Normalised with the training split's own statistics: mean 0, standard deviation 1 there.
        var train = set.Gather(set.Train);
        Assert.InRange(train.Average(), -1e-3, 1e-3);
        Assert.InRange(Math.Sqrt(train.Average(v => (double)v * v)), 0.999, 1.001);
    }

    internal static (byte[] Coarse, byte[] Fine, byte[] Pixels) CifarRecords(Cifar100Tree tree, int perClass, int seed)
    {
        var random = new Random(seed);
        var fine = Enumerable.Range(0, Cifar100.FineClasses).SelectMany(f => Enumerable.Repeat((byte)f, perClass)).OrderBy(_ => random.Next()).ToArray();
        var coarse = fine.Select(f => (byte)tree.CoarseOfFine[f]).ToArray();
        var pixels = new byte[fine.Length * Cifar100.PixelBytes];
        random.NextBytes(pixels);
        return (coarse, fine, pixels);
    }

    [Fact]
    public void CifarTreeMatchesTheOfficialLabelOrder()
    {
        var tree = Cifar100.Tree();
        Assert.Equal(20, tree.CoarseNames.Count);
        Assert.Equal(100, tree.FineNames.Count);
        Assert.All(tree.CoarseOfFine.GroupBy(c => c), g => Assert.Equal(5, g.Count()));
        Assert.Equal("apple", tree.FineNames[0]);
        Assert.Equal("worm", tree.FineNames[99]);
        Assert.Equal("maple_tree", tree.FineNames[47]);
        Assert.Equal("trees", tree.CoarseNames[tree.CoarseOfFine[47]]);
        Assert.Equal("aquatic_mammals", tree.CoarseNames[0]);
        Assert.Equal("vehicles_2", tree.CoarseNames[19]);
    }

    [Fact]
    public void CifarBinaryRoundTripsAndBadFilesAreNamed()
    {
        using var folder = new TempFolder();
        var tree = Cifar100.Tree();
        var (coarse, fine, pixels) = CifarRecords(tree, perClass: 3, seed: 1);
        var path = folder.Combine("train.bin");
        Cifar100.Write(path, coarse, fine, pixels);
        Assert.Equal(300L * Cifar100.RecordBytes, new FileInfo(path).Length);
        // The layout byte by byte: record 7 starts with its coarse and fine label, then its red plane.
        var raw = File.ReadAllBytes(path);
        Assert.Equal(coarse[7], raw[7 * 3074]);
        Assert.Equal(fine[7], raw[7 * 3074 + 1]);
        Assert.Equal(pixels[7 * 3072], raw[7 * 3074 + 2]);
        var split = Cifar100.Read(path, 300, tree);
        Assert.Equal(coarse, split.Coarse);
        Assert.Equal(fine, split.Fine);
        Assert.Equal(pixels, split.Pixels);

        var truncated = folder.Combine("truncated.bin");
        File.WriteAllBytes(truncated, raw[..(raw.Length - 100)]);
        var error = Assert.Throws<InvalidDataException>(() => Cifar100.Read(truncated)).Message;
        Assert.Contains(truncated, error);
        Assert.Contains("not a whole number", error);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => Cifar100.Read(path, expectedRecords: 50_000)).Message);

        var badLabel = (byte[])raw.Clone();
        badLabel[5 * 3074 + 1] = 100;
        var badPath = folder.Combine("badlabel.bin");
        File.WriteAllBytes(badPath, badLabel);
        error = Assert.Throws<InvalidDataException>(() => Cifar100.Read(badPath)).Message;
        Assert.Contains(badPath, error);
        Assert.Contains("record 5", error);

        var wrongParent = (byte[])raw.Clone();
        wrongParent[2 * 3074] = (byte)((tree.CoarseOfFine[raw[2 * 3074 + 1]] + 1) % 20);
        var wrongPath = folder.Combine("wrongparent.bin");
        File.WriteAllBytes(wrongPath, wrongParent);
        Assert.Contains("record 2", Assert.Throws<InvalidDataException>(() => Cifar100.Read(wrongPath, tree: tree)).Message);
    }

    [Fact]
    public void CifarFolderLoadsIntoSplitsWithHeldOutValidation()
    {
        using var folder = new TempFolder();
        var tree = Cifar100.Tree();
        var root = folder.Combine(Cifar100.FolderName);
        Directory.CreateDirectory(root);
        var train = CifarRecords(tree, perClass: 6, seed: 2);
        var test = CifarRecords(tree, perClass: 2, seed: 3);
        Cifar100.Write(Path.Combine(root, "train.bin"), train.Coarse, train.Fine, train.Pixels);
        Cifar100.Write(Path.Combine(root, "test.bin"), test.Coarse, test.Fine, test.Pixels);
        File.WriteAllLines(Path.Combine(root, "fine_label_names.txt"), tree.FineNames);
        File.WriteAllLines(Path.Combine(root, "coarse_label_names.txt"), tree.CoarseNames);
        var (trainSplit, testSplit, _) = Cifar100.Load(folder.Path, checkCounts: false);
        var set = HierarchicalImageSet.FromCifar100(trainSplit, testSplit, tree, validationPerClass: 2);
        Assert.Equal(400, set.Train.Length);
        Assert.Equal(200, set.Validation.Length);
        Assert.Equal(200, set.Test.Length);
        Assert.Empty(set.Train.Intersect(set.Validation));
        Assert.Equal(3, set.Mean.Length);

        Assert.Contains("50,000", Assert.Throws<InvalidDataException>(() => Cifar100.Load(folder.Path)).Message);
        File.WriteAllLines(Path.Combine(root, "fine_label_names.txt"), tree.FineNames.Reverse());
        var error = Assert.Throws<InvalidDataException>(() => Cifar100.Load(folder.Path, checkCounts: false)).Message;
        Assert.Contains("fine_label_names.txt:1", error);
    }
}
