using Granularity.Core;
using System.Formats.Tar;
using System.Numerics;
using System.Text.Json;
using Granularity.Data;
using Granularity.Hierarchy;
using Granularity.Runs;
using SkiaSharp;

namespace Granularity.Experiments;

/// <summary>
/// How stand-in images look: the synthetic generator's idea (docs/synthetic-hierarchy.md, "Generator") written as JPEGs. A
/// colour tint per group (the common feature: the iNat2021 supercategory, or a WordNet subtree for ImageNet), a 5×5
/// glyph per class (the rare fine feature), one distractor glyph and pixel noise. Hard images lack the tint.
/// </summary>
public sealed record StandInImageStyle(
    int ImageSize = 32,                 // px, square JPEGs
    int GlyphSize = 5,                  // px
    float Tint = 0.15f,                 // colour offset of a group at full strength (note §1)
    float GlyphAmplitude = 0.35f,       // ± where a glyph bit is 1 / 0 (note §1)
    float NoiseSigma = 0.10f,           // iid Gaussian pixel noise (note §1)
    int DistractorGlyphs = 16,          // pool of glyphs that belong to no class
    double TrainHardShare = 0.10,       // training images without the tint (note §3a)
    double EvaluationHardShare = 0.5,   // evaluation images without the tint, so the fine feature matters [ours]
    int JpegQuality = 95)
{
    public StandInImageStyle Validated()
    {
        static void Check(bool ok, string field, string range, object value) { if (!ok) throw new ArgumentException($"StandInImageStyle.{field} must be {range}, got {value}"); }
        Check(ImageSize is >= 8 and <= 256, nameof(ImageSize), "in [8, 256] px", ImageSize);
        Check(GlyphSize is >= 3 and <= 7 && GlyphSize < ImageSize, nameof(GlyphSize), "in [3, 7] and below ImageSize", GlyphSize);
        Check(Tint is >= 0 and <= 0.5f, nameof(Tint), "in [0, 0.5]", Tint);
        Check(GlyphAmplitude is >= 0 and <= 0.5f, nameof(GlyphAmplitude), "in [0, 0.5]", GlyphAmplitude);
        Check(NoiseSigma is >= 0 and <= 1, nameof(NoiseSigma), "in [0, 1]", NoiseSigma);
        Check(DistractorGlyphs >= 0, nameof(DistractorGlyphs), "≥ 0", DistractorGlyphs);
        Check(TrainHardShare is >= 0 and <= 1, nameof(TrainHardShare), "in [0, 1]", TrainHardShare);
        Check(EvaluationHardShare is >= 0 and <= 1, nameof(EvaluationHardShare), "in [0, 1]", EvaluationHardShare);
        Check(JpegQuality is >= 50 and <= 100, nameof(JpegQuality), "in [50, 100]", JpegQuality);
        return this;
    }
}

/// <summary>A generated iNat2021 stand-in: which real categories, how many images per species and split, how images look.</summary>
public sealed record Inat2021StandInConfig(
    int Seed,                               // chooses the species, the glyphs and every image
    IReadOnlyList<string> Supercategories,  // real supercategory names whose species are used
    IReadOnlyList<int> TaxaPerRank,         // distinct class, order, family, genus, species per supercategory (targets)
    int TrainImagesPerSpecies,              // train_mini has 50
    int ValImagesPerSpecies,                // val has 10
    StandInImageStyle Style)
{
    /// <summary>Quick: Birds, Insects, Plants, Fungi; per supercategory up to 2 classes, 3 orders, 4 families, 6 genera, 8 species; 60 + 15 images per species at 32 px.</summary>
    public static Inat2021StandInConfig Quick() => new(0, ["Birds", "Insects", "Plants", "Fungi"], [2, 3, 4, 6, 8], 60, 15, new StandInImageStyle());

    /// <summary>A tiny one for tests: 2 supercategories × 4 species, 12 + 4 images per species at 16 px.</summary>
    public static Inat2021StandInConfig Tiny() => new(0, ["Birds", "Plants"], [1, 2, 2, 3, 4], 12, 4, new StandInImageStyle(ImageSize: 16, GlyphSize: 3, DistractorGlyphs: 4));

    public Inat2021StandInConfig Validated()
    {
        Style.Validated();
        if (Seed < 0) throw new ArgumentException($"Inat2021StandInConfig.Seed must be ≥ 0, got {Seed}");
        if (Supercategories.Count is < 2 or > 8) throw new ArgumentException($"Inat2021StandInConfig.Supercategories must name 2 to 8 supercategories (one tint each), got {Supercategories.Count}");
        var known = Inat2021.CommittedCategories().Select(c => c.Supercategory).ToHashSet();
        foreach (var s in Supercategories)
            if (!known.Contains(s)) throw new ArgumentException($"Inat2021StandInConfig.Supercategories: '{s}' is not an iNat2021 supercategory ({string.Join(", ", known.Order())})");
        if (TaxaPerRank.Count != 5 || TaxaPerRank.Any(t => t < 1)) throw new ArgumentException("Inat2021StandInConfig.TaxaPerRank must give 5 counts ≥ 1 (class, order, family, genus, species)");
        if (TrainImagesPerSpecies < 2 || ValImagesPerSpecies < 1) throw new ArgumentException($"Inat2021StandInConfig image counts must be ≥ 2 (train) and ≥ 1 (val), got {TrainImagesPerSpecies}/{ValImagesPerSpecies}");
        return this;
    }
}

