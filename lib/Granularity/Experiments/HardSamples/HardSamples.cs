using Granularity.Core;
using System.Diagnostics;
using Granularity.Runs;
using Granularity.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Experiments;

/// <summary>
/// Operational definitions of a HardSample on real data, each a score from a coarse-trained reference model (low = hard):
/// how weak the superclass-wide evidence for the image's own target class is.
/// </summary>
public enum HardnessDefinition
{
    /// <summary>Softmax probability of the true target class.</summary>
    TargetProbability,
    /// <summary>Logit of the true target class minus the largest other logit.</summary>
    TargetMargin,
    /// <summary>Cosine similarity of the image's embedding to the centroid of its target class over the training images.</summary>
    CentroidSimilarity,
}

/// <summary>
/// Notebook 06's experiment: which test images are hard (scored by a coarse reference model trained with a seed of its
/// own), whether that agrees with the known hard samples where the data has them, and how the error of the baseline and of
/// fine-pretrained models splits over hardness.
/// </summary>
public sealed record HardSamplesConfig(
    string Name,                        // "quick" (synthetic) or "inat2021" (Full)
    TrainingConfig Reference,           // a baseline (PretrainingLevel = TargetLevel) whose outputs score hardness
    IReadOnlyList<string> FineLevels,   // PretrainingLevels compared with the baseline (same protocol as Reference)
    IReadOnlyList<int> Seeds,           // seeds of the compared baseline and fine runs; never Reference.Seed
    int Bins = 5,                       // hardness quantile bins; bin 1 holds the hardest images
    double HardShare = 0.2,             // share of test images called hard (the lowest-scoring quantile) [ours]
    HardnessDefinition Definition = HardnessDefinition.TargetProbability) : IExperimentConfig<HardSamplesConfig> // the definition the gain is measured with
{
    /// <summary>The evaluation split a real dataset is scored on; synthetic data has "easy" and "hard" with a ground truth.</summary>
    public const string GroundTruthHardSplit = "hard";

    public HardSamplesConfig Validated()
    {
        Reference.Validated();
        if (string.IsNullOrWhiteSpace(Name)) throw new ArgumentException("HardSamplesConfig.Name must be a short name, got an empty string");
        if (!Reference.IsBaseline)
            throw new ArgumentException($"HardSamplesConfig.Reference must be a baseline (PretrainingLevel = TargetLevel), got {Reference.PretrainingLevel} → {Reference.TargetLevel}");
        if (FineLevels.Count == 0) throw new ArgumentException("HardSamplesConfig.FineLevels must name at least one pretraining level");
        if (FineLevels.Contains(Reference.TargetLevel))
            throw new ArgumentException($"HardSamplesConfig.FineLevels must not contain the target level '{Reference.TargetLevel}' (the baseline is always compared)");
        if (Seeds.Count == 0 || Seeds.Any(s => s < 0)) throw new ArgumentException($"HardSamplesConfig.Seeds must be one or more seeds ≥ 0, got [{string.Join(", ", Seeds)}]");
        // Scoring hardness with a model that is also compared would make its own errors define "hard" (selection bias).
        if (Seeds.Contains(Reference.Seed))
            throw new ArgumentException($"HardSamplesConfig.Seeds must not contain Reference.Seed {Reference.Seed}: the reference model must be independent of the compared runs");
        if (Bins is < 2 or > 20) throw new ArgumentException($"HardSamplesConfig.Bins must be in [2, 20], got {Bins}");
        if (HardShare is <= 0 or > 0.5) throw new ArgumentException($"HardSamplesConfig.HardShare must be in (0, 0.5], got {HardShare}");
        return this;
    }

    /// <summary>The compared baseline of <paramref name="seed"/>.</summary>
    public TrainingConfig Baseline(int seed) => Reference with { PretrainingLevel = Reference.TargetLevel, Seed = seed };

    /// <summary>The compared fine-pretrained run at <paramref name="level"/> and <paramref name="seed"/>.</summary>
    public TrainingConfig Finetuned(string level, int seed) => Reference with { PretrainingLevel = level, Seed = seed };

    /// <summary>Every training run the study needs: the reference, then baselines and fine runs per seed.</summary>
    public IReadOnlyList<TrainingConfig> Runs() =>
        new[] { Reference }.Concat(Seeds.SelectMany(s => new[] { Baseline(s) }.Concat(FineLevels.Select(l => Finetuned(l, s))))).ToList();

    /// <summary>
    /// Quick (synthetic, CPU minutes): the toy hierarchy with one fixed world, 2,000 training and 1,000 + 1,000 easy/hard
    /// test images, the small CNN, leaf pretraining with a linear probe (the synthetic note's stable readout); reference
    /// seed 100, compared seeds 0 and 1.
    /// </summary>
    public static HardSamplesConfig Quick() => new(
        "quick",
        TrainingProtocols.QuickLinearProbe("coarse", "coarse", seed: 100) with
        {
            Dataset = new DatasetConfig(HardSampleDatasets.FixedWorldToyName, TrainSamples: 2000, EvaluationSamples: 1000, ImageSize: 32),
        },
        FineLevels: ["leaf"],
        Seeds: [0, 1]);

    /// <summary>
    /// Quick on the iNat2021-format stand-in of notebook 04 (its Quick template: 32 px, BN small CNN, 6 + 2 epochs,
    /// baseline 8): baseline and species pretraining at seed 0 are notebook 04's own runs (reused when present); the
    /// reference is one extra baseline at seed 100. The stand-in has no ground-truth hard flag.
    /// </summary>
    public static HardSamplesConfig StandIn() => new(
        "inat2021-standin",
        Inat2021ExperimentConfig.Quick().Template with { PretrainingLevel = Inat2021TrainingData.TargetLevel, Seed = 100 },
        FineLevels: ["species"],
        Seeds: [0]);

    /// <summary>
    /// Full (iNat2021, GPU): the inat2021-resnet34 protocol, target = supercategory, compared with genus and species
    /// pretraining at seed 0; the reference is a second baseline (seed 1) that only scores hardness.
    /// </summary>
    public static HardSamplesConfig Full() => new(
        "inat2021",
        TrainingProtocols.Inat2021ResNet34("supercategory", "supercategory", seed: 1),
        FineLevels: ["genus", "species"],
        Seeds: [0]);
}

