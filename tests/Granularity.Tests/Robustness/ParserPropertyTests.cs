using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Granularity.Core;
using Granularity.Data;
using Granularity.Hierarchy;
using Granularity.Runs;
using Granularity.Tests.Data;
using Granularity.Training;
using SkiaSharp;
using Xunit;
using Xunit.Abstractions;

namespace Granularity.Tests.Robustness;

/// <summary>
/// Random and mutated inputs thrown at every parser we own. Each input must parse or raise one of our error types
/// (<see cref="InputFormatException"/>, <see cref="BadImageException"/>, or an InvalidDataException from the older
/// parsers) whose message names the file; any other exception, or an input taking over 5 s, fails the test. Inputs come
/// from CsCheck generators driven by fixed PCG seeds (stream = the parser, state = the input's index), so every run tries
/// the same inputs; the counts are in docs/robustness.md.
/// </summary>
public sealed class ParserPropertyTests(ITestOutputHelper output)
{
    /// <summary>Valid input with random damage: bit flips, byte overwrites, inserted tokens, deleted or duplicated runs, truncation.</summary>
    private static Gen<byte[]> Mutations(byte[] valid, params string[] tokens)
    {
        var tokenBytes = tokens.Concat(new[] { "\n", "\0", "\"", ",", "-1", "99999999999999999999", "NaN", "null", "..", "/" }).Select(Encoding.UTF8.GetBytes).ToArray();
        var edit = Gen.Select(Gen.Int[0, 6], Gen.Int[0, Math.Max(1, valid.Length)], Gen.Int[1, 64], Gen.Int[0, 255], Gen.Int[0, tokenBytes.Length - 1]);
        return Gen.Select(edit.Array[1, 6], Gen.Int[0, 9]).Select(t =>
        {
            var (edits, wholeRandom) = t;
            var bytes = new List<byte>(valid);
            foreach (var (kind, at, length, value, token) in edits)
            {
                int position = Math.Min(at, bytes.Count);
                switch (kind)
                {
                    case 0: if (position < bytes.Count) bytes[position] ^= (byte)(1 << (value % 8)); break;
                    case 1: if (position < bytes.Count) bytes[position] = (byte)value; break;
                    case 2: bytes.InsertRange(position, tokenBytes[token]); break;
                    case 3: bytes.RemoveRange(position, Math.Min(length, bytes.Count - position)); break;
                    case 4: bytes.InsertRange(position, bytes.Skip(position).Take(length).ToList()); break;
                    case 5: bytes.RemoveRange(position, bytes.Count - position); break; // truncate
                    default: for (int k = position; k < Math.Min(bytes.Count, position + length); k++) bytes[k] = (byte)((value * 31 + k) & 0xFF); break;
                }
            }
            if (wholeRandom == 0) // one in ten: nothing of the valid input kept
                for (int k = 0; k < bytes.Count; k++) bytes[k] = (byte)((edits[0].Item4 * 131 + k * 17) & 0xFF);
            return bytes.ToArray();
        });
    }

    private static Gen<byte[]> MutatedText(string valid, params string[] tokens) => Mutations(Encoding.UTF8.GetBytes(valid), tokens);