/// <summary>A generated ImageNet-21k + ImageNet-1k stand-in: WordNet subtrees (groups), classes per group, images per class.</summary>
public sealed record ImageNetStandInConfig(
    int Seed,
    int Groups,                     // disjoint WordNet subtrees, one tint each
    int GroupDepth,                 // depth (from 'entity', pointer-order tree) of the group nodes
    int ImageNet1kClassesPerGroup,  // target classes per group (also ImageNet-21k classes, as in reality)
    int OtherClassesPerGroup,       // further ImageNet-21k classes per group
    int Images21kPerClass,          // per ImageNet-21k class, before the held-out evaluation images
    int HeldOut21kPerClass,         // per ImageNet-21k class, held out to evaluate pretraining at its own level
    int Train1kPerClass,
    int Val1kPerClass,
    StandInImageStyle Style)
{
    /// <summary>Quick: 4 groups at depth 5, each 4 ImageNet-1k + 8 other classes (48 ImageNet-21k, 16 ImageNet-1k classes); 60 (+10) / 30 / 20 images per class.</summary>
    public static ImageNetStandInConfig Quick() => new(0, 4, 5, 4, 8, 60, 10, 30, 20, new StandInImageStyle(TrainHardShare: 0.10, EvaluationHardShare: 0.10));

    /// <summary>A tiny one for tests: 2 groups × (2 + 2) classes, 8 (+2) / 6 / 3 images per class at 16 px.</summary>
    public static ImageNetStandInConfig Tiny() => new(0, 2, 5, 2, 2, 8, 2, 6, 3, new StandInImageStyle(ImageSize: 16, GlyphSize: 3, DistractorGlyphs: 4, EvaluationHardShare: 0.1));

    public ImageNetStandInConfig Validated()
    {
        Style.Validated();
        if (Seed < 0) throw new ArgumentException($"ImageNetStandInConfig.Seed must be ≥ 0, got {Seed}");
        if (Groups is < 2 or > 8) throw new ArgumentException($"ImageNetStandInConfig.Groups must be in [2, 8], got {Groups}");
        if (GroupDepth is < 2 or > 10) throw new ArgumentException($"ImageNetStandInConfig.GroupDepth must be in [2, 10], got {GroupDepth}");
        if (ImageNet1kClassesPerGroup < 2 || OtherClassesPerGroup < 0) throw new ArgumentException("ImageNetStandInConfig needs ≥ 2 ImageNet-1k classes and ≥ 0 other classes per group");
        if (Images21kPerClass < 2 || HeldOut21kPerClass < 1 || Train1kPerClass < 2 || Val1kPerClass < 1) throw new ArgumentException("ImageNetStandInConfig image counts must be ≥ 2 (training) and ≥ 1 (evaluation)");
        return this;
    }
}

/// <summary>What a generated stand-in records about itself (standin.json): its config, chosen classes and each image's hard flag.</summary>
public sealed record StandInManifest(string Kind, string ConfigJson, string LibraryVersion, IReadOnlyList<string> Classes, IReadOnlyList<string> Groups,
    IReadOnlyDictionary<string, bool[]> HardBySplit, string Note);

