using Granularity.Core;
using Granularity.Data;
using Granularity.Hierarchy;
using Granularity.Runs;
using Granularity.Training;
using TorchSharp;

namespace Granularity.Experiments;

/// <summary>
/// The real-data datasets the training engine opens by name, and their stand-ins, listed in <see cref="ExperimentDatasets"/>:
/// <c>inat2021-train-mini</c> (iNat2021 train_mini + val under the data root), <c>inat2021-standin</c> (the generated
/// stand-in of <see cref="Inat2021StandInConfig.Quick"/>), <c>imagenet21k-to-1k</c> (ImageNet-21k fall11 + ImageNet-1k
/// under the data root) and <c>imagenet-standin</c>. Real and stand-in runs go through the same protocol code.
/// </summary>
public static class RealDatasets
{
    public const string Inat2021 = "inat2021-train-mini";
    public const string Inat2021StandIn = "inat2021-standin";
    public const string ImageNet = "imagenet21k-to-1k";
    public const string ImageNetStandIn = "imagenet-standin";

    /// <summary>Adds the real datasets and their Quick stand-ins to <paramref name="registry"/>.</summary>
    public static DatasetRegistry AddTo(DatasetRegistry registry)
    {
        registry.Add(Inat2021, (config, seed) => OpenInat2021Real(config, seed));
        registry.Add(ImageNet, (config, seed) => OpenImageNetReal(config, seed));
        AddInat2021StandIn(registry, Inat2021StandIn, Inat2021StandInConfig.Quick());
        AddImageNetStandIn(registry, ImageNetStandIn, ImageNetStandInConfig.Quick());
        return registry;
    }

    /// <summary>Adds an iNat2021 stand-in under <paramref name="name"/>; it is generated (once) when first opened.</summary>
    public static DatasetRegistry AddInat2021StandIn(DatasetRegistry registry, string name, Inat2021StandInConfig standIn, string? root = null) =>
        registry.Add(name, (config, seed) =>
        {
            var folder = StandInData.EnsureInat2021(standIn, root);
            return new Inat2021TrainingData(name, folder, INat2021.Load(folder, "train_mini"), INat2021.Load(folder, "val"),
                LoaderStyle.StandIn(config, standIn.Style.ImageSize), seed, isStandIn: true);
        });

    /// <summary>Adds an ImageNet stand-in under <paramref name="name"/>; it is generated (once) when first opened.</summary>
    public static DatasetRegistry AddImageNetStandIn(DatasetRegistry registry, string name, ImageNetStandInConfig standIn, string? root = null) =>
        registry.Add(name, (config, seed) =>
        {
            var folder = StandInData.EnsureImageNet(standIn, root);
            var wnids1k = ImageNetHierarchies.Classes(ImageNetLabelSet.ImageNet1k);
            var (in21k, _) = ClassFolders.Load($"{name}/imagenet21k", Path.Combine(folder, "imagenet21k", "fall11"), ImageNetHierarchies.Classes(ImageNetLabelSet.ImageNet21k));
            var (train1k, _) = ClassFolders.Load($"{name}/imagenet1k-train", Path.Combine(folder, "imagenet1k", "train"), wnids1k);
            var (val1k, _) = ClassFolders.Load($"{name}/imagenet1k-val", Path.Combine(folder, "imagenet1k", "val"), wnids1k);
            return new ImageNetTrainingData(name, in21k, train1k, val1k, standIn.HeldOut21kPerClass, LoaderStyle.StandIn(config, standIn.Style.ImageSize), isStandIn: true);
        });

    /// <summary>Where the real iNat2021 is prepared: <c>DATA/inat2021</c> (GRANULARITY_DATA or .granularity.local).</summary>
    public static string Inat2021Root => Path.Combine(ProjectPaths.DataRoot, "inat2021");

    /// <summary>Where the real ImageNet-21k and ImageNet-1k are prepared: <c>DATA/imagenet21k</c> and <c>DATA/imagenet1k</c>.</summary>
    public static (string ImageNet21k, string ImageNet1k) ImageNetRoots => (Path.Combine(ProjectPaths.DataRoot, "imagenet21k"), Path.Combine(ProjectPaths.DataRoot, "imagenet1k"));

