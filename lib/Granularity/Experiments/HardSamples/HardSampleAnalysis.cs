using Granularity.Core;
using Granularity.Runs;
using Granularity.Training;

namespace Granularity.Experiments;

/// <summary>How well one hardness definition recovers the known hard samples, and how it agrees with the default definition.</summary>
public sealed record DefinitionCheck(
    HardnessDefinition Definition,
    double GroundTruthAuc,          // P(score of a true hard image < score of a true easy one); NaN without ground truth
    double PrecisionAtTrueShare,    // share truly hard among the lowest-scoring n_hard images; NaN without ground truth
    double SpearmanWithDefault,     // rank correlation with the config's Definition over all test images
    double HardSetOverlap);         // Jaccard overlap of the hardest HardShare with the default definition's

/// <summary>Per-seed error of one model over some test images (fractions in [0, 1]).</summary>
public sealed record ModelErrors(string Model, IReadOnlyList<double> PerSeed)
{
    public double Mean => PerSeed.Count == 0 ? double.NaN : PerSeed.Average();
    public double Min => PerSeed.Count == 0 ? double.NaN : PerSeed.Min();
    public double Max => PerSeed.Count == 0 ? double.NaN : PerSeed.Max();
}

/// <summary>One hardness quantile bin (bin 1 = hardest): its size, score range, true-hard share and the models' errors.</summary>
public sealed record HardnessBinRow(int Bin, int Count, double ScoreFrom, double ScoreTo, double TrueHardShare, IReadOnlyList<ModelErrors> Errors);

/// <summary>
/// Baseline vs one fine-pretrained model on a group of test images: errors (mean over seeds), the reduction in error
/// points, and the group's share of the whole test set's error reduction (the group's count × reduction over the total).
/// </summary>
public sealed record GainRow(string FineLevel, string Group, int Count, double BaselineError, double FineError, double Reduction, double ShareOfTotalReduction);

/// <summary>
/// The joined results of a hard-sample study: hardness scores of every test image, and the per-sample correctness of the
/// compared baseline and fine-pretrained runs on the same images.
/// </summary>
public sealed class HardSamplesResult
{
    private readonly double[][] scores;                 // [definition][sample]
    private readonly Dictionary<string, bool[][]> correct; // model → [seed][sample]

    internal HardSamplesResult(HardSamplesConfig config, RunFolder scoringFolder, IReadOnlyList<HardnessScores> splits,
        IReadOnlyList<TrainingRunView> baselines, IReadOnlyDictionary<string, IReadOnlyList<TrainingRunView>> finetuned)
    {
        Config = config;
        ScoringFolder = scoringFolder;
        Baselines = baselines;
        Finetuned = finetuned;
        Splits = splits.Select(s => s.Split).ToList();
        SplitOf = splits.SelectMany(s => Enumerable.Repeat(s.Split, s.Count)).ToArray();
        Indices = splits.SelectMany(s => s.Indices).ToArray();
        Labels = splits.SelectMany(s => s.Labels).ToArray();
        scores = Enum.GetValues<HardnessDefinition>().Select(d => splits.SelectMany(s => s.Of(d)).ToArray()).ToArray();
        HasGroundTruth = Splits.Contains(HardSamplesConfig.GroundTruthHardSplit) && Splits.Count > 1;
        TrueHard = HasGroundTruth ? SplitOf.Select(s => s == HardSamplesConfig.GroundTruthHardSplit).ToArray() : null;
        correct = new Dictionary<string, bool[][]> { [BaselineName] = baselines.Select(Align).ToArray() };
        foreach (var (level, runs) in finetuned) correct[level] = runs.Select(Align).ToArray();
    }

    public const string BaselineName = "baseline";

    public HardSamplesConfig Config { get; }
    public RunFolder ScoringFolder { get; }
    public IReadOnlyList<TrainingRunView> Baselines { get; }
    public IReadOnlyDictionary<string, IReadOnlyList<TrainingRunView>> Finetuned { get; }
    public IReadOnlyList<string> Splits { get; }

    /// <summary>Every scored test image, pooled over the evaluation splits: its split, index in the split, target label.</summary>
    public string[] SplitOf { get; }
    public long[] Indices { get; }
    public int[] Labels { get; }
    public int Count => Indices.Length;

    /// <summary>True where the data knows the image is hard (synthetic "hard" split); null for real data.</summary>
    public bool[]? TrueHard { get; }
    public bool HasGroundTruth { get; }