/// <summary>Generates the stand-ins in the real on-disk formats, deterministically per seed, into a folder that is created atomically.</summary>
public static class StandInData
{
    public const string ManifestFile = "standin.json";

    /// <summary>Default folder of a stand-in: <c>artifacts/standin/KIND-KEY</c> (the key hashes the config).</summary>
    public static string DefaultRoot(string kind, object config) =>
        Path.Combine(ProjectPaths.ArtifactsRoot, "standin", $"{kind}-{RunStore.ConfigKey("standin-" + kind, config)}");

    /// <summary>The real categories the iNat2021 stand-in uses, spread over the ranks as the config asks (chosen by its seed).</summary>
    public static IReadOnlyList<Inat2021Category> ChooseInat2021Species(Inat2021StandInConfig config)
    {
        config.Validated();
        var all = Inat2021.CommittedCategories();
        var chosen = new List<Inat2021Category>();
        foreach (var supercategory in config.Supercategories)
        {
            // Top down: spread each rank's target count round-robin over the taxa already chosen one rank up.
            IReadOnlyList<List<Inat2021Category>> groups = [all.Where(c => c.Supercategory == supercategory).ToList()];
            for (int r = 0; r < 5; r++)
            {
                int rank = r + 2; // class .. species (Inat2021Category.TaxonAt ranks 2..6)
                var options = groups.Select((g, k) => Shuffled(g.GroupBy(c => c.TaxonAt(rank)).Select(x => x.ToList()).OrderBy(x => x[0].TaxonAt(rank), StringComparer.Ordinal).ToList(),
                    config.Seed * 1000 + r * 100 + k)).ToList();
                var next = new List<List<Inat2021Category>>();
                var taken = new int[options.Count];
                bool progress = true;
                while (next.Count < config.TaxaPerRank[r] && progress)
                {
                    progress = false;
                    for (int k = 0; k < options.Count && next.Count < config.TaxaPerRank[r]; k++)
                        if (taken[k] < options[k].Count) { next.Add(options[k][taken[k]++]); progress = true; }
                }
                groups = next;
            }
            chosen.AddRange(groups.Select(g => g[0]));
        }
        return chosen.OrderBy(c => c.Id).ToList();
    }

    private static List<T> Shuffled<T>(List<T> items, int seed)
    {
        new Random(seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(items));
        return items;
    }

    /// <summary>
    /// Writes an iNat2021 stand-in under <paramref name="root"/> (unless one is there): <c>train_mini.json</c> and
    /// <c>val.json</c> in the official COCO-style format with all 10,000 real category records, and JPEGs under
    /// <c>train_mini/NNNNN_Kingdom_…/uuid.jpg</c> and <c>val/…</c> for the chosen species. Returns the root.
    /// </summary>
    public static string EnsureInat2021(Inat2021StandInConfig config, string? root = null)
    {
        config = config.Validated();
        root ??= DefaultRoot("inat2021", config);
        if (File.Exists(Path.Combine(root, ManifestFile))) return root;
        var species = ChooseInat2021Species(config);
        var groupOf = species.Select(s => config.Supercategories.ToList().IndexOf(s.Supercategory)).ToArray();
        var world = GlyphWorld.Create(species.Count, config.Style, config.Seed);
        return WriteAtomically(root, staging =>
        {
            var hard = new Dictionary<string, bool[]>();
            foreach (var (split, perSpecies, share, stream) in new[] { ("train_mini", config.TrainImagesPerSpecies, config.Style.TrainHardShare, 1), ("val", config.ValImagesPerSpecies, config.Style.EvaluationHardShare, 2) })
            {
                var images = new List<object>();
                var annotations = new List<object>();
                var flags = new List<bool>();
                for (int s = 0; s < species.Count; s++)
                    for (int k = 0; k < perSpecies; k++)
                    {
                        int index = flags.Count;
                        var random = SampleRandom.For(config.Seed, stream, index);
                        var uuid = new Guid(BitConverter.GetBytes(random.NextULong()).Concat(BitConverter.GetBytes(random.NextULong())).ToArray());
                        var fileName = $"{split}/{species[s].ImageDirName}/{uuid}.jpg";
                        var path = Path.Combine(staging, fileName);
                        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                        bool isHard = random.Bernoulli(share);
                        File.WriteAllBytes(path, world.Jpeg(s, groupOf[s], isHard, ref random));
                        int id = (stream * 10_000_000) + index;
                        images.Add(new { id, width = config.Style.ImageSize, height = config.Style.ImageSize, file_name = fileName, license = 1, rights_holder = "Granularity stand-in (generated)", date = "2021-01-01 00:00:00+00:00", latitude = 0.0, longitude = 0.0, location_uncertainty = 0 });
                        annotations.Add(new { id, image_id = id, category_id = species[s].Id });
                        flags.Add(isHard);
                    }
                var categories = Inat2021.CommittedCategories().Select(c => new
                {
                    id = c.Id, name = c.Name, supercategory = c.Supercategory, kingdom = c.Kingdom, phylum = c.Phylum, @class = c.Class,
                    order = c.Order, family = c.Family, genus = c.Genus, specific_epithet = c.SpecificEpithet, image_dir_name = c.ImageDirName,
                });
                var document = new
                {
                    info = new { year = 2021, version = "stand-in", description = "Granularity stand-in in the iNat2021 format: real categories, generated images", contributor = "Granularity", date_created = "2021-01-01" },
                    images, categories, annotations, licenses = new[] { new { id = 1, name = "generated", url = "" } },
                };
                File.WriteAllText(Path.Combine(staging, split + ".json"), JsonSerializer.Serialize(document));
                hard[split] = flags.ToArray();
            }
            JsonFiles.Write(Path.Combine(staging, ManifestFile), new StandInManifest("inat2021", JsonFiles.Serialize(config), BuildInfo.LibraryVersion,
                species.Select(s => s.Name).ToList(), config.Supercategories.ToList(), hard,
                "Generated stand-in: real iNat2021 category records, synthetic images (supercategory tint + per-species glyph). Numbers on it are stand-in numbers."));
        });
    }