    private static Inat2021TrainingData OpenInat2021Real(DatasetConfig config, int seed)
    {
        var manifest = DatasetManifest.Load("inat2021");
        var root = Inat2021Root;
        var train = OpenVerified(manifest, root, "train_mini", () => INat2021.Load(root, "train_mini", checkFiles: false));
        var val = OpenVerified(manifest, root, "val", () => INat2021.Load(root, "val", checkFiles: false));
        return new Inat2021TrainingData(Inat2021, root, train, val, LoaderStyle.Real(config), seed, isStandIn: false);
    }

    private static ImageNetTrainingData OpenImageNetReal(DatasetConfig config, int seed)
    {
        var (root21k, root1k) = ImageNetRoots;
        var in21k = OpenVerified(DatasetManifest.Load("imagenet21k"), root21k, "fall11", () => DatasetPreparation.BuildIndex(DatasetManifest.Load("imagenet21k"), root21k, "fall11"));
        var train1k = OpenVerified(DatasetManifest.Load("imagenet1k"), root1k, "train", () => ImageNet1k.Load(root1k, "train", Path.Combine(ProjectPaths.ManifestsRoot, "hierarchies", "imagenet1k-classes.tsv")));
        var val1k = OpenVerified(DatasetManifest.Load("imagenet1k"), root1k, "val", () => ImageNet1k.Load(root1k, "val", Path.Combine(ProjectPaths.ManifestsRoot, "hierarchies", "imagenet1k-classes.tsv")));
        return new ImageNetTrainingData(ImageNet, in21k, train1k, val1k, heldOutPerClass: 5, LoaderStyle.Real(config), isStandIn: false,
            dropped: DuplicatesOfImageNet1kVal(config, in21k, root21k, root1k));
    }

    /// <summary>Where `granularity data dedup` writes the ImageNet-21k images that duplicate ImageNet-1k validation images.</summary>
    public static string ImageNetDuplicateListPath(string root21k) => ImageDeduplication.ListPath(root21k, "fall11", DatasetConfig.ImageNet1kValidationDuplicates);

    /// <summary>The images the config's de-duplication step drops (null when it is off); a missing list says how to make it.</summary>
    internal static bool[]? DuplicatesOfImageNet1kVal(DatasetConfig config, ImageDataset in21k, string root21k, string root1k)
    {
        if (!config.Deduplicates) return null;
        var listPath = ImageNetDuplicateListPath(root21k);
        if (!File.Exists(listPath))
            throw new FileNotFoundException($"{listPath}: no de-duplication list. DatasetConfig.Deduplication = '{config.Deduplication}' leaves out of pretraining the ImageNet-21k images " +
                $"that duplicate ImageNet-1k validation images; make the list with `granularity data dedup --root {root21k} --split fall11 --reference-root {root1k} --reference-split val`, " +
                "or set Deduplication to \"none\" to pretrain on every image.", listPath);
        return ImageDeduplication.Dropped(in21k, ImageDeduplication.ReadList(listPath), listPath);
    }

    /// <summary>
    /// A prepared split: its index (ROOT/index/SPLIT.gidx) or, without one, a scan; its image count must match the manifest's.
    /// A missing dataset is an error that says how to prepare it.
    /// </summary>
    internal static ImageDataset OpenVerified(DatasetManifest manifest, string root, string split, Func<ImageDataset> scan)
    {
        var expected = manifest.Split(split);
        var index = ImageIndex.DefaultPath(root, split);
        ImageDataset dataset;
        if (File.Exists(index)) dataset = ImageIndex.Read(index);
        else if (Directory.Exists(root))
        {
            try { dataset = scan(); }
            catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new FileNotFoundException($"{manifest.Title}: split '{split}' is not prepared under {root} ({error.Message}). Download the archives listed in data-manifests/{manifest.Name}.md, then run " +
                    $"`granularity data prepare --dataset {manifest.Name} --archives FOLDER --splits {split}` (the data root is GRANULARITY_DATA or the first line of .granularity.local).", error);
            }
        }
        else throw new DirectoryNotFoundException($"{manifest.Title}: {root} does not exist. Set GRANULARITY_DATA (or .granularity.local) to the folder holding {manifest.Name}/, download the archives listed in data-manifests/{manifest.Name}.md and run " +
            $"`granularity data prepare --dataset {manifest.Name} --archives FOLDER --splits {split}`.");
        if (expected.Images is { } images && dataset.Count != images)
            throw new InvalidDataException($"{manifest.Title} {split} under {root}: {dataset.Count:N0} images, the manifest (data-manifests/{manifest.Name}.json) says {images:N0}; the preparation is incomplete: rerun `granularity data prepare --dataset {manifest.Name} --archives FOLDER --splits {split}`");
        return dataset;
    }

    /// <summary>Labels of the present categories only, renumbered densely in category order; absent categories map to 0 (they have no images).</summary>
    internal static (int[] LeafToLabel, int ClassCount) Restrict(IReadOnlyList<int> fullLabelOfCategory, bool[] present)
    {
        var renumber = new Dictionary<int, int>();
        var result = new int[fullLabelOfCategory.Count];
        for (int c = 0; c < result.Length; c++)
        {
            if (!present[c]) continue;
            if (!renumber.TryGetValue(fullLabelOfCategory[c], out var label)) renumber[fullLabelOfCategory[c]] = label = renumber.Count;
            result[c] = label;
        }
        return (result, renumber.Count);
    }

    internal static bool[] Present(params ImageDataset[] datasets)
    {
        var present = new bool[datasets[0].CategoryCount];
        foreach (var d in datasets) foreach (var c in d.Categories) present[c] = true;
        return present;
    }
}