/// <summary>Per-sample hardness scores of one evaluation split (low = hard), from the reference model.</summary>
public sealed record HardnessScores(string Split, long[] Indices, int[] Labels, double[] TargetProbability, double[] TargetMargin, double[] CentroidSimilarity)
{
    public int Count => Indices.Length;

    public double[] Of(HardnessDefinition definition) => definition switch
    {
        HardnessDefinition.TargetProbability => TargetProbability,
        HardnessDefinition.TargetMargin => TargetMargin,
        HardnessDefinition.CentroidSimilarity => CentroidSimilarity,
        _ => throw new ArgumentOutOfRangeException(nameof(definition), definition, "unknown hardness definition"),
    };
}

/// <summary>What a hardness-scoring run wrote: the reference run, one scores file per split, the time taken.</summary>
public sealed record HardnessScoringSummary(string ReferenceRun, IReadOnlyList<string> Splits, IReadOnlyList<int> Counts, double Seconds, string LibraryVersion);

/// <summary>The cache key of a scoring run: the reference experiment and the batch size of its inference passes.</summary>
public sealed record HardnessScoringConfig(TrainingConfig Reference, int BatchSize = 256);

/// <summary>Scores every test image with the reference model: target probability and margin, and centroid similarity.</summary>
public static class HardnessScoring
{
    public const string ExperimentName = "hardness";

    public static string ScoresFile(string split) => $"hardness-{split}.csv";

    /// <summary>
    /// Scores of every evaluation split of the reference run's dataset; a finished scoring run is reused. The reference
    /// experiment must be finished (its model.ckpt is read).
    /// </summary>
    public static (RunFolder Folder, IReadOnlyList<HardnessScores> Scores) GetOrScore(TrainingRunView reference, string? runsRoot = null, int batchSize = 256)
    {
        var config = new HardnessScoringConfig(reference.Config, batchSize);
        var (folder, summary, _) = new RunStore(runsRoot ?? ProjectPaths.RunsRoot).GetOrRun(ExperimentName, config, "Experiments", folder => Score(reference, folder, batchSize));
        return (folder, summary.Splits.Select(s => Read(folder, s)).ToList());
    }

    /// <summary>The reference run's finished, current scores, or null: reads only, never scores (figures and read-only studies).</summary>
    public static (RunFolder Folder, IReadOnlyList<HardnessScores> Scores)? TryRead(TrainingRunView reference, string? runsRoot = null, int batchSize = 256)
    {
        var lookup = new RunStore(runsRoot ?? ProjectPaths.RunsRoot)
            .TryRead<HardnessScoringConfig, HardnessScoringSummary>(ExperimentName, new HardnessScoringConfig(reference.Config, batchSize), ResultVersion.OfLayer("Experiments"));
        return lookup.IsFresh && lookup.Summary is { } summary ? (lookup.Folder, summary.Splits.Select(s => Read(lookup.Folder, s)).ToList()) : null;
    }