    /// <summary>The ImageNet classes of the stand-in: per group its node, its ImageNet-1k classes and its other ImageNet-21k classes.</summary>
    public static IReadOnlyList<(string Group, IReadOnlyList<string> ImageNet1k, IReadOnlyList<string> Other)> ChooseImageNetClasses(ImageNetStandInConfig config)
    {
        config.Validated();
        var tree = ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet21k, ParentRule.PointerOrder);
        var in1k = ImageNetHierarchies.Classes(ImageNetLabelSet.ImageNet1k).ToHashSet(StringComparer.Ordinal);
        var byGroup = new Dictionary<int, (List<string> In1k, List<string> Other)>();
        for (int leaf = 0; leaf < tree.LeafCount; leaf++)
        {
            int node = tree.LeafNode(leaf);
            if (!tree.IsLeaf(node) || tree.Children(node).Length > 0 || tree.Depth(node) <= config.GroupDepth + 1) continue;
            int group = node;
            while (tree.Depth(group) > config.GroupDepth) group = tree.Parent(group);
            if (!byGroup.TryGetValue(group, out var lists)) byGroup[group] = lists = (new List<string>(), new List<string>());
            (in1k.Contains(tree.Id(node)) ? lists.In1k : lists.Other).Add(tree.Id(node));
        }
        var candidates = byGroup.Where(g => g.Value.In1k.Count >= config.ImageNet1kClassesPerGroup && g.Value.Other.Count >= config.OtherClassesPerGroup)
            .OrderBy(g => tree.Id(g.Key), StringComparer.Ordinal).ToList();
        if (candidates.Count < config.Groups)
            throw new ArgumentException($"only {candidates.Count} WordNet nodes at depth {config.GroupDepth} have ≥ {config.ImageNet1kClassesPerGroup} ImageNet-1k and ≥ {config.OtherClassesPerGroup} other classes; ask for fewer groups or another depth");
        var picked = Shuffled(candidates, config.Seed * 7 + 1).Take(config.Groups).OrderBy(g => tree.Id(g.Key), StringComparer.Ordinal).ToList();
        return picked.Select((g, k) => (tree.Id(g.Key),
            (IReadOnlyList<string>)Shuffled(g.Value.In1k.Order(StringComparer.Ordinal).ToList(), config.Seed * 31 + k).Take(config.ImageNet1kClassesPerGroup).Order(StringComparer.Ordinal).ToList(),
            (IReadOnlyList<string>)Shuffled(g.Value.Other.Order(StringComparer.Ordinal).ToList(), config.Seed * 37 + k).Take(config.OtherClassesPerGroup).Order(StringComparer.Ordinal).ToList())).ToList();
    }

    /// <summary>
    /// Writes an ImageNet stand-in under <paramref name="root"/> in the prepared layouts: <c>imagenet21k/fall11/WNID.tar</c>
    /// (per-synset tars of <c>WNID_k.JPEG</c>, read in place) and <c>imagenet1k/{train,val}/WNID/*.JPEG</c>. Images of an
    /// ImageNet-1k class follow the same recipe as its ImageNet-21k synset (same glyph and group tint), drawn independently.
    /// </summary>
    public static string EnsureImageNet(ImageNetStandInConfig config, string? root = null)
    {
        config = config.Validated();
        root ??= DefaultRoot("imagenet", config);
        if (File.Exists(Path.Combine(root, ManifestFile))) return root;
        var groups = ChooseImageNetClasses(config);
        var classes = groups.SelectMany(g => g.ImageNet1k.Concat(g.Other)).Order(StringComparer.Ordinal).ToList();
        var groupOf = classes.Select(c => groups.ToList().FindIndex(g => g.ImageNet1k.Contains(c) || g.Other.Contains(c))).ToArray();
        var world = GlyphWorld.Create(classes.Count, config.Style, config.Seed);
        return WriteAtomically(root, staging =>
        {
            var hard = new Dictionary<string, bool[]>();
            var tarFolder = Path.Combine(staging, "imagenet21k", "fall11");
            Directory.CreateDirectory(tarFolder);
            var flags21k = new List<bool>();
            for (int c = 0; c < classes.Count; c++)
            {
                using var stream = File.Create(Path.Combine(tarFolder, classes[c] + ".tar"));
                using var writer = new TarWriter(stream, TarEntryFormat.Ustar);
                for (int k = 0; k < config.Images21kPerClass + config.HeldOut21kPerClass; k++)
                {
                    var random = SampleRandom.For(config.Seed, 10 + c, k);
                    bool isHard = random.Bernoulli(config.Style.TrainHardShare);
                    var entry = new UstarTarEntry(TarEntryType.RegularFile, $"{classes[c]}_{k + 1}.JPEG") { DataStream = new MemoryStream(world.Jpeg(c, groupOf[c], isHard, ref random)) };
                    writer.WriteEntry(entry);
                    flags21k.Add(isHard);
                }
            }
            hard["imagenet21k"] = flags21k.ToArray();
            foreach (var (split, perClass, share, stream) in new[] { ("train", config.Train1kPerClass, config.Style.TrainHardShare, 100_000), ("val", config.Val1kPerClass, config.Style.EvaluationHardShare, 200_000) })
            {
                var flags = new List<bool>();
                for (int c = 0; c < classes.Count; c++)
                {
                    if (!groups[groupOf[c]].ImageNet1k.Contains(classes[c])) continue;
                    var folder = Path.Combine(staging, "imagenet1k", split, classes[c]);
                    Directory.CreateDirectory(folder);
                    for (int k = 0; k < perClass; k++)
                    {
                        var random = SampleRandom.For(config.Seed, stream + c, k);
                        bool isHard = random.Bernoulli(share);
                        var name = split == "train" ? $"{classes[c]}_{k + 1}.JPEG" : $"ILSVRC2012_val_{c * 1000 + k + 1:D8}.JPEG";
                        File.WriteAllBytes(Path.Combine(folder, name), world.Jpeg(c, groupOf[c], isHard, ref random));
                        flags.Add(isHard);
                    }
                }
                hard["imagenet1k-" + split] = flags.ToArray();
            }
            JsonFiles.Write(Path.Combine(staging, ManifestFile), new StandInManifest("imagenet", JsonFiles.Serialize(config), BuildInfo.LibraryVersion,
                classes, groups.Select(g => g.Group).ToList(), hard,
                "Generated stand-in: real WordNet ids, synthetic images (group tint + per-synset glyph). Numbers on it are stand-in numbers."));
        });
    }

    /// <summary>Reads standin.json of a generated stand-in.</summary>
    public static StandInManifest ReadManifest(string root)
    {
        var path = Path.Combine(root, ManifestFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not a generated stand-in (no {ManifestFile}); run `granularity standin generate`", path);
        return JsonFiles.Read<StandInManifest>(path);
    }

    private static string WriteAtomically(string root, Action<string> write)
    {
        var full = Path.GetFullPath(root);
        var staging = full + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(staging);
        try
        {
            write(staging);
            if (Directory.Exists(full) && !File.Exists(Path.Combine(full, ManifestFile))) Directory.Delete(full, recursive: true);
            try { Directory.Move(staging, full); }
            catch (IOException) when (File.Exists(Path.Combine(full, ManifestFile))) { Directory.Delete(staging, true); } // another process won
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, true);
            throw;
        }
        return full;
    }
}

