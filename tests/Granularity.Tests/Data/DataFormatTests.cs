using Granularity.Core;
using System.Formats.Tar;
using System.Text.Json;
using Granularity.Data;
using Granularity.Runs;
using Xunit;

namespace Granularity.Tests.Data;

public sealed class DataFormatTests
{
    [Fact]
    public void INatAnnotationNamingAnUnknownCategoryIsAClearError()
    {
        using var folder = new TempFolder();
        DataFixtures.WriteINatSplit(folder.Path, "val", categories: 3, perCategory: 1, extraCategoryInAnnotation: 10_000);
        var error = Assert.Throws<InvalidDataException>(() => INat2021.Load(folder.Path, "val"));
        Assert.Contains("val.json", error.Message);
        Assert.Contains("category 10000", error.Message);
        Assert.Contains("not among the 3 categories", error.Message);
    }

    [Fact]
    public void INatImageListedButMissingIsReportedWhenIndexing()
    {
        using var folder = new TempFolder();
        var files = DataFixtures.WriteINatSplit(folder.Path, "val", categories: 2, perCategory: 2);
        File.Delete(Path.Combine(folder.Path, files[3].FileName));
        var error = Assert.Throws<FileNotFoundException>(() => INat2021.Load(folder.Path, "val"));
        Assert.Contains(Path.GetFileName(files[3].FileName), error.Message);
        Assert.Equal(4, INat2021.Load(folder.Path, "val", checkFiles: false).Count);
    }

    [Fact]
    public void IndexRoundTripsAndResolvesItsRootRelatively()
    {
        using var folder = new TempFolder();
        var written = DataFixtures.WriteINatSplit(folder.Path, "train", categories: 3, perCategory: 3);
        var dataset = INat2021.Load(folder.Path, "train");
        var indexPath = ImageIndex.DefaultPath(folder.Path, "train");
        ImageIndex.Write(dataset, indexPath);
        // Move the whole prepared folder: the index still finds its images.
        var moved = folder.Path + "-moved";
        Directory.Move(folder.Path, moved);
        try
        {
            var read = ImageIndex.Read(Path.Combine(moved, "index", "train.gidx"));
            Assert.Equal(dataset.Count, read.Count);
            Assert.Equal(dataset.CategoryNames, read.CategoryNames);
            for (int i = 0; i < read.Count; i++)
            {
                Assert.Equal(written[i].Category, read.CategoryOf(i));
                Assert.Equal(dataset.ByteSizeOf(i), read.ByteSizeOf(i));
                Assert.StartsWith(moved, read.DisplayPathOf(i));
                var buffer = Array.Empty<byte>();
                int length = read.ReadBytes(i, ref buffer);
                Assert.Equal(File.ReadAllBytes(Path.Combine(moved, written[i].FileName)), buffer.AsSpan(0, length).ToArray());
            }
            File.WriteAllBytes(Path.Combine(moved, "index", "bad.gidx"), new byte[] { 1, 2, 3 });
            Assert.Throws<InvalidDataException>(() => ImageIndex.Read(Path.Combine(moved, "index", "bad.gidx")));
        }
        finally { Directory.Delete(moved, true); }
    }

    [Theory]
    [InlineData(TarEntryFormat.Ustar)]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    public void PerSynsetTarsAreReadInPlace(TarEntryFormat format)
    {
        using var folder = new TempFolder();
        var wnids = new[] { "n01440764", "n01443537", "n00005787" };
        var contents = wnids.Select((w, i) => DataFixtures.WriteSynsetTar(folder.Path, w, images: 3, seed: i, format)).ToList();
        Directory.CreateDirectory(folder.Combine("n00006484"));
        File.WriteAllBytes(folder.Combine("n00006484", "n00006484_1.JPEG"), DataFixtures.NoisyJpeg(50, 40, 9));
        var classList = folder.Combine("classes.txt");
        File.WriteAllLines(classList, new[] { "n00005787", "n00006484", "n01440764", "n01443537", "n09999999" });

        var (dataset, missing) = ImageNet21k.Load(folder.Path, classList);
        Assert.Equal(new[] { "n09999999" }, missing);
        Assert.Equal(10, dataset.Count);
        var buffer = Array.Empty<byte>();
        var decoder = new ImageDecoder();
        for (int i = 0; i < dataset.Count; i++)
        {
            var wnid = dataset.CategoryNames[dataset.CategoryOf(i)];
            Assert.Contains(wnid, dataset.DisplayPathOf(i));
            int length = dataset.ReadBytes(i, ref buffer);
            if (wnid != "n00006484")
            {
                var member = int.Parse(dataset.DisplayPathOf(i).Split('_').Last().Split('.')[0]);
                Assert.Equal(contents[Array.IndexOf(wnids, wnid)][member], buffer.AsSpan(0, length).ToArray());
            }
            var random = SampleRandom.For(0, 0, i);
            decoder.DecodeInto(buffer.AsSpan(0, length), dataset.DisplayPathOf(i), new EvalTransform { OutputSize = 16, ResizeSize = 16 }, ref random, new float[3 * 16 * 16]);
        }
        // A synset on disk that the label order does not know is an error naming it.
        DataFixtures.WriteSynsetTar(folder.Path, "n07777777", 1, 5);
        var error = Assert.Throws<InvalidDataException>(() => ImageNet21k.Load(folder.Path, classList));
        Assert.Contains("n07777777", error.Message);
    }