/// <summary>How a dataset's images become tensors: the real recipe (random-resized crop + flip; resize 256 → centre 224) or the stand-in's (whole image, no flip).</summary>
internal sealed record LoaderStyle(bool IsStandIn, int ImageSize, int Workers)
{
    public static LoaderStyle Real(DatasetConfig config)
    {
        if (config.TrainSamples > 0 || config.EvaluationSamples > 0)
            throw new ArgumentException($"DatasetConfig '{config.Name}': TrainSamples/EvaluationSamples subsets are not supported for real data; use the whole splits (0)");
        return new(false, config.ImageSize > 0 ? config.ImageSize : 224, Math.Max(1, Environment.ProcessorCount));
    }

    public static LoaderStyle StandIn(DatasetConfig config, int generatedSize)
    {
        if (config.TrainSamples > 0 || config.EvaluationSamples > 0)
            throw new ArgumentException($"DatasetConfig '{config.Name}': a stand-in's size is set by its generator config, not TrainSamples/EvaluationSamples");
        return new(true, config.ImageSize > 0 ? config.ImageSize : generatedSize, Math.Min(2, Environment.ProcessorCount));
    }

    /// <summary>Stand-in glyphs are small local features, so Quick trains on the whole image without flips (as the synthetic note's recipe: no augmentation).</summary>
    public ImageLoaderOptions Training(int seed, int batchSize) => new()
    {
        Seed = seed, BatchSize = batchSize, Workers = Workers, Shuffle = true,
        Transform = IsStandIn ? new TrainAugmentation { OutputSize = ImageSize, ScaleMin = 1, ScaleMax = 1, RatioMin = 1, RatioMax = 1, FlipProbability = 0 } : new TrainAugmentation { OutputSize = ImageSize },
        OnBadImage = IsStandIn ? BadImagePolicy.Fail : BadImagePolicy.Skip,
    };

    /// <summary>
    /// Decodes every image of a stand-in once into an N×3×S×S tensor (no augmentation, so every epoch would decode the same
    /// pixels): the real-format path (annotation or tar → decoder → transform) runs once, the epochs then run from memory.
    /// </summary>
    public static torch.Tensor DecodeAll(ImageDataset dataset, LoaderStyle style)
    {
        using var scope = torch.NewDisposeScope();
        var all = torch.empty(new long[] { dataset.Count, 3, style.ImageSize, style.ImageSize });
        foreach (var batch in new ImageBatchLoader(dataset, new int[dataset.CategoryCount], style.Evaluation(256)).Epoch(0))
        {
            using var owned = batch;
            using var index = torch.tensor(batch.Indices);
            all.index_copy_(0, index, batch.Images);
        }
        return all.DetachFromDisposeScope();
    }

    public ImageLoaderOptions Evaluation(int batchSize) => new()
    {
        BatchSize = batchSize, Workers = Workers, Shuffle = false,
        Transform = new EvalTransform { OutputSize = ImageSize, ResizeSize = IsStandIn ? ImageSize : (int)Math.Round(ImageSize * 256.0 / 224) },
        OnBadImage = IsStandIn ? BadImagePolicy.Fail : BadImagePolicy.Skip,
    };
}