/// <summary>The fixed part of a stand-in: a glyph per class, distractor glyphs and a tint per group (synthetic note §1).</summary>
internal sealed class GlyphWorld
{
    private static readonly int[,] Signs = { { +1, -1, -1 }, { -1, +1, -1 }, { -1, -1, +1 }, { +1, +1, -1 }, { +1, -1, +1 }, { -1, +1, +1 }, { +1, +1, +1 }, { -1, -1, -1 } };
    private readonly ulong[] classGlyphs, distractors;
    private readonly StandInImageStyle style;

    private GlyphWorld(ulong[] classGlyphs, ulong[] distractors, StandInImageStyle style) { this.classGlyphs = classGlyphs; this.distractors = distractors; this.style = style; }

    public static GlyphWorld Create(int classes, StandInImageStyle style, int seed)
    {
        int cells = style.GlyphSize * style.GlyphSize;
        int minOnes = (int)Math.Round(8.0 * cells / 25), maxOnes = (int)Math.Round(17.0 * cells / 25);
        int wanted = classes + style.DistractorGlyphs;
        var accepted = new List<ulong>(wanted);
        var random = SampleRandom.For(seed, 0x474C595048, 0); // "GLYPH"
        // Relax the distance when a small glyph cannot hold that many distinct patterns.
        for (int minDistance = (int)Math.Round(6.0 * cells / 25); accepted.Count < wanted; minDistance--)
        {
            if (minDistance < 1) throw new ArgumentException($"cannot draw {wanted} distinct {style.GlyphSize}×{style.GlyphSize} glyphs; use a larger GlyphSize");
            accepted.Clear();
            SyntheticWorld.DrawGlyphs(ref random, accepted, wanted, cells, minOnes, maxOnes, minDistance, maxAttempts: 200_000);
        }
        return new GlyphWorld(accepted.Take(classes).ToArray(), accepted.Skip(classes).ToArray(), style);
    }