    /// <summary>The hardness score of every image under <paramref name="definition"/> (low = hard).</summary>
    public double[] Scores(HardnessDefinition definition) => scores[(int)definition];

    /// <summary>"baseline" then the fine levels, in the config's order.</summary>
    public IReadOnlyList<string> Models => [BaselineName, .. Config.FineLevels];

    /// <summary>Top-1 correctness of every image for each seed of <paramref name="model"/>.</summary>
    public IReadOnlyList<bool[]> Correct(string model) => correct.TryGetValue(model, out var c) ? c
        : throw new KeyNotFoundException($"no model '{model}' (models: {string.Join(", ", Models)})");

    private bool[] Align(TrainingRunView run)
    {
        var position = new Dictionary<(string, long), int>(Count);
        for (int i = 0; i < Count; i++) position[(SplitOf[i], Indices[i])] = i;
        var result = new bool[Count];
        var seen = new bool[Count];
        foreach (var split in Splits)
        {
            var samples = run.Samples(split);
            for (int j = 0; j < samples.Labels.Length; j++)
            {
                if (!position.TryGetValue((split, samples.Indices[j]), out var i))
                    throw new InvalidDataException($"{run.Folder.File(TrainingRuns.SamplesFile(split))}: sample {samples.Indices[j]} was not scored by the reference model ({ScoringFolder.Path}); the runs must evaluate the same test images");
                if (samples.Labels[j] != Labels[i])
                    throw new InvalidDataException($"{run.Folder.File(TrainingRuns.SamplesFile(split))}: sample {samples.Indices[j]} has label {samples.Labels[j]}, the reference saw {Labels[i]}; the runs must use the same dataset and target level");
                result[i] = samples.Top1Correct(j);
                seen[i] = true;
            }
        }
        var missing = Array.IndexOf(seen, false);
        if (missing >= 0) throw new InvalidDataException($"{run.Folder.Path}: no per-sample result for {SplitOf[missing]} sample {Indices[missing]}");
        return result;
    }

    /// <summary>Each definition against the ground truth (where known) and against the default definition.</summary>
    public IReadOnlyList<DefinitionCheck> Definitions()
    {
        var reference = Scores(Config.Definition);
        var referenceHard = HardestSet(reference, Config.HardShare);
        return Enum.GetValues<HardnessDefinition>().Select(d =>
        {
            var s = Scores(d);
            var auc = TrueHard is null ? double.NaN : HardnessStatistics.Auc(s, TrueHard);
            var precision = TrueHard is null ? double.NaN : HardnessStatistics.PrecisionAtTrueShare(s, TrueHard);
            var hard = HardestSet(s, Config.HardShare);
            var overlap = (double)hard.Intersect(referenceHard).Count() / hard.Union(referenceHard).Count();
            return new DefinitionCheck(d, auc, precision, HardnessStatistics.Spearman(s, reference), overlap);
        }).ToList();
    }

    /// <summary>Images in <see cref="HardSamplesConfig.Bins"/> equal-count bins by score (bin 1 = hardest), with every model's error per bin.</summary>
    public IReadOnlyList<HardnessBinRow> Bins(HardnessDefinition? definition = null)
    {
        var s = Scores(definition ?? Config.Definition);
        var bins = HardnessStatistics.QuantileBins(s, Config.Bins);
        return bins.Select((members, b) => new HardnessBinRow(b + 1, members.Length, members.Min(i => s[i]), members.Max(i => s[i]),
            TrueHard is null ? double.NaN : members.Count(i => TrueHard[i]) / (double)members.Length,
            Models.Select(m => new ModelErrors(m, Correct(m).Select(c => Error(c, members)).ToList())).ToList())).ToList();
    }

    /// <summary>
    /// Baseline vs each fine level on the hard images (the lowest-scoring <see cref="HardSamplesConfig.HardShare"/>), the
    /// easy rest and all images; with ground truth, also on the truly hard and truly easy images.
    /// </summary>
    public IReadOnlyList<GainRow> Gains(HardnessDefinition? definition = null)
    {
        var s = Scores(definition ?? Config.Definition);
        var hard = HardestSet(s, Config.HardShare);
        var all = Enumerable.Range(0, Count).ToArray();
        var groups = new List<(string Name, int[] Members)>
        {
            ($"hard (hardest {Config.HardShare:P0} by {definition ?? Config.Definition})", all.Where(hard.Contains).ToArray()),
            ("easy (the rest)", all.Where(i => !hard.Contains(i)).ToArray()),
        };
        if (TrueHard is not null)
        {
            groups.Add(("truly hard (common feature absent)", all.Where(i => TrueHard[i]).ToArray()));
            groups.Add(("truly easy", all.Where(i => !TrueHard[i]).ToArray()));
        }
        groups.Add(("all test images", all));
        var rows = new List<GainRow>();
        var baseline = Correct(BaselineName);
        foreach (var level in Config.FineLevels)
        {
            var fine = Correct(level);
            var total = Count * (MeanError(baseline, all) - MeanError(fine, all));
            foreach (var (name, members) in groups)
            {
                double b = MeanError(baseline, members), f = MeanError(fine, members);
                var reduction = b - f;
                // Shares of a reduction that is not positive overall would mislead.
                var share = total > 0 ? members.Length * reduction / total : double.NaN;
                rows.Add(new GainRow(level, name, members.Length, b, f, reduction, share));
            }
        }
        return rows;
    }