/// <summary>Relabels the batches of an image loader with one label per image (random, cluster and one-per-image labellings).</summary>
public sealed class PerImageLabelSource(IBatchSource inner, int[] labelOfImage, int classCount) : IBatchSource
{
    public int Count => inner.Count;
    public int ClassCount => classCount;

    public IEnumerable<Batch> Epoch(int epoch)
    {
        foreach (var batch in inner.Epoch(epoch))
        {
            var labels = torch.tensor(batch.Indices.Select(i => (long)labelOfImage[i]).ToArray());
            batch.Labels.Dispose();
            yield return new Batch(batch.Images, labels, batch.Indices);
        }
    }
}

/// <summary>
/// iNaturalist 2021 (or its stand-in) for the engine. Levels: the supercategory (target) and the seven ranks, restricted to
/// the species present; per-image comparison labellings matched in class count to a rank: <c>random-within:RANK</c>
/// (random labels inside each supercategory), <c>random-across:RANK</c>, <c>clusters-within:RANK:EMB</c> and
/// <c>clusters-across:RANK:EMB</c> (k-means of embedding file EMB in the dataset's embeddings folder), and
/// <c>one-per-image</c>. Evaluation split: "val" (none for per-image labellings, which have no validation labels).
/// </summary>
public sealed class Inat2021TrainingData : ITrainingData
{
    public const string TargetLevel = "supercategory";
    public static readonly IReadOnlyList<string> ComparisonRanks = ["class", "order", "family", "genus", "species"];