    private static bool IsOurs(Exception error, string source) => error switch
    {
        InputFormatException or BadImageException => error.Message.Contains(source, StringComparison.Ordinal) || error.Message.Contains(Path.GetFileName(source), StringComparison.Ordinal),
        InvalidDataException or FileNotFoundException or DirectoryNotFoundException => error.Message.Contains(Path.GetFileName(source), StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>Runs <paramref name="count"/> inputs of <paramref name="gen"/> (PCG stream <paramref name="stream"/>) through <paramref name="parse"/>.</summary>
    private void Check<T>(string parser, Gen<T> gen, int count, uint stream, string source, Action<T> parse)
    {
        int parsed = 0, rejected = 0;
        var slowest = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        for (ulong index = 0; index < (ulong)count; index++)
        {
            var input = gen.Generate(new PCG(stream, index), null, out _);
            var one = Stopwatch.StartNew();
            try { parse(input); parsed++; }
            catch (Exception error) when (IsOurs(error, source)) { rejected++; }
            catch (Exception error)
            {
                throw new Xunit.Sdk.XunitException($"{parser}: input {index} (PCG stream {stream}, state {index}) escaped as {error.GetType().Name}: {error.Message}\n{error.StackTrace}");
            }
            if (one.Elapsed > slowest) slowest = one.Elapsed;
            Assert.True(one.Elapsed < TimeSpan.FromSeconds(5), $"{parser}: input {index} took {one.Elapsed.TotalSeconds:0.0} s");
        }
        output.WriteLine($"{parser}: {count} inputs, {parsed} parsed, {rejected} rejected with our error, slowest {slowest.TotalMilliseconds:0} ms, total {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(count, parsed + rejected);
    }

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    [Fact]
    public void EdgeLists()
    {
        var valid = string.Join('\n', HierarchyArtifacts.Lines(HierarchyArtifacts.WordNetIsA).Take(40).Select(l => l.Line)) + "\n# comment\nLife,Animalia\nAnimalia,Chordata\n";
        Check("edge list", MutatedText(valid, " ", "\t", "#"), 1000, 1, "edges.txt", bytes =>
        {
            var edges = EdgeList.ParseText(Text(bytes), "edges.txt");
            if (edges.Count > 0) LabelTree.FromEdges(edges, "edges.txt");
        });
    }

    [Fact]
    public void WordNetArtifacts()
    {
        var small = WordNetIsA.Committed().Restrict(new[] { ("n02084071", "test"), ("n09450163", "test"), ("n02503517", "test") });
        var (edges, lemmas, nltk) = (small.FormatEdges(Array.Empty<string>()), small.FormatLemmas(Array.Empty<string>()), small.FormatNltk(Array.Empty<string>()));
        var gen = Gen.Select(Gen.Int[0, 2], MutatedText(edges), MutatedText(lemmas, "\t"), MutatedText(nltk, "\t", ".n."));
        Check("WordNet artifacts", gen, 600, 2, "isa.txt", t =>
        {
            var (which, e, l, n) = t;
            // One file damaged at a time; errors name it (the edges file is named in cross-file errors).
            var graph = WordNetIsA.FromArtifacts(new StringReader(which == 0 ? Text(e) : edges), "isa.txt", new StringReader(which == 1 ? Text(l) : lemmas), "isa.txt lemmas",
                new StringReader(which == 2 ? Text(n) : nltk), "isa.txt nltk");
            foreach (var rule in new[] { ParentRule.NltkFirstHypernym, ParentRule.PointerOrder, ParentRule.ShortestPath })
                if (graph.Contains("n02084071")) graph.BuildTree(new[] { "n02084071" }, rule, "t", "isa.txt classes");
        });
    }

    [Fact]
    public void Inat2021CategoriesCsvAndJson()
    {
        var csv = Inat2021.FormatCategoriesCsv(Inat2021.CommittedCategories().Take(25));
        Check("iNat2021 categories CSV", MutatedText(csv, "\"", ",,"), 800, 3, "categories.csv", bytes =>
        {
            var categories = Inat2021.ParseCategoriesCsv(new StringReader(Text(bytes)), "categories.csv");
            Inat2021.BuildTree(categories, "categories.csv");
        });
        var json = System.Text.Json.JsonSerializer.Serialize(new
        {
            categories = Inat2021.CommittedCategories().Take(12).Select(c => new
            {
                id = c.Id, name = c.Name, kingdom = c.Kingdom, phylum = c.Phylum, @class = c.Class, order = c.Order, family = c.Family,
                genus = c.Genus, specific_epithet = c.SpecificEpithet, supercategory = c.Supercategory, common_name = "x", image_dir_name = "d",
            }),
        });
        Check("iNat2021 categories JSON", MutatedText(json, "{", "}", "[", "]", ":"), 800, 4, "train.json", bytes =>
        {
            var categories = Inat2021.ReadCategoriesJson(new MemoryStream(bytes), "train.json");
            Inat2021.BuildTree(categories, "train.json");
        });
    }

    [Fact]
    public void Inat2021CocoAnnotations()
    {
        using var folder = new TempFolder();
        DataFixtures.WriteINatSplit(folder.Path, "val", 3, 2, size: 16);
        var path = folder.Combine("val.json");
        var valid = File.ReadAllBytes(path);
        Check("iNat2021 COCO annotations", Mutations(valid, "{", "}", "[", "]", ":", "\"file_name\"", "../../x.jpg"), 500, 5, "val.json", bytes =>
        {
            File.WriteAllBytes(path, bytes);
            var dataset = INat2021.Load(folder.Path, "val");
            for (int i = 0; i < dataset.Count; i++) Assert.DoesNotContain("..", dataset.DisplayPathOf(i));
        });
    }

    [Fact]
    public void DatasetManifests()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("m.json");
        var valid = File.ReadAllBytes(Path.Combine(ProjectPaths.ManifestsRoot, "imagenet21k.json"));
        Check("dataset manifest", Mutations(valid, "{", "}", "[", "]", ":", "\"../x\"", "\"extractTo\": \"../..\","), 600, 6, "m.json", bytes =>
        {
            File.WriteAllBytes(path, bytes);
            var manifest = DatasetManifest.Load(path);
            foreach (var file in manifest.Files) Assert.True(SafePath.IsContained(file.ExtractTo));
            foreach (var split in manifest.Splits) Assert.True(SafePath.IsContained(split.ImageRoot));
        });
    }

    [Fact]
    public void TrainingAndSweepConfigs()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("c.json");
        var valid = JsonFiles.Serialize(TrainingProtocols.Named("quick-linear-probe", "leaf", "coarse", 0));
        Check("training config", MutatedText(valid, "{", "}", "[", "]", ":", "\"Sgd\"", "1e308", "-0"), 1000, 7, "c.json", bytes =>
        {
            File.WriteAllBytes(path, bytes);
            ConfigFile.Read<TrainingConfig>(path);
        });
        var sweep = JsonFiles.Serialize(Sweeps.Grid("s", new[] { "leaf", "coarse" }, new[] { 0 }, (level, seed) => TrainingProtocols.Named("quick", level, "coarse", seed)));
        Check("sweep config", MutatedText(sweep, "{", "}", "[", "]"), 300, 8, "c.json", bytes =>
        {
            File.WriteAllBytes(path, bytes);
            Sweeps.Read(path);
        });
    }

    [Fact]
    public void RunFolderFiles()
    {
        using var folder = new TempFolder();
        var table = new MetricsTable(new[] { "epoch", "train_loss", "val_top1_error" });
        for (int e = 1; e <= 5; e++) table.Add(e, 1.0 / e, double.NaN);
        var metrics = folder.Combine(RunFolder.MetricsFile);
        table.Save(metrics);
        var validMetrics = File.ReadAllBytes(metrics);
        Check("metrics.csv", Mutations(validMetrics, ",", "NaN", "inf", "1e999"), 800, 9, RunFolder.MetricsFile, bytes =>
        {
            File.WriteAllBytes(metrics, bytes);
            MetricsTable.Load(metrics);
        });
        var manifest = folder.Combine(RunFolder.ManifestFile);
        JsonFiles.Write(manifest, new RunManifest("experiment", "key", "0123456789abcdef", ["Core", "Runs"], RunFolder.FormatVersion, "Config"));
        var validManifest = File.ReadAllBytes(manifest);
        Check("run.json / summary.json", Mutations(validManifest, "{", "}", ":"), 500, 10, RunFolder.ManifestFile, bytes =>
        {
            File.WriteAllBytes(manifest, bytes);
            JsonFiles.Read<RunManifest>(manifest);
        });
    }

    [Fact]
    public void Checkpoints()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("checkpoint.ckpt");
        CheckpointFixtures.WriteTiny(path);
        var valid = File.ReadAllBytes(path);
        // Half the inputs keep a valid checksum over the damaged bytes, so the header and section parsing is reached too.
        var gen = Gen.Select(Mutations(valid[..^32], "{", "}"), Gen.Bool).Select(t => t.Item2 ? t.Item1.Concat(SHA256.HashData(t.Item1)).ToArray() : t.Item1);
        Check("checkpoint", gen, 500, 11, "checkpoint.ckpt", bytes =>
        {
            File.WriteAllBytes(path, bytes);
            Checkpoint.Read(path);
        });
    }

