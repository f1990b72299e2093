namespace Granularity.Hierarchy;

/// <summary>
/// Settings of the worked alignment measurement of notebook 02: iNat2021 images labelled at every rank and by the
/// comparison label sets, scored by H(supercategory | labels). Image features for k-means are synthetic: each taxon on a
/// species' path adds a fixed random direction, plus noise (no real images needed).
/// </summary>
public sealed record AlignmentStudyConfig(
    int ImagesPerSpecies,   // images per species (train_mini has 50) [ours: fewer for speed]
    int FeatureDimension,   // length of the synthetic feature vectors [ours]
    double FeatureNoise,    // standard deviation of per-image noise, relative to a unit taxon direction [ours]
    int MatchedClasses,     // classes of the random and k-means labellings; 273 = the order rank [paper: matched to a taxonomy level]
    int KMeansIterations,   // Lloyd iterations [ours]
    int Seed)
{
    public AlignmentStudyConfig Validate()
    {
        if (ImagesPerSpecies < 1 || ImagesPerSpecies > 50) throw new ArgumentException($"ImagesPerSpecies must be in 1..50, got {ImagesPerSpecies}");
        if (FeatureDimension < 2 || FeatureDimension > 4096) throw new ArgumentException($"FeatureDimension must be in 2..4096, got {FeatureDimension}");
        if (FeatureNoise < 0 || double.IsNaN(FeatureNoise)) throw new ArgumentException($"FeatureNoise must be ≥ 0, got {FeatureNoise}");
        if (MatchedClasses < 11 || MatchedClasses > 10_000 * ImagesPerSpecies) throw new ArgumentException($"MatchedClasses must be in 11..{10_000 * ImagesPerSpecies}, got {MatchedClasses}");
        if (KMeansIterations < 1) throw new ArgumentException($"KMeansIterations must be ≥ 1, got {KMeansIterations}");
        return this;
    }

    /// <summary>Seconds on a laptop core: one image per species, 273 classes.</summary>
    public static AlignmentStudyConfig Quick() => new(ImagesPerSpecies: 1, FeatureDimension: 32, FeatureNoise: 0.5, MatchedClasses: 273, KMeansIterations: 15, Seed: 0);

    /// <summary>Five images per species and the family count (1,103 classes).</summary>
    public static AlignmentStudyConfig Full() => new(ImagesPerSpecies: 5, FeatureDimension: 64, FeatureNoise: 0.5, MatchedClasses: 1_103, KMeansIterations: 30, Seed: 0);
}

/// <summary>One labelling of the study and how well it is aligned with the target (supercategory).</summary>
public sealed record AlignmentRow(string Labelling, int Classes, double ConditionalEntropyBits, double NormalizedConditionalEntropy, bool IsCoarsening);

/// <summary>Runs the worked alignment measurement (see <see cref="AlignmentStudyConfig"/>).</summary>
public static class AlignmentStudy
{
    public static IReadOnlyList<AlignmentRow> Run(AlignmentStudyConfig config)
    {
        config.Validate();
        var categories = Inat2021.CommittedCategories();
        var tree = Inat2021.Tree();
        var target = Inat2021.Supercategories(categories);
        int images = tree.LeafCount * config.ImagesPerSpecies;
        var leafOfImage = new int[images];
        for (int i = 0; i < images; i++) leafOfImage[i] = i / config.ImagesPerSpecies;
        var targetLabels = target.LabelImages(leafOfImage);
        var rows = new List<AlignmentRow>();
        void Add(string name, int[] labels, int classes)
        {
            var report = Alignment.Measure(labels, classes, targetLabels, target.ClassCount);
            rows.Add(new AlignmentRow(name, classes, report.ConditionalEntropyBits, report.NormalizedConditionalEntropy, report.IsCoarsening));
        }
        foreach (var rank in Inat2021.Ranks)
        {
            var map = Inat2021.AtRank(tree, rank);
            Add($"taxonomy: {rank}", map.LabelImages(leafOfImage), map.ClassCount);
        }
        int k = config.MatchedClasses;
        var within = ComparisonLabels.RandomWithinTarget(targetLabels, target.ClassCount, k, config.Seed);
        Add("random within target", within.Labels, k);
        var across = ComparisonLabels.RandomAcrossDataset(images, k, config.Seed);
        Add("random across dataset", across.Labels, k);
        var features = SyntheticFeatures(tree, leafOfImage, config);
        var clustersWithin = ComparisonLabels.KMeansWithinTarget(features, config.FeatureDimension, targetLabels, target.ClassCount, k, config.Seed, config.KMeansIterations);
        Add("k-means within target", clustersWithin.Labels, k);
        var clustersAcross = ComparisonLabels.KMeansAcrossDataset(features, config.FeatureDimension, k, config.Seed, config.KMeansIterations);
        Add("k-means across dataset", clustersAcross.Labels, k);
        var one = ComparisonLabels.OnePerImage(images);
        Add("one label per image", one.Labels, images);
        return rows;
    }