    private readonly ImageDataset train, val;
    private readonly LoaderStyle style;
    private readonly int seed;
    private readonly Dictionary<string, (int[] LeafToLabel, int ClassCount)> named = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int[] Labels, int ClassCount)> perImage = new(StringComparer.Ordinal);
    private torch.Tensor? decodedTrain, decodedVal;

    internal Inat2021TrainingData(string name, string root, ImageDataset train, ImageDataset val, LoaderStyle style, int seed, bool isStandIn)
    {
        Name = name;
        Root = root;
        IsStandIn = isStandIn;
        this.train = train;
        this.val = val;
        this.style = style;
        this.seed = seed;
        var committed = Hierarchy.Inat2021.CommittedCategories();
        if (train.CategoryCount != committed.Count)
            throw new InvalidDataException($"{train.Name}: {train.CategoryCount:N0} categories, iNat2021 has {committed.Count:N0} (the annotation file must list all of them)");
        for (int c = 0; c < committed.Count; c++)
            if (train.CategoryNames[c] != committed[c].Name)
                throw new InvalidDataException($"{train.Name}: category {c} is '{train.CategoryNames[c]}', the committed list (data-manifests/hierarchies/inat2021-categories.csv) says '{committed[c].Name}'");
        var present = RealDatasets.Present(train);
        var missingInTrain = val.Categories.FirstOrDefault(c => !present[c], -1);
        if (missingInTrain >= 0) throw new InvalidDataException($"{val.Name}: category {missingInTrain} ('{committed[missingInTrain].Name}') has validation images but no training images");
        foreach (var level in Hierarchy.Inat2021.NamedLevels(Hierarchy.Inat2021.Tree(), committed))
            named[level.Level] = RealDatasets.Restrict(level.LeafToLabel, present);
        Levels = named.Keys
            .Concat(ComparisonRanks.SelectMany(r => new[] { $"random-within:{r}", $"random-across:{r}" }))
            .Append("one-per-image")
            .Concat(EmbeddingIds().SelectMany(e => ComparisonRanks.SelectMany(r => new[] { $"clusters-within:{r}:{e}", $"clusters-across:{r}:{e}" })))
            .ToList();
    }

    public string Name { get; }

    /// <summary>The dataset folder (holding train_mini.json, val.json and the embeddings folder).</summary>
    public string Root { get; }

    public bool IsStandIn { get; }
    public ImageDataset TrainImages => train;
    public ImageDataset ValidationImages => val;
    public IReadOnlyList<string> Levels { get; }

    /// <summary>Where embedding files (.npy) for cluster labels live: ROOT/embeddings.</summary>
    public string EmbeddingsFolder => Path.Combine(Root, "embeddings");

    /// <summary>Ids (file stems) of the embedding files in <see cref="EmbeddingsFolder"/>.</summary>
    public IReadOnlyList<string> EmbeddingIds() => Directory.Exists(EmbeddingsFolder)
        ? Directory.EnumerateFiles(EmbeddingsFolder, "*.npy").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToList()
        : [];

    /// <summary>The file_name of every training image, in annotation order (the rows of an embedding file).</summary>
    public IReadOnlyList<string> TrainingFileNames() => Enumerable.Range(0, train.Count)
        .Select(i => Path.GetRelativePath(train.Root, train.Location(i).File).Replace('\\', '/')).ToList();

    /// <summary>Number of classes of a rank (or the supercategory) among the species present.</summary>
    public int ClassCountOf(string rank) => named.TryGetValue(rank, out var level) ? level.ClassCount
        : throw new ArgumentException($"'{rank}' is not a named level ({string.Join(", ", named.Keys)})");

    public LabelMap Labels(string level)
    {
        if (named.TryGetValue(level, out var map)) return LabelMap.Numbered(level, map.LeafToLabel, map.ClassCount);
        var (_, count) = PerImage(level);
        return LabelMap.PerImage(level, count);
    }

    public IBatchSource Training(string level, int batchSize, int seed) => Source(level, style.Training(seed, batchSize));

    public IBatchSource TrainingForFeatures(string level, int batchSize) => Source(level, style.Evaluation(batchSize));

    public IReadOnlyList<(string Split, IBatchSource Source)> Evaluation(string level, int batchSize)
    {
        if (!named.TryGetValue(level, out var map)) return [];
        if (!style.IsStandIn) return [("val", new ImageBatchLoader(val, map.LeafToLabel, style.Evaluation(batchSize)))];
        decodedVal ??= LoaderStyle.DecodeAll(val, style);
        return [("val", new InMemoryBatchSource(decodedVal, val.LabelsFrom(map.LeafToLabel).Select(l => (long)l).ToArray(), map.ClassCount, batchSize, false, 0))];
    }

    private IBatchSource Source(string level, ImageLoaderOptions options)
    {
        var (labels, count) = named.TryGetValue(level, out var map) ? (train.LabelsFrom(map.LeafToLabel), map.ClassCount) : PerImage(level);
        if (style.IsStandIn)
        {
            decodedTrain ??= LoaderStyle.DecodeAll(train, style);
            return new InMemoryBatchSource(decodedTrain, labels.Select(l => (long)l).ToArray(), count, options.BatchSize, options.Shuffle, options.Seed);
        }
        if (map.LeafToLabel is not null) return new ImageBatchLoader(train, map.LeafToLabel, options);
        return new PerImageLabelSource(new ImageBatchLoader(train, new int[train.CategoryCount], options), labels, count);
    }

    /// <summary>The per-image labels of a comparison level (computed once; k-means labels are cached beside the embeddings).</summary>
    public (int[] Labels, int ClassCount) PerImage(string level)
    {
        if (perImage.TryGetValue(level, out var cached)) return cached;
        var parts = level.Split(':');
        string Rank()
        {
            if (parts.Length < 2 || !ComparisonRanks.Contains(parts[1]))
                throw new ArgumentException($"level '{level}': expected KIND:RANK with RANK one of {string.Join(", ", ComparisonRanks)}");
            return parts[1];
        }
        var target = named[TargetLevel];
        var targetLabels = train.LabelsFrom(target.LeafToLabel);
        (int[], int) result = parts[0] switch
        {
            "one-per-image" when parts.Length == 1 => (ComparisonLabels.OnePerImage(train.Count).Labels, train.Count),
            "random-within" when parts.Length == 2 => Pack(ComparisonLabels.RandomWithinTarget(targetLabels, target.ClassCount, ClassCountOf(Rank()), SeedMix.Combine(seed, 0x52414E44))),
            "random-across" when parts.Length == 2 => Pack(ComparisonLabels.RandomAcrossDataset(train.Count, ClassCountOf(Rank()), SeedMix.Combine(seed, 0x52414E44))),
            "clusters-within" or "clusters-across" when parts.Length == 3 => Clusters(parts[0] == "clusters-within", Rank(), parts[2], targetLabels, target.ClassCount),
            _ => throw new ArgumentException($"'{level}' is not a level of {Name} (levels: {string.Join(", ", Levels)})"),
        };
        perImage[level] = result;
        return result;
    }

    private static (int[], int) Pack(ImageLabels labels) => (labels.Labels, labels.ClassCount);

    private (int[], int) Clusters(bool within, string rank, string embeddingId, int[] targetLabels, int targetClasses)
    {
        var path = Path.Combine(EmbeddingsFolder, embeddingId + ".npy");
        if (!File.Exists(path))
            throw new ArgumentException($"embeddings '{embeddingId}' not found: no {path} (present: {string.Join(", ", EmbeddingIds().DefaultIfEmpty("none"))}); import a file with `granularity experiment inat2021 embeddings --import FILE --name {embeddingId}`");
        int classes = ClassCountOf(rank);
        var cache = Path.Combine(EmbeddingsFolder, $"{embeddingId}.{(within ? "within" : "across")}-{rank}-s{seed}.labels.txt");
        if (File.Exists(cache) && File.GetLastWriteTimeUtc(cache) >= File.GetLastWriteTimeUtc(path))
        {
            var saved = File.ReadAllLines(cache).Select(int.Parse).ToArray();
            if (saved.Length == train.Count) return (saved, classes);
        }
        var embeddings = EmbeddingFile.Read(path, TrainingFileNames());
        var labels = within
            ? ComparisonLabels.KMeansWithinTarget(embeddings.Values, embeddings.Dimension, targetLabels, targetClasses, classes, seed)
            : ComparisonLabels.KMeansAcrossDataset(embeddings.Values, embeddings.Dimension, classes, seed);
        AtomicFile.WriteAllText(cache, string.Join('\n', labels.Labels) + "\n");
        return (labels.Labels, classes);
    }

    public void Dispose()
    {
        decodedTrain?.Dispose();
        decodedVal?.Dispose();
    }
}