    [Fact]
    public void TarHeadersReadInPlace()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("n01440764.tar");
        using (var file = File.Create(path))
        using (var writer = new TarWriter(file, TarEntryFormat.Pax))
        {
            foreach (var (name, size) in new[] { ("n01440764_1.JPEG", 700), (new string('d', 120) + "/n01440764_2.JPEG", 30), ("sub/n01440764_3.JPEG", 0) })
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(new byte[size]) });
            writer.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, new string('g', 130) + ".JPEG") { DataStream = new MemoryStream(new byte[5]) });
        }
        var valid = File.ReadAllBytes(path);
        // Half the inputs get their ustar header checksums recomputed, so mutations of sizes, types and names are parsed.
        var gen = Gen.Select(Mutations(valid), Gen.Bool).Select(t => t.Item2 ? FixTarChecksums(t.Item1) : t.Item1);
        Check("tar headers (in place)", gen, 1000, 12, "n01440764.tar", bytes =>
        {
            File.WriteAllBytes(path, bytes);
            var hostile = new HostileEntries(strict: false);
            foreach (var member in TarArchives.ListMembers(path, hostile))
            {
                Assert.True(member.DataOffset >= 0 && member.Length >= 0 && member.DataOffset + member.Length <= bytes.Length, $"member {member.Name} lies outside the file");
                Assert.True(SafePath.IsContained(member.Name), $"hostile name {member.Name} listed");
            }
        });
    }

    private static byte[] FixTarChecksums(byte[] bytes)
    {
        for (int at = 0; at + 512 <= bytes.Length; at += 512)
        {
            if (!bytes.AsSpan(at + 257, 5).SequenceEqual("ustar"u8)) continue;
            long sum = 0;
            for (int i = 0; i < 512; i++) sum += i is >= 148 and < 156 ? ' ' : bytes[at + i];
            var field = Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ");
            field.CopyTo(bytes, at + 148);
        }
        return bytes;
    }

    [Fact]
    public void ImageIndexes()
    {
        using var folder = new TempFolder();
        DataFixtures.WriteSynsetTar(folder.Path, "n01440764", 3, 1);
        var (dataset, _) = ImageNet21k.Load(folder.Path, Path.Combine(ProjectPaths.ManifestsRoot, "hierarchies", "imagenet21k-google-classes.txt"));
        var path = folder.Combine("index.gidx");
        ImageIndex.Write(dataset, path);
        var valid = File.ReadAllBytes(path);
        // The index is gzip-compressed: most inputs damage the decompressed payload and are recompressed, so the record parser is reached.
        using var unzip = new System.IO.Compression.GZipStream(new MemoryStream(valid), System.IO.Compression.CompressionMode.Decompress);
        var payload = new MemoryStream();
        unzip.CopyTo(payload);
        static byte[] Gzip(byte[] raw)
        {
            var packed = new MemoryStream();
            using (var zip = new System.IO.Compression.GZipStream(packed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) zip.Write(raw);
            return packed.ToArray();
        }
        var gen = Gen.Frequency((1, Mutations(valid)), (3, Mutations(payload.ToArray(), "..", "/etc/passwd").Select(Gzip)));
        Check("image index (.gidx)", gen, 600, 13, "index.gidx", bytes =>
        {
            File.WriteAllBytes(path, bytes);
            ImageIndex.Read(path);
        });
    }

    [Fact]
    public void OmniglotZips()
    {
        using var folder = new TempFolder();
        // Two alphabets × 2 characters × 3 drawings in the official layout; damage hits the local headers, the PNGs and the central directory.
        var valid = File.ReadAllBytes(RealImageReaderTests.WriteZip(folder, "valid.zip",
            RealImageReaderTests.Drawings("Alpha", 2, 3).Concat(RealImageReaderTests.Drawings("Beta", 2, 3))));
        var path = folder.Combine("images_background_small1.zip");
        var tail = Mutations(valid[^200..]).Select(t => valid[..^200].Concat(t).ToArray()); // the central directory and its end record
        Check("Omniglot zips", Gen.OneOf(Mutations(valid, "PK", "character01/", "_21.png"), tail), 400, 16, "images_background_small1.zip", bytes =>
        {
            File.WriteAllBytes(path, bytes);
            Omniglot.Load([path], imageSize: 12);
        });
    }

    [Fact]
    public void Cifar100BinariesAndTree()
    {
        using var folder = new TempFolder();
        var tree = Cifar100.Tree();
        var (coarse, fine, pixels) = RealImageReaderTests.CifarRecords(tree, perClass: 1, seed: 5);
        var path = folder.Combine("train.bin");
        Cifar100.Write(path, coarse, fine, pixels);
        var valid = File.ReadAllBytes(path);
        // Label bytes live at every 3,074th byte: half the inputs damage only the first records' labels and keep the length.
        var labels = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 1], Gen.Int[0, 255]).Array[1, 4].Select(edits =>
        {
            var bytes = (byte[])valid.Clone();
            foreach (var (record, which, value) in edits) bytes[record * Cifar100.RecordBytes + which] = (byte)value;
            return bytes;
        });
        Check("CIFAR-100 binary", Gen.OneOf(labels, Mutations(valid[..(3 * Cifar100.RecordBytes)])), 600, 17, "train.bin", bytes =>
        {
            File.WriteAllBytes(path, bytes);
            Cifar100.Read(path, tree: tree);
        });
        var treePath = folder.Combine("cifar100-tree.txt");
        var validTree = File.ReadAllText(Path.Combine(HierarchyArtifacts.Folder, "cifar100-tree.txt"));
        Check("CIFAR-100 tree", MutatedText(validTree, " ", "trees", "maple_tree"), 400, 18, "cifar100-tree.txt", bytes =>
        {
            File.WriteAllBytes(treePath, bytes);
            Cifar100.Tree(treePath);
        });
    }

    [Fact]
    public void JpegAndPngHeadersThroughTheDecoder()
    {
        var jpeg = DataFixtures.NoisyJpeg(40, 30, 3);
        var png = DataFixtures.TwoHalves(40, 30, new SKColor(255, 0, 0), new SKColor(0, 0, 255), SKEncodedImageFormat.Png);
        var transform = new EvalTransform { OutputSize = 16, ResizeSize = 18 };
        var decoder = new ImageDecoder();
        var destination = new float[3 * 16 * 16];
        foreach (var (name, valid, stream) in new[] { ("image.jpg", jpeg, 14u), ("image.png", png, 15u) })
        {
            // Damage concentrated on the first 200 bytes (markers, sizes, chunk headers) plus the whole-file mutations.
            var header = Mutations(valid[..Math.Min(200, valid.Length)]).Select(h => h.Concat(valid[Math.Min(200, valid.Length)..]).ToArray());
            Check($"{name} decoding", Gen.OneOf(header, Mutations(valid)), 400, stream, name, bytes =>
            {
                var random = SampleRandom.For(0, 0, 0);
                decoder.DecodeInto(bytes, name, transform, ref random, destination);
            });
        }
    }
}