    /// <summary>Relative error reduction (err_baseline − err_fine) / err_baseline over all images, per fine level (the paper's measure).</summary>
    public IReadOnlyDictionary<string, double> RelativeErrorReduction()
    {
        var all = Enumerable.Range(0, Count).ToArray();
        var b = MeanError(Correct(BaselineName), all);
        return Config.FineLevels.ToDictionary(l => l, l => (b - MeanError(Correct(l), all)) / b);
    }

    /// <summary>The hardest <see cref="HardSamplesConfig.HardShare"/> of the test images by the config's definition.</summary>
    public HashSet<int> HardestImages() => HardestSet(Scores(Config.Definition), Config.HardShare);

    /// <summary>The error of one model's per-image correctness over <paramref name="members"/>.</summary>
    public static double ErrorOf(bool[] correct, int[] members) => Error(correct, members);

    private HashSet<int> HardestSet(double[] s, double share)
    {
        var n = Math.Max(1, (int)Math.Round(share * s.Length));
        return HardnessStatistics.Ascending(s).Take(n).ToHashSet();
    }

    private static double Error(bool[] correct, int[] members) => members.Length == 0 ? double.NaN : members.Count(i => !correct[i]) / (double)members.Length;

    private static double MeanError(IReadOnlyList<bool[]> seeds, int[] members) => seeds.Average(c => Error(c, members));
}

/// <summary>Rank statistics of hardness scores: AUC against a ground truth, precision at the true share, Spearman, quantile bins.</summary>
public static class HardnessStatistics
{
    /// <summary>Indices sorted by score, ties broken by index (so bins and hard sets are deterministic).</summary>
    public static int[] Ascending(double[] scores) =>
        Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ThenBy(i => i).ToArray();

    /// <summary>
    /// P(score of a positive &lt; score of a negative) + ½ P(tie): 1 when every truly hard image scores lower than every
    /// easy one, 0.5 for a score unrelated to hardness. Computed from mid-ranks (Mann–Whitney).
    /// </summary>
    public static double Auc(double[] scores, bool[] positive)
    {
        if (scores.Length != positive.Length) throw new ArgumentException($"{scores.Length} scores but {positive.Length} labels");
        int p = positive.Count(x => x), n = positive.Length - p;
        if (p == 0 || n == 0) throw new ArgumentException($"the AUC needs both hard and easy samples, got {p} hard and {n} easy");
        var ranks = MidRanks(scores);
        // Rank sum of the positives in descending order = how often a positive is below a negative.
        double sum = 0;
        for (int i = 0; i < scores.Length; i++) if (positive[i]) sum += scores.Length + 1 - ranks[i];
        return (sum - p * (p + 1) / 2.0) / ((double)p * n);
    }

    /// <summary>Of the |positives| lowest-scoring samples, the share that are positive.</summary>
    public static double PrecisionAtTrueShare(double[] scores, bool[] positive)
    {
        int p = positive.Count(x => x);
        if (p == 0) return double.NaN;
        return Ascending(scores).Take(p).Count(i => positive[i]) / (double)p;
    }

    /// <summary>Spearman rank correlation (Pearson over mid-ranks).</summary>
    public static double Spearman(double[] a, double[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"{a.Length} vs {b.Length} values");
        var ra = MidRanks(a);
        var rb = MidRanks(b);
        double ma = ra.Average(), mb = rb.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (ra[i] - ma) * (rb[i] - mb); saa += (ra[i] - ma) * (ra[i] - ma); sbb += (rb[i] - mb) * (rb[i] - mb); }
        return saa == 0 || sbb == 0 ? double.NaN : sab / Math.Sqrt(saa * sbb);
    }

    /// <summary>Equal-count bins over the ascending order (the first bin holds the lowest scores); sizes differ by at most one.</summary>
    public static int[][] QuantileBins(double[] scores, int bins)
    {
        if (bins < 1 || bins > scores.Length) throw new ArgumentException($"bins must be in [1, {scores.Length}], got {bins}");
        var order = Ascending(scores);
        return Enumerable.Range(0, bins).Select(b => order[(int)((long)b * order.Length / bins)..(int)((long)(b + 1) * order.Length / bins)]).ToArray();
    }

    /// <summary>1-based ranks with ties sharing their mean rank.</summary>
    public static double[] MidRanks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            var rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++) ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }
}