    /// <summary>Feature of an image: Σ over the taxa on its species' path of a fixed random unit direction, plus Gaussian noise.</summary>
    public static float[] SyntheticFeatures(LabelTree tree, int[] leafOfImage, AlignmentStudyConfig config)
    {
        int d = config.FeatureDimension;
        var direction = new float[tree.NodeCount * d];
        var random = new Random(config.Seed);
        for (int node = 0; node < tree.NodeCount; node++)
        {
            double norm = 0;
            for (int j = 0; j < d; j++) { var g = Gaussian(random); direction[node * d + j] = (float)g; norm += g * g; }
            for (int j = 0; j < d; j++) direction[node * d + j] /= (float)Math.Sqrt(norm);
        }
        var features = new float[leafOfImage.Length * d];
        for (int i = 0; i < leafOfImage.Length; i++)
        {
            var row = features.AsSpan(i * d, d);
            for (int node = tree.LeafNode(leafOfImage[i]); node >= 0; node = tree.Parent(node))
                for (int j = 0; j < d; j++) row[j] += direction[node * d + j];
            for (int j = 0; j < d; j++) row[j] += (float)(config.FeatureNoise * Gaussian(random));
        }
        return features;
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

/// <summary>The paper's level cuts next to ours ("Results vs paper" of notebook 02).</summary>
public sealed record PaperLevelRow(string Dataset, string Level, string PaperClasses, int OurClasses, string OurRule);

/// <summary>Class counts the paper states (or implies) for its levels, and what our trees give.</summary>
public static class PaperLevelCuts
{
    public static IReadOnlyList<PaperLevelRow> Rows()
    {
        var inat = Inat2021.Tree();
        var categories = Inat2021.CommittedCategories();
        var rows = new List<PaperLevelRow>
        {
            new("iNat2021", "supercategory (target)", "11", Inat2021.Supercategories(categories).ClassCount, "official field"),
        };
        var paper = new Dictionary<string, string> { ["kingdom"] = "3", ["phylum"] = "13", ["class"] = "51", ["order"] = "273", ["family"] = "1,103", ["genus"] = "4,884 (names)", ["species"] = "10,000" };
        foreach (var rank in Inat2021.Ranks)
            rows.Add(new("iNat2021", rank, paper[rank], Inat2021.AtRank(inat, rank).ClassCount, rank == "genus" ? "taxa by full path (16 homonym genera kept apart)" : "rank"));
        rows.Add(new("ImageNet-21k", "leaves", "21,843", ImageNetHierarchies.Classes(ImageNetLabelSet.ImageNet21k).Count, "Google's list"));
        foreach (var parentRule in new[] { ParentRule.NltkFirstHypernym, ParentRule.PointerOrder, ParentRule.ShortestPath })
        {
            var tree = ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet21k, parentRule);
            var rule = HierarchySources.RuleKey(parentRule);
            rows.Add(new("ImageNet-21k", "level 9", "38", tree.Cut(GranularityLevel.StepsUp(9)).ClassCount, $"9 steps up, {rule}"));
            var closest = tree.NearestCut(38);
            rows.Add(new("ImageNet-21k", "closest to 38", "38", closest.ClassCount, $"{closest.Level}, {rule}"));
        }
        rows.Add(new("ImageNet-1k", "leaves (target)", "1,000", ImageNetHierarchies.Classes(ImageNetLabelSet.ImageNet1k).Count, "ILSVRC-2012"));
        return rows;
    }
}