    [Theory]
    [InlineData("../evil.txt", TarEntryType.RegularFile, "x", "'..'")]
    [InlineData("ok/../../evil.txt", TarEntryType.RegularFile, "x", "'..'")]
    [InlineData("/tmp/granularity-evil.txt", TarEntryType.RegularFile, "x", "absolute path")]
    [InlineData("link", TarEntryType.SymbolicLink, "/etc/passwd", "symbolic link")]
    [InlineData("hard", TarEntryType.HardLink, "inside.txt", "hard link")]
    public void UnsafeArchiveEntriesAreRejectedByName(string entry, TarEntryType type, string content, string reason)
    {
        using var folder = new TempFolder();
        foreach (var gzip in new[] { false, true })
        {
            var archive = folder.Combine(gzip ? "bad.tar.gz" : "bad.tar");
            DataFixtures.WriteTar(archive, gzip, ("inside.txt", TarEntryType.RegularFile, "fine"), (entry, type, content));
            var target = folder.Combine("out", gzip ? "gz" : "plain");
            var error = Assert.Throws<UnsafeArchiveEntryException>(() => TarArchives.ExtractSafely(archive, target));
            Assert.Contains(entry, error.Message);
            Assert.Contains(reason, error.Message);
            Assert.Contains(Path.GetFileName(archive), error.Message);
            Assert.False(File.Exists(folder.Combine("out", "evil.txt")));
            Assert.False(File.Exists(folder.Combine("evil.txt")));
            Assert.False(File.Exists("/tmp/granularity-evil.txt"));
            Assert.False(File.Exists(Path.Combine(target, "link")));
        }
    }

    [Fact]
    public void SafeExtractionWritesNestedFilesAndResumes()
    {
        using var folder = new TempFolder();
        var archive = folder.Combine("good.tar.gz");
        DataFixtures.WriteTar(archive, true, ("a/", TarEntryType.Directory, ""), ("a/b.txt", TarEntryType.RegularFile, "hello"), ("./c.txt", TarEntryType.RegularFile, "world"));
        var target = folder.Combine("out");
        Assert.Equal(2, TarArchives.ExtractSafely(archive, target));
        Assert.Equal("hello", File.ReadAllText(Path.Combine(target, "a", "b.txt")));
        Assert.Equal("world", File.ReadAllText(Path.Combine(target, "c.txt")));
        Assert.Equal(2, TarArchives.ExtractSafely(archive, target));
        Assert.Empty(Directory.EnumerateFiles(target, "*.partial", SearchOption.AllDirectories));
    }

    private static DatasetManifest TinyManifest(string folder, params (string Name, string? Md5, long? Bytes)[] files) => new()
    {
        Name = "tiny", Title = "tiny", Homepage = "https://example.org", Source = "test", TermsOfUse = "test",
        Files = files.Select(f => new ManifestFile { Name = f.Name, Md5 = f.Md5, Bytes = f.Bytes, Extract = "tar.gz" }).ToList(),
        Splits = new() { new ManifestSplit { Name = "train_mini", Files = files.Select(f => f.Name).ToList(), Loader = "inat2021" } },
        LabelOrders = new(),
    };