/// <summary>Runs notebook 06's study: the training runs (Quick trains missing ones; Full reports them), the scoring, the join.</summary>
public static class HardSamples
{
    /// <summary>
    /// Loads (or, with <paramref name="trainMissing"/>, trains) every run of <paramref name="config"/>, scores hardness with
    /// the reference model (cached in its own run folder) and joins the per-sample results. Without
    /// <paramref name="trainMissing"/> nothing is trained or scored: missing runs or scores raise a
    /// <see cref="MissingRunsException"/> naming them and the commands that make them.
    /// </summary>
    public static HardSamplesResult Run(HardSamplesConfig config, string? runsRoot = null, bool trainMissing = true, TrainingOptions? options = null)
    {
        config = config.Validated();
        var root = runsRoot ?? options?.RunsRoot ?? ProjectPaths.RunsRoot;
        options = (options ?? new TrainingOptions()) with { RunsRoot = root, Datasets = options?.Datasets ?? ExperimentDatasets.All };
        if (!trainMissing)
        {
            var missing = config.Runs().Where(c => !File.Exists(Path.Combine(RunPath(c, root), RunFolder.SummaryFile))).ToList();
            if (missing.Count > 0)
                throw new MissingRunsException($"hard samples ({config.Name})",
                    missing.Select(c => $"{Describe(c)} → {RunPath(c, root)}").ToList(), Commands(config, missing));
        }
        TrainingRunView Load(TrainingConfig c) => TrainingRuns.Load(TrainingEngine.Run(c, options).Folder.Path);
        var reference = Load(config.Reference);
        var baselines = config.Seeds.Select(s => Load(config.Baseline(s))).ToList();
        var finetuned = config.FineLevels.ToDictionary(l => l, l => (IReadOnlyList<TrainingRunView>)config.Seeds.Select(s => Load(config.Finetuned(l, s))).ToList());
        var (folder, scores) = trainMissing
            ? HardnessScoring.GetOrScore(reference, root)
            : HardnessScoring.TryRead(reference, root)
              ?? throw new MissingRunsException($"hard samples ({config.Name}): the reference model's hardness scores",
                  [$"{HardnessScoring.ExperimentName} of {Describe(config.Reference)} under {Path.Combine(root, HardnessScoring.ExperimentName)}"],
                  [config.Reference.Dataset.Name == HardSampleDatasets.FixedWorldToyName ? "eng/granularity hard-samples run" : "eng/granularity hard-samples run --full"]);
        return new HardSamplesResult(config, folder, scores, baselines, finetuned);
    }

    /// <summary>Where the run folder of <paramref name="config"/> lives (whether or not it exists).</summary>
    public static string RunPath(TrainingConfig config, string? runsRoot = null) =>
        Path.Combine(runsRoot ?? ProjectPaths.RunsRoot, TrainingEngine.TransferExperiment, RunStore.ConfigKey(TrainingEngine.TransferExperiment, config));

    /// <summary>"protocol, level → target, seed N" for messages.</summary>
    public static string Describe(TrainingConfig config) =>
        $"{config.Protocol} on {config.Dataset.Name}, {(config.IsBaseline ? "baseline" : config.PretrainingLevel)} → {config.TargetLevel}, seed {config.Seed}";

    /// <summary>Commands that make the missing runs: the Quick study trains itself; Full runs use the protocol's own command line.</summary>
    public static IReadOnlyList<string> Commands(HardSamplesConfig config, IReadOnlyList<TrainingConfig> missing)
    {
        if (config.Reference.Dataset.Name == HardSampleDatasets.FixedWorldToyName) return ["eng/granularity hard-samples run"];
        return missing.Select(c => $"eng/granularity finetune --protocol {c.Protocol} --pretraining-level {c.PretrainingLevel} --target-level {c.TargetLevel} --seed {c.Seed}")
            .Append($"eng/granularity hard-samples run --full").ToList();
    }
}
