using Granularity.Data;
using Granularity.Hierarchy;

namespace Granularity.Training;

/// <summary>
/// The synthetic hierarchical image set (docs/synthetic-hierarchy.md, "Generator") as training data for the engine:
/// levels are the pilot's label sets (coarse, mid, leaf, split4, split16, instance, rand_nested, rand_full, cross, cross8)
/// plus any per-image level added with <see cref="WithLevel"/> (e.g. k-means cluster labels). Evaluation splits are
/// "easy" (common feature present) and "hard" (absent); they exist only at levels that are functions of the leaf
/// (coarse, mid, leaf, cross, cross8), because per-image and random labels mean nothing on unseen test images.
/// </summary>
public sealed class SyntheticHierarchyData : ITrainingData
{
    public const string DatasetName = "synthetic-hierarchy";

    /// <summary>
    /// The same world and training images, evaluated on a validation pair (easy, hard) drawn from their own streams: what a
    /// schedule search reads, so the test pair is read only by the final runs.
    /// </summary>
    public const string ValidationDatasetName = "synthetic-hierarchy-validation";

    /// <summary>The share of hard training images when <see cref="DatasetConfig.HardTrainingShare"/> is not set (note §1).</summary>
    public const double DefaultHardTrainingShare = 0.10;

    private static readonly (string Name, SyntheticLabelSet Set)[] BuiltIn =
    [
        ("coarse", SyntheticLabelSet.Coarse), ("mid", SyntheticLabelSet.Mid), ("leaf", SyntheticLabelSet.Leaf),
        ("split4", SyntheticLabelSet.Split4), ("split16", SyntheticLabelSet.Split16), ("instance", SyntheticLabelSet.Instance),
        ("rand_nested", SyntheticLabelSet.RandNested), ("rand_full", SyntheticLabelSet.RandFull),
        ("cross", SyntheticLabelSet.Cross), ("cross8", SyntheticLabelSet.Cross8),
    ];

    private readonly Dictionary<string, (int[] Labels, int ClassCount, int[]? LabelOfLeaf)> levels = new(StringComparer.Ordinal);
    private readonly List<string> levelOrder = [];

    private SyntheticHierarchyData(SyntheticWorld world, SyntheticImageSet train, SyntheticImageSet easy, SyntheticImageSet hard, int seed)
    {
        World = world; Train = train; EasyTest = easy; HardTest = hard; Seed = seed;
        var config = world.Config;
        foreach (var (name, set) in BuiltIn)
        {
            var (labels, classes) = SyntheticLabelSets.Labels(train, set, seed);
            int[]? ofLeaf = set switch
            {
                SyntheticLabelSet.Coarse => config.LeafToSuperclass(),
                SyntheticLabelSet.Mid => config.LeafToMiddle(),
                SyntheticLabelSet.Leaf => config.LeafToLeaf(),
                SyntheticLabelSet.Cross => Enumerable.Range(0, config.LeafCount).Select(l => l % config.LeavesPerSuperclass).ToArray(),
                SyntheticLabelSet.Cross8 => Enumerable.Range(0, config.LeafCount)
                    .Select(l => config.SuperclassOfLeaf(l) % 2 * config.LeavesPerSuperclass + l % config.LeavesPerSuperclass).ToArray(),
                _ => null,
            };
            Add(name, labels, classes, ofLeaf);
        }
    }

    public SyntheticWorld World { get; }
    public SyntheticImageSet Train { get; }
    public SyntheticImageSet EasyTest { get; }
    public SyntheticImageSet HardTest { get; }
    public int Seed { get; }

    public IReadOnlyList<string> Levels => levelOrder;