/// <summary>
/// ImageNet-21k → ImageNet-1k (or its stand-in) for the engine. Levels: <c>imagenet1k</c> (the target: ImageNet-1k train,
/// evaluated on its val), <c>imagenet21k-leaf</c> (every ImageNet-21k class), <c>imagenet21k-up:N</c> (N steps up the WordNet
/// tree of <see cref="HierarchySources.DefaultRule"/>, NLTK's first hypernym), <c>imagenet21k-pointer-up:N</c> (pointer-order
/// tree) and <c>imagenet21k-shortest-up:N</c> (shortest-path tree). ImageNet-21k levels are evaluated on
/// the last images of each class, held out from pretraining ("heldout").
/// </summary>
public sealed class ImageNetTrainingData : ITrainingData
{
    public const string TargetLevel = "imagenet1k";
    public const string LeafLevel = "imagenet21k-leaf";

    /// <summary>Level-name prefix of each WordNet rule's "N steps up" levels; the default rule has the plain one.</summary>
    public static readonly IReadOnlyList<(ParentRule Rule, string Prefix)> ImageNetLevelPrefixes = new[]
    {
        (HierarchySources.DefaultRule, "imagenet21k-up:"), (ParentRule.PointerOrder, "imagenet21k-pointer-up:"), (ParentRule.ShortestPath, "imagenet21k-shortest-up:"),
    };

    /// <summary>The WordNet rule of a level name (the default rule for the leaf level and plain <c>imagenet21k-up:N</c>).</summary>
    public static ParentRule RuleOf(string level) =>
        ImageNetLevelPrefixes.Where(p => level.StartsWith(p.Prefix, StringComparison.Ordinal)).Select(p => p.Rule).DefaultIfEmpty(HierarchySources.DefaultRule).First();

    private readonly ImageDataset pretraining, heldOut, train1k, val1k;
    private readonly LoaderStyle style;
    private readonly Dictionary<string, (int[] LeafToLabel, int ClassCount)> levels = new(StringComparer.Ordinal);
    private readonly Dictionary<ImageDataset, torch.Tensor> decoded = new();