    [Fact]
    public void VerificationCatchesMismatchesAndRemembersVerifiedFiles()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("a.tar.gz");
        File.WriteAllText(path, "archive content");
        var md5 = ArchiveVerifier.Md5Of(path);
        Assert.Equal("d20e7ef4b12a3ad2a7ea0ecbf8e9c3f2".Length, md5.Length);
        var manifest = TinyManifest(folder.Path, ("a.tar.gz", md5, 15));
        var progress = new RecordingProgress();
        Assert.Equal("ok", Assert.Single(ArchiveVerifier.Verify(manifest, folder.Path, null, progress)).Status);
        Assert.Equal(15, Assert.Single(progress.Updates, u => u.Finished).Total);
        Assert.Equal("ok (remembered)", Assert.Single(ArchiveVerifier.Verify(manifest, folder.Path)).Status);
        Assert.True(File.Exists(folder.Combine(ArchiveVerifier.StateFileName)));

        // Same size, different content and a new mtime: re-hashed and rejected.
        File.WriteAllText(path, "archive CONTENT");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        var mismatch = Assert.Throws<ChecksumMismatchException>(() => ArchiveVerifier.Verify(manifest, folder.Path));
        Assert.Contains("a.tar.gz", mismatch.Message);
        Assert.Contains(md5, mismatch.Message);
        // And the failure is not remembered as verified.
        Assert.Throws<ChecksumMismatchException>(() => ArchiveVerifier.Verify(manifest, folder.Path));

        var wrongSize = TinyManifest(folder.Path, ("a.tar.gz", md5, 999));
        Assert.Contains("size", Assert.Throws<ChecksumMismatchException>(() => ArchiveVerifier.Verify(wrongSize, folder.Path)).Message);
        Assert.Contains("missing", Assert.Throws<ChecksumMismatchException>(() => ArchiveVerifier.Verify(TinyManifest(folder.Path, ("b.tar.gz", md5, null)), folder.Path, new[] { "b.tar.gz" })).Message);
    }

    [Fact]
    public void PrepareVerifiesExtractsIndexesAndResumes()
    {
        using var source = new TempFolder();
        using var archives = new TempFolder();
        using var prepared = new TempFolder();
        DataFixtures.WriteINatSplit(source.Path, "train_mini", categories: 3, perCategory: 2);
        DataFixtures.TarGzFolder(source.Path, "train_mini", archives.Combine("train_mini.tar.gz"));
        DataFixtures.TarGzFolder(source.Path, "train_mini.json", archives.Combine("train_mini.json.tar.gz"));
        var manifest = TinyManifest(archives.Path,
            ("train_mini.tar.gz", ArchiveVerifier.Md5Of(archives.Combine("train_mini.tar.gz")), null),
            ("train_mini.json.tar.gz", ArchiveVerifier.Md5Of(archives.Combine("train_mini.json.tar.gz")), null));
        var log = new List<string>();
        var indexes = DatasetPreparation.Prepare(manifest, archives.Path, prepared.Path, new[] { "train_mini" }, null, log.Add);
        var dataset = ImageIndex.Read(Assert.Single(indexes));
        Assert.Equal(6, dataset.Count);
        var loader = new ImageBatchLoader(dataset, new[] { 0, 1, 1 }, new ImageLoaderOptions { BatchSize = 4, Workers = 1, Transform = new EvalTransform { OutputSize = 16, ResizeSize = 16 } });
        Assert.Equal(6, loader.Epoch(0).Sum(b => { using (b) return b.Size; }));

        log.Clear();
        DatasetPreparation.Prepare(manifest, archives.Path, prepared.Path, new[] { "train_mini" }, null, log.Add);
        Assert.Contains(log, line => line.Contains("already extracted"));
        Assert.Contains(log, line => line.Contains("ok (remembered)"));

        var corrupted = manifest with { Files = manifest.Files.Select(f => f with { Md5 = new string('0', 32) }).ToList() };
        File.Delete(archives.Combine(ArchiveVerifier.StateFileName));
        Assert.Throws<ChecksumMismatchException>(() => DatasetPreparation.Prepare(corrupted, archives.Path, prepared.Path, new[] { "train_mini" }));
    }

    [Fact]
    public void CommittedManifestsLoadAndTheirLabelOrderFilesHaveTheStatedClassCounts()
    {
        var names = Directory.EnumerateFiles(ProjectPaths.ManifestsRoot, "*.json").Select(Path.GetFileNameWithoutExtension).ToList();
        Assert.Contains("inat2021", names);
        Assert.Contains("imagenet1k", names);
        Assert.Contains("imagenet21k", names);
        foreach (var name in names)
        {
            var manifest = DatasetManifest.Load(name!);
            Assert.NotEmpty(manifest.Files);
            Assert.False(string.IsNullOrWhiteSpace(manifest.TermsOfUse), $"{name}: the manifest must state its terms of use or licence");
            Assert.True(File.Exists(Path.Combine(ProjectPaths.ManifestsRoot, name + ".md")), $"{name}.md is missing");
            foreach (var order in manifest.LabelOrders)
            {
                var path = Path.Combine(ProjectPaths.ManifestsRoot, order.File);
                var count = path.EndsWith("cifar100-tree.txt") ? Cifar100.Tree(path).FineNames.Count
                    : path.EndsWith(".txt") ? ImageNetClasses.ReadWnids(path).Length
                    : path.EndsWith(".tsv") ? ImageNetClasses.ReadImageNet1k(path).Wnids.Length
                    : File.ReadLines(path).Count(l => l.Length > 0 && !l.StartsWith('#')) - 1;
                Assert.True(order.Classes == count, $"{name}: {order.File} has {count} classes, manifest says {order.Classes}");
            }
        }
        Assert.Contains(DatasetManifest.Load("inat2021").Files, f => f.Name == "train_mini.tar.gz" && f.Md5 == "db6ed8330e634445efc8fec83ae81442");
    }
}