    /// <summary>
    /// Builds the world of <paramref name="seed"/> and its three splits: sizes from the config (defaults 4,000 training and
    /// 2,000 per test split), image size from the config (default 32 px), hard training share from
    /// <see cref="DatasetConfig.HardTrainingShare"/> (default 0.10).
    /// </summary>
    public static SyntheticHierarchyData Create(DatasetConfig config, int seed, SyntheticHierarchyConfig? world = null)
    {
        var size = config.ImageSize > 0 ? config.ImageSize : 32;
        var worldConfig = (world ?? SyntheticHierarchyConfig.Default()) with { ImageSize = size };
        try { worldConfig.Validate(); }
        catch (ArgumentException error) { throw new ArgumentException($"DatasetConfig for {DatasetName}: {error.Message}", error); }
        var share = config.HardTrainingShare >= 0 ? config.HardTrainingShare : DefaultHardTrainingShare;
        var created = SyntheticWorld.Create(worldConfig, seed);
        int trainCount = config.TrainSamples > 0 ? config.TrainSamples : 4000, evaluationCount = config.EvaluationSamples > 0 ? config.EvaluationSamples : 2000;
        var (train, easy, hard) = config.Name == ValidationDatasetName
            ? (created.Sample(trainCount, share, stream: 0), created.Sample(evaluationCount, 0, stream: 3), created.Sample(evaluationCount, 1, stream: 4))
            : created.StandardSplits(trainCount, share, evaluationCount);
        return new SyntheticHierarchyData(created, train, easy, hard, seed);
    }

    /// <summary>Adds a level defined per training image (cluster labels, say); it has no evaluation splits.</summary>
    public SyntheticHierarchyData WithLevel(string name, int[] trainingLabels, int classCount)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("level name must not be empty", nameof(name));
        if (levels.ContainsKey(name)) throw new ArgumentException($"level '{name}' already exists (levels: {string.Join(", ", levelOrder)})", nameof(name));
        if (trainingLabels.Length != Train.Count) throw new ArgumentException($"level '{name}': expected {Train.Count} training labels, got {trainingLabels.Length}", nameof(trainingLabels));
        var bad = Array.FindIndex(trainingLabels, l => l < 0 || l >= classCount);
        if (bad >= 0) throw new ArgumentException($"level '{name}': training image {bad} has label {trainingLabels[bad]}, outside [0, {classCount})", nameof(trainingLabels));
        Add(name, trainingLabels, classCount, null);
        return this;
    }

    /// <summary>The per-image labels of <paramref name="level"/> on the training images.</summary>
    public int[] TrainingLabels(string level) => Level(level).Labels;

    public LabelMap Labels(string level)
    {
        var (_, classes, ofLeaf) = Level(level);
        return ofLeaf is null ? LabelMap.PerImage(level, classes) : LabelMap.Numbered(level, ofLeaf, classes);
    }

    public IBatchSource Training(string level, int batchSize, int seed)
    {
        var (labels, classes, _) = Level(level);
        return new SyntheticBatchSource(Train, labels, classes, batchSize, shuffle: true, seed);
    }

    public IBatchSource TrainingForFeatures(string level, int batchSize)
    {
        var (labels, classes, _) = Level(level);
        return new SyntheticBatchSource(Train, labels, classes, batchSize, shuffle: false, 0);
    }

    public IReadOnlyList<(string Split, IBatchSource Source)> Evaluation(string level, int batchSize)
    {
        var (_, classes, ofLeaf) = Level(level);
        if (ofLeaf is null) return [];
        return [("easy", new SyntheticBatchSource(EasyTest, EasyTest.LabelsFrom(ofLeaf), classes, batchSize, false, 0)),
                ("hard", new SyntheticBatchSource(HardTest, HardTest.LabelsFrom(ofLeaf), classes, batchSize, false, 0))];
    }

    public void Dispose() { }

    private void Add(string name, int[] labels, int classes, int[]? ofLeaf)
    {
        levels[name] = (labels, classes, ofLeaf);
        levelOrder.Add(name);
    }

    private (int[] Labels, int ClassCount, int[]? LabelOfLeaf) Level(string level) =>
        levels.TryGetValue(level, out var found) ? found
            : throw new ArgumentException($"level '{level}' is not a level of {DatasetName} (levels: {string.Join(", ", levelOrder)})");
}