    internal ImageNetTrainingData(string name, ImageDataset imageNet21k, ImageDataset train1k, ImageDataset val1k, int heldOutPerClass, LoaderStyle style, bool isStandIn, bool[]? dropped = null)
    {
        Name = name;
        IsStandIn = isStandIn;
        if (dropped is not null)
        {
            if (dropped.Length != imageNet21k.Count) throw new ArgumentException($"{imageNet21k.Name}: the de-duplication mask covers {dropped.Length:N0} images, the set has {imageNet21k.Count:N0}", nameof(dropped));
            DuplicatesDropped = dropped.Count(d => d);
            imageNet21k = imageNet21k.Subset(i => !dropped[i], imageNet21k.Name);
        }
        this.style = style;
        this.train1k = train1k;
        this.val1k = val1k;
        // The last images of each class (in index order) are held out to evaluate pretraining at its own level.
        var totals = new int[imageNet21k.CategoryCount];
        foreach (var c in imageNet21k.Categories) totals[c]++;
        var seen = new int[imageNet21k.CategoryCount];
        var isHeldOut = new bool[imageNet21k.Count];
        for (int i = 0; i < imageNet21k.Count; i++)
        {
            int c = imageNet21k.CategoryOf(i);
            isHeldOut[i] = seen[c]++ >= totals[c] - Math.Min(heldOutPerClass, totals[c] / 2);
        }
        pretraining = imageNet21k.Subset(i => !isHeldOut[i], imageNet21k.Name + "/pretraining");
        heldOut = imageNet21k.Subset(i => isHeldOut[i], imageNet21k.Name + "/heldout");

        var present1k = RealDatasets.Present(train1k);
        var missing = val1k.Categories.FirstOrDefault(c => !present1k[c], -1);
        if (missing >= 0) throw new InvalidDataException($"{val1k.Name}: class {val1k.CategoryNames[missing]} has validation images but no training images");
        levels[TargetLevel] = RealDatasets.Restrict(Enumerable.Range(0, train1k.CategoryCount).ToArray(), present1k);

        var present21k = RealDatasets.Present(imageNet21k);
        foreach (var (rule, prefix) in ImageNetLevelPrefixes)
        {
            var tree = ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet21k, rule);
            var leafOfCategory = imageNet21k.CategoryNames.Select(w => tree.LeafIndex(w)).ToArray();
            for (int n = 0; n <= tree.MaxLeafDepth; n++)
            {
                var cut = tree.Cut(GranularityLevel.StepsUp(n));
                var restricted = RealDatasets.Restrict(leafOfCategory.Select(l => cut.LeafToLabel[l]).ToArray(), present21k);
                if (n == 0) { if (rule == HierarchySources.DefaultRule) levels[LeafLevel] = restricted; continue; }
                levels[prefix + n] = restricted;
            }
        }
    }

    public string Name { get; }
    public bool IsStandIn { get; }

    /// <summary>ImageNet-21k images left out because they duplicate ImageNet-1k validation images (0 when de-duplication is off).</summary>
    public int DuplicatesDropped { get; }

    public IReadOnlyList<string> Levels => levels.Keys.ToList();

    /// <summary>Classes of each level among the classes present (what the level table shows).</summary>
    public IReadOnlyList<(string Level, int Classes)> ClassCounts => levels.Select(l => (l.Key, l.Value.ClassCount)).ToList();

    public LabelMap Labels(string level) =>
        levels.TryGetValue(level, out var map) ? LabelMap.Numbered(level, map.LeafToLabel, map.ClassCount)
        : throw new ArgumentException($"'{level}' is not a level of {Name} (levels: {string.Join(", ", levels.Keys)})");

    public IBatchSource Training(string level, int batchSize, int seed) =>
        Source(level == TargetLevel ? train1k : pretraining, level, style.Training(seed, batchSize));

    public IBatchSource TrainingForFeatures(string level, int batchSize) =>
        Source(level == TargetLevel ? train1k : pretraining, level, style.Evaluation(batchSize));

    public IReadOnlyList<(string Split, IBatchSource Source)> Evaluation(string level, int batchSize) => level == TargetLevel
        ? [("val", Source(val1k, level, style.Evaluation(batchSize)))]
        : [("heldout", Source(heldOut, level, style.Evaluation(batchSize)))];

    private IBatchSource Source(ImageDataset images, string level, ImageLoaderOptions options)
    {
        var map = Labels(level);
        if (!style.IsStandIn) return new ImageBatchLoader(images, map.LabelOfLeaf!, options);
        if (!decoded.TryGetValue(images, out var pixels)) decoded[images] = pixels = LoaderStyle.DecodeAll(images, style);
        return new InMemoryBatchSource(pixels, images.LabelsFrom(map.LabelOfLeaf!).Select(l => (long)l).ToArray(), map.ClassCount, options.BatchSize, options.Shuffle, options.Seed);
    }

    public void Dispose()
    {
        foreach (var pixels in decoded.Values) pixels.Dispose();
        decoded.Clear();
    }
}