    private static HardnessScoringSummary Score(TrainingRunView reference, RunFolder folder, int batchSize)
    {
        var clock = Stopwatch.StartNew();
        var config = reference.Config;
        using var data = ExperimentDatasets.All.Open(config.Dataset, config.Seed);
        var labels = TrainingDatasets.RequireLevel(data, config.TargetLevel, "Reference.TargetLevel");
        var saved = Checkpoint.Read(reference.Folder.File(TrainingEngine.ModelFile));
        saved.RequireLabels(labels);
        using var model = saved.CreateClassifier();
        model.to(TorchRuntime.Device);
        model.eval();
        using var centroids = Centroids(model, data.TrainingForFeatures(config.TargetLevel, batchSize), labels.ClassCount);
        var splits = new List<string>();
        var counts = new List<int>();
        foreach (var (split, source) in data.Evaluation(config.TargetLevel, batchSize))
        {
            var table = new MetricsTable(["index", "label", "target_probability", "target_margin", "centroid_similarity"]);
            using (no_grad())
            {
                foreach (var batch in source.Epoch(0))
                {
                    using var owned = batch;
                    using var scope = NewDisposeScope();
                    var features = model.Features(batch.Images.to(TorchRuntime.Device));
                    var logits = model.Head.call(features);
                    var target = batch.Labels.to(ScalarType.Int64).to(TorchRuntime.Device);
                    var probability = logits.softmax(1).gather(1, target.unsqueeze(1)).squeeze(1);
                    var own = logits.gather(1, target.unsqueeze(1)).squeeze(1);
                    var others = logits.masked_fill(nn.functional.one_hot(target, logits.shape[1]).to(ScalarType.Bool), float.NegativeInfinity).max(1).values;
                    var similarity = nn.functional.normalize(features, dim: 1).mul(centroids.index_select(0, target)).sum(1);
                    var p = probability.cpu().to(ScalarType.Float64).data<double>().ToArray();
                    var m = own.sub(others).cpu().to(ScalarType.Float64).data<double>().ToArray();
                    var c = similarity.cpu().to(ScalarType.Float64).data<double>().ToArray();
                    var y = target.cpu().data<long>().ToArray();
                    for (int i = 0; i < batch.Size; i++) table.Add(batch.Indices[i], y[i], p[i], m[i], c[i]);
                }
            }
            table.Save(folder.File(ScoresFile(split)));
            splits.Add(split);
            counts.Add(table.Rows.Count);
        }
        var metrics = new MetricsTable(["split", "count", "seconds"]);
        for (int i = 0; i < splits.Count; i++) metrics.Add(i, counts[i], clock.Elapsed.TotalSeconds);
        folder.WriteMetrics(metrics);
        return new HardnessScoringSummary(Path.GetRelativePath(folder.Path, reference.Folder.Path), splits, counts, clock.Elapsed.TotalSeconds, BuildInfo.LibraryVersion);
    }

    /// <summary>Unit-length mean of the unit-length features of each class's training images (C×F).</summary>
    private static Tensor Centroids(Training.Models.Classifier model, Data.IBatchSource source, int classCount)
    {
        using var scope = NewDisposeScope();
        Tensor? sums = null;
        using (no_grad())
        {
            foreach (var batch in source.Epoch(0))
            {
                using var owned = batch;
                var features = nn.functional.normalize(model.Features(batch.Images.to(TorchRuntime.Device)), dim: 1);
                sums ??= zeros(classCount, features.shape[1], device: features.device);
                sums.index_add_(0, batch.Labels.to(ScalarType.Int64).to(features.device), features, 1);
            }
        }
        if (sums is null) throw new InvalidDataException("the reference dataset has no training images to build class centroids from");
        return nn.functional.normalize(sums, dim: 1).MoveToOuterDisposeScope();
    }

    /// <summary>Reads the scores of <paramref name="split"/> from a finished scoring run.</summary>
    public static HardnessScores Read(RunFolder folder, string split)
    {
        var path = folder.File(ScoresFile(split));
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no hardness scores for split '{split}'", path);
        var table = MetricsTable.Load(path);
        return new HardnessScores(split,
            table.Column("index").Select(v => (long)v).ToArray(),
            table.Column("label").Select(v => (int)v).ToArray(),
            table.Column("target_probability"), table.Column("target_margin"), table.Column("centroid_similarity"));
    }
}