public sealed class ImageNet1kLoaderTests
{
    [Fact]
    public void FlatValidationFolderIsLabelledFromTheDevkitThroughIlsvrcIds()
    {
        using var folder = new TempFolder();
        var classes = Path.Combine(ProjectPaths.ManifestsRoot, "hierarchies", "imagenet1k-classes.tsv");
        Directory.CreateDirectory(folder.Combine("val"));
        for (int i = 1; i <= 3; i++) File.WriteAllBytes(folder.Combine("val", $"ILSVRC2012_val_{i:D8}.JPEG"), DataFixtures.NoisyJpeg(40, 30, i));
        Directory.CreateDirectory(folder.Combine("ILSVRC2012_devkit_t12", "data"));
        // ILSVRC2012 ids 449 (tench), 450 (goldfish), 1 — which is not index 1 of the training order.
        File.WriteAllLines(folder.Combine("ILSVRC2012_devkit_t12", "data", "ILSVRC2012_validation_ground_truth.txt"), new[] { "449", "450", "1" });
        var dataset = ImageNet1k.Load(folder.Path, "val", classes);
        var (wnids, byIlsvrc) = ImageNetClasses.ReadImageNet1k(classes);
        Assert.Equal(1000, dataset.CategoryCount);
        Assert.Equal(new[] { 0, 1, byIlsvrc[1] }, dataset.Categories);
        Assert.Equal("n01440764", dataset.CategoryNames[dataset.CategoryOf(0)]);
        Assert.NotEqual(1, byIlsvrc[1]);

        File.WriteAllLines(folder.Combine("ILSVRC2012_devkit_t12", "data", "ILSVRC2012_validation_ground_truth.txt"), new[] { "449", "1001", "1" });
        Assert.Contains(":2:", Assert.Throws<InvalidDataException>(() => ImageNet1k.Load(folder.Path, "val", classes)).Message);
    }

    [Fact]
    public void TrainClassTarsAreReadInPlaceAndMissingClassesReported()
    {
        using var folder = new TempFolder();
        var classes = Path.Combine(ProjectPaths.ManifestsRoot, "hierarchies", "imagenet1k-classes.tsv");
        DataFixtures.WriteSynsetTar(folder.Combine("train"), "n01440764", 2, 1);
        var error = Assert.Throws<InvalidDataException>(() => ImageNet1k.Load(folder.Path, "train", classes));
        Assert.Contains("999 of 1000 classes missing", error.Message);
    }
}

/// <summary>Keeps every progress update it receives.</summary>
internal sealed class RecordingProgress : Granularity.Core.IProgressReporter
{
    public List<Granularity.Core.ProgressUpdate> Updates { get; } = new();
    public void Report(Granularity.Core.ProgressUpdate update) => Updates.Add(update);
}