    /// <summary>One JPEG of class <paramref name="classIndex"/> in group <paramref name="group"/> (hard: no tint).</summary>
    public byte[] Jpeg(int classIndex, int group, bool hard, ref SampleRandom random)
    {
        int size = style.ImageSize, plane = size * size;
        var canvas = new float[plane];
        Array.Fill(canvas, 0.5f);
        Stamp(canvas, classGlyphs[classIndex], ref random);
        if (distractors.Length > 0) Stamp(canvas, distractors[random.NextInt(distractors.Length)], ref random);
        float strength = hard ? 0f : (float)random.Uniform(0.5, 1.0);
        var pixels = new byte[plane * 4];
        for (int p = 0; p < plane; p++)
        {
            var (n0, n1) = random.NextGaussianPair();
            var (n2, _) = random.NextGaussianPair();
            float[] noise = [n0, n1, n2];
            for (int c = 0; c < 3; c++)
            {
                float value = canvas[p] + strength * style.Tint * Signs[group % 8, c] + style.NoiseSigma * noise[c];
                pixels[4 * p + c] = (byte)Math.Clamp((int)MathF.Round(value * 255f), 0, 255);
            }
            pixels[4 * p + 3] = 255;
        }
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, style.JpegQuality);
        return data.ToArray();
    }

    private void Stamp(float[] canvas, ulong glyph, ref SampleRandom random)
    {
        int size = style.ImageSize, g = style.GlyphSize, positions = size - g + 1;
        int top = random.NextInt(positions), left = random.NextInt(positions);
        for (int y = 0; y < g; y++)
            for (int x = 0; x < g; x++)
                canvas[(top + y) * size + left + x] += ((glyph >> (y * g + x)) & 1) == 1 ? style.GlyphAmplitude : -style.GlyphAmplitude;
    }
}
