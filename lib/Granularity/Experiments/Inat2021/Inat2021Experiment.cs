using Granularity.Core;
using Granularity.Hierarchy;
using Granularity.Runs;
using Granularity.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Experiments;

/// <summary>
/// The iNat2021 fine-to-coarse experiment (paper §5; notebook 04). Target = the 11 supercategories (our reading of the
/// paper). Every cell is one <see cref="TrainingConfig"/> made from <see cref="Template"/> with its pretraining level and seed.
/// </summary>
public sealed record Inat2021ExperimentConfig(
    TrainingConfig Template,                   // protocol, dataset, model and stages; PretrainingLevel and Seed are set per cell
    IReadOnlyList<string> TaxonomyLevels,      // pretraining ranks finer than the target (paper: class, order, family, genus, species)
    string ComparisonRank,                     // random and cluster labels get as many classes as this rank has [ours]
    bool RandomLabels,                         // random labels within each supercategory [ours: the nested, meaningless control]
    bool Clusters,                             // k-means of image embeddings within / across supercategories
    bool OnePerImage,
    string Embeddings,                         // "baseline" = features of our baseline model; else the id of an imported embedding file
    IReadOnlyList<int> Seeds)
    : IExperimentConfig<Inat2021ExperimentConfig>
{
    /// <summary>Quick: every cell on the generated stand-in (32 px, BN small CNN, 6 + 2 epochs, baseline 8), one seed, clusters from our baseline's features.</summary>
    public static Inat2021ExperimentConfig Quick() => new(
        TrainingProtocols.Quick("species", Inat2021TrainingData.TargetLevel, 0) with
        {
            Protocol = "inat2021-standin-quick",
            Dataset = new DatasetConfig(RealDatasets.Inat2021StandIn, ImageSize: 32),
        },
        Inat2021TrainingData.ComparisonRanks, "species", true, true, true, "baseline", [0]);

    /// <summary>
    /// Full: the real train_mini/val with ResNet-34 (<see cref="TrainingProtocols.Inat2021ResNet34"/>), comparison labels at
    /// the family count (1,103) [ours], and the fewest seeds the verdict rule accepts (<see cref="ExperimentRuns.MinimumSeedsForAVerdict"/>).
    /// </summary>
    public static Inat2021ExperimentConfig Full() => new(
        TrainingProtocols.Inat2021ResNet34("species", Inat2021TrainingData.TargetLevel, 0),
        Inat2021TrainingData.ComparisonRanks, "family", true, true, true, "baseline", ExperimentRuns.VerdictSeeds);

    public bool IsStandIn => Template.Dataset.Name != RealDatasets.Inat2021;

    public Inat2021ExperimentConfig Validated()
    {
        Template.Validated();
        if (Template.TargetLevel != Inat2021TrainingData.TargetLevel) throw new ArgumentException($"Inat2021ExperimentConfig.Template.TargetLevel must be '{Inat2021TrainingData.TargetLevel}', got '{Template.TargetLevel}'");
        foreach (var level in TaxonomyLevels.Append(ComparisonRank))
            if (!Inat2021TrainingData.ComparisonRanks.Contains(level)) throw new ArgumentException($"Inat2021ExperimentConfig: '{level}' must be one of {string.Join(", ", Inat2021TrainingData.ComparisonRanks)}");
        if (Seeds.Count == 0 || Seeds.Any(s => s < 0)) throw new ArgumentException("Inat2021ExperimentConfig.Seeds must list at least one seed ≥ 0");
        if (string.IsNullOrWhiteSpace(Embeddings) || Embeddings.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            throw new ArgumentException($"Inat2021ExperimentConfig.Embeddings must be 'baseline' or an embedding id (letters, digits, '-', '_'), got '{Embeddings}'");
        return this;
    }
}

/// <summary>One cell of the experiment: what labels it pretrains on, and its training config.</summary>
public sealed record Inat2021Cell(string Kind, string Labelling, TrainingConfig Config);

/// <summary>One row of the results table: target (supercategory) validation error over seeds, and the relative improvement over the baseline.</summary>
public sealed record Inat2021Row(string Kind, string Labelling, string PretrainingLevel, int Classes, IReadOnlyList<double> Errors,
    double MedianError, double MinError, double MaxError, double? RelativeImprovement, int MissingSeeds);

/// <summary>Classes of a level in the experiment's dataset (the stand-in's species only) and in the real iNat2021.</summary>
public sealed record Inat2021LevelCount(string Level, int Classes, int RealClasses);

/// <summary>A claim of the paper next to our measurement.</summary>
public sealed record PaperComparisonRow(string Claim, string Paper, string Ours, string Expected);

/// <summary>The iNat2021 experiment's result: its config and the table read from the run folders.</summary>
public sealed record Inat2021Result(Inat2021ExperimentConfig Config, IReadOnlyList<Inat2021Row> Rows);

/// <summary>Builds, runs and reads the iNat2021 experiment.</summary>
public sealed class Inat2021Experiment : IExperiment<Inat2021ExperimentConfig, Inat2021Result>
{
    private Inat2021Experiment() { }

    /// <summary>The experiment's name (its cells are training runs under the transfer experiment's folder).</summary>
    public static string Name => "inat2021";

    /// <summary>
    /// Train-or-read: Quick trains the cells the store lacks (finished runs are reused); Full, or a read-only policy, only
    /// reads the run folders (a GPU sweep makes them) and reports a table with the missing cells counted.
    /// </summary>
    public static Inat2021Result Run(Inat2021ExperimentConfig config, RunPolicy policy) =>
        new(config, config.IsStandIn && policy.Reuse != RunReuse.ReadOnly
            ? Run(config, ExperimentRuns.NotebookOptions(policy))
            : Table(config, policy.RunsRoot));

    /// <summary>
    /// The paper's iNat2021 claims from the table: per taxonomy level the relative error reduction over the baseline, and
    /// the three conditions as error differences (points). Each is a bootstrap over seeds (paired by seed); the rule,
    /// fixed here, is "holds when the 95% interval lies above 0", and inconclusive with fewer than
    /// <see cref="ExperimentRuns.MinimumSeedsForAVerdict"/> seeds.
    /// </summary>
    public static IReadOnlyList<Claim> Claims(Inat2021Result result)
    {
        var rows = result.Rows;
        var data = result.Config.IsStandIn ? $"generated stand-in in the iNat2021 format, {result.Config.Seeds.Count} seed(s)" : $"iNat2021 train_mini/val, {result.Config.Seeds.Count} seed(s)";
        var rule = $"holds when the 95% bootstrap interval over seeds lies above 0 (≥ {ExperimentRuns.MinimumSeedsForAVerdict} seeds)";
        var baseline = rows.FirstOrDefault(r => r.Kind == Baseline);
        var claims = new List<Claim>();
        Estimate? Paired(IReadOnlyList<double>? a, IReadOnlyList<double>? b, Func<double, double, double> measure) =>
            a is null || b is null || a.Count == 0 || a.Count != b.Count ? null
            : Statistics.Bootstrap(a.Zip(b, measure).ToArray());
        Verdict Rule(Estimate? estimate) =>
            estimate is not null && estimate.Count < ExperimentRuns.MinimumSeedsForAVerdict ? Verdict.Inconclusive : Verdicts.Above(estimate, 0);
        void Add(string id, string statement, string paper, Estimate? estimate, string? note = null) =>
            claims.Add(new Claim(id, statement, ClaimSource.Paper, paper, estimate, rule, Rule(estimate), data, note));
        foreach (var level in rows.Where(r => r.Kind == Taxonomy))
            Add($"inat2021.relative-improvement.{level.Labelling}", $"Pretraining on {level.Labelling} ({level.Classes:N0} classes) reduces the target error: relative improvement over the baseline",
                "8.76% (best level, abstract)", Paired(baseline?.Errors, level.Errors, RelativeImprovement));
        Inat2021Row? Of(string kind) => rows.FirstOrDefault(r => r.Kind == kind);
        Add("inat2021.random-labels-hurt", "Random labels are worse than the baseline: random − baseline error (points)", "worse than the baseline",
            Paired(Of(Random)?.Errors, baseline?.Errors, (a, b) => 100 * (a - b)));
        Add("inat2021.one-label-per-image-hurts", "One label per image is worse than the baseline: instance − baseline error (points)", "worse than the baseline",
            Paired(Of(OnePerImage)?.Errors, baseline?.Errors, (a, b) => 100 * (a - b)));
        Add("inat2021.aligned-clusters", "Clusters within the target classes beat clusters across the dataset: across − within error (points)", "within beats across",
            Paired(Of(ClustersAcross)?.Errors, Of(ClustersWithin)?.Errors, (a, b) => 100 * (a - b)),
            result.Config.Embeddings == "baseline" ? "clusters of our baseline's features, not the paper's CLIP embeddings" : null);
        return claims;
    }

    public const string Baseline = "baseline", Taxonomy = "taxonomy", Random = "random labels", ClustersWithin = "clusters within target",
        ClustersAcross = "clusters across dataset", OnePerImage = "one label per image";

    /// <summary>The paper's number: best relative error reduction over the baseline on iNat2021 (abstract).</summary>
    public const double PaperRelativeImprovement = 0.0876;

    /// <summary>The relative improvement the paper reports: (err_baseline − err) / err_baseline.</summary>
    public static double RelativeImprovement(double baselineError, double error) => (baselineError - error) / baselineError;

    /// <summary>The formula as text, for notebooks.</summary>
    public const string RelativeImprovementFormula = "relative improvement = (err_baseline − err_pretrained) / err_baseline";

    /// <summary>The cell of the baseline (trained on the supercategories directly) for a seed.</summary>
    public static TrainingConfig BaselineConfig(Inat2021ExperimentConfig config, int seed) =>
        config.Template with { PretrainingLevel = Inat2021TrainingData.TargetLevel, Seed = seed };

    /// <summary>The id of the embeddings computed from our baseline (first seed): stable for a config and library version.</summary>
    public static string EmbeddingId(Inat2021ExperimentConfig config) =>
        config.Embeddings == "baseline" ? "baseline-" + RunStore.ConfigKey("embeddings", BaselineConfig(config, config.Seeds[0]))[..12] : config.Embeddings;

    /// <summary>Every cell for every seed: baseline, taxonomy levels, random labels, clusters within/across, one label per image.</summary>
    public static IReadOnlyList<Inat2021Cell> Cells(Inat2021ExperimentConfig config)
    {
        config = config.Validated();
        var cells = new List<Inat2021Cell>();
        var embedding = EmbeddingId(config);
        foreach (var seed in config.Seeds)
        {
            TrainingConfig At(string level) => config.Template with { PretrainingLevel = level, Seed = seed };
            cells.Add(new(Baseline, "supercategory (baseline)", At(Inat2021TrainingData.TargetLevel)));
            foreach (var rank in config.TaxonomyLevels) cells.Add(new(Taxonomy, rank, At(rank)));
            if (config.RandomLabels) cells.Add(new(Random, $"random within target ({config.ComparisonRank} count)", At($"random-within:{config.ComparisonRank}")));
            if (config.Clusters)
            {
                cells.Add(new(ClustersWithin, $"k-means within target ({config.ComparisonRank} count)", At($"clusters-within:{config.ComparisonRank}:{embedding}")));
                cells.Add(new(ClustersAcross, $"k-means across dataset ({config.ComparisonRank} count)", At($"clusters-across:{config.ComparisonRank}:{embedding}")));
            }
            if (config.OnePerImage) cells.Add(new(OnePerImage, "one label per image", At("one-per-image")));
        }
        return cells;
    }

    /// <summary>
    /// Runs every cell (finished runs are reused): first the cells that need no embeddings, then the embeddings (ours:
    /// the baseline's features; or a file imported before), then the cluster cells. Returns the results table.
    /// </summary>
    public static IReadOnlyList<Inat2021Row> Run(Inat2021ExperimentConfig config, TrainingOptions? options = null, Action<string>? log = null)
    {
        options = (options ?? new TrainingOptions()).WithDatasetsIfUnset(ExperimentDatasets.All);
        log ??= _ => { };
        var cells = Cells(config);
        foreach (var cell in cells.Where(c => c.Kind is not (ClustersWithin or ClustersAcross)))
        {
            var result = TrainingEngine.Run(cell.Config, options);
            log($"{(result.FromCache ? "reused" : "ran")} {cell.Labelling} seed {cell.Config.Seed}: val error {result.Summary.TargetSplit("val").Top1Error:P2}");
        }
        if (config.Clusters)
        {
            var id = EnsureEmbeddings(config, options);
            log($"embeddings: {id}");
            foreach (var cell in cells.Where(c => c.Kind is ClustersWithin or ClustersAcross))
            {
                var result = TrainingEngine.Run(cell.Config, options);
                log($"{(result.FromCache ? "reused" : "ran")} {cell.Labelling} seed {cell.Config.Seed}: val error {result.Summary.TargetSplit("val").Top1Error:P2}");
            }
        }
        return Table(config, options.RunsRoot);
    }

    /// <summary>
    /// Makes sure the embeddings the cluster cells use exist: for "baseline", the features of our baseline model (first
    /// seed; trained here if missing) over the training images, written as an embedding file; otherwise an imported file.
    /// </summary>
    public static string EnsureEmbeddings(Inat2021ExperimentConfig config, TrainingOptions? options = null)
    {
        var id = EmbeddingId(config);
        using var data = OpenData(config, config.Seeds[0]);
        var path = Path.Combine(data.EmbeddingsFolder, id + ".npy");
        if (File.Exists(path)) return id;
        if (config.Embeddings != "baseline")
            throw new FileNotFoundException($"{path}: embedding file '{id}' not found; import one with `granularity experiment inat2021 embeddings --import FILE --name {id}` ({nameof(EmbeddingFile)} describes the format)", path);
        var baseline = TrainingEngine.Run(BaselineConfig(config, config.Seeds[0]), options);
        var checkpoint = Checkpoint.Read(baseline.Folder.File(TrainingEngine.ModelFile));
        using var model = checkpoint.CreateClassifier();
        var device = TorchRuntime.Device;
        model.to(device);
        model.eval();
        var values = new float[(long)data.TrainImages.Count * model.FeatureCount];
        using (no_grad())
        {
            foreach (var batch in data.TrainingForFeatures(Inat2021TrainingData.TargetLevel, 128).Epoch(0))
            {
                using var owned = batch;
                using var scope = NewDisposeScope();
                var features = model.Features(batch.Images.to(device)).cpu().contiguous().data<float>().ToArray();
                for (int j = 0; j < batch.Size; j++)
                    Array.Copy(features, (long)j * model.FeatureCount, values, batch.Indices[j] * model.FeatureCount, model.FeatureCount);
            }
        }
        EmbeddingFile.Write(path, values, data.TrainImages.Count, model.FeatureCount, data.TrainingFileNames());
        return id;
    }

    /// <summary>Validates a user-supplied embedding file (e.g. CLIP ViT-L/14, as the paper) and copies it into the dataset's embeddings folder as <paramref name="name"/>.</summary>
    public static ImageEmbeddings ImportEmbeddings(Inat2021ExperimentConfig config, string file, string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name == "baseline" || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            throw new ArgumentException($"embedding name must be letters, digits, '-' or '_' and not 'baseline', got '{name}'");
        using var data = OpenData(config, config.Seeds[0]);
        var embeddings = EmbeddingFile.Read(Path.GetFullPath(file), data.TrainingFileNames());
        var target = Path.Combine(data.EmbeddingsFolder, name + ".npy");
        EmbeddingFile.Write(target, embeddings.Values, embeddings.Rows, embeddings.Dimension, data.TrainingFileNames());
        return embeddings with { Path = target };
    }

    /// <summary>Opens the experiment's dataset (generating a stand-in if needed).</summary>
    public static Inat2021TrainingData OpenData(Inat2021ExperimentConfig config, int seed) =>
        ExperimentDatasets.All.Open(config.Template.Dataset, seed) as Inat2021TrainingData
        ?? throw new ArgumentException($"dataset '{config.Template.Dataset.Name}' is not an iNat2021 dataset");

    /// <summary>Classes per level: the stand-in's (species present) next to the real taxonomy's (committed list).</summary>
    public static IReadOnlyList<Inat2021LevelCount> LevelCounts(Inat2021ExperimentConfig config)
    {
        var real = HierarchySources.Load("inat2021").NamedLevels.ToDictionary(l => l.Level, l => l.ClassCount);
        if (!config.IsStandIn) return real.Select(r => new Inat2021LevelCount(r.Key, r.Value, r.Value)).ToList();
        using var data = OpenData(config, config.Seeds[0]);
        return real.Keys.Select(level => new Inat2021LevelCount(level, data.ClassCountOf(level), real[level])).ToList();
    }

    /// <summary>The sweep of every cell (for a GPU machine or Slurm); cluster cells need their embeddings to exist first.</summary>
    public static SweepConfig Sweep(Inat2021ExperimentConfig config, bool includeClusters) =>
        new SweepConfig(config.IsStandIn ? "inat2021-standin" : "inat2021",
            Cells(config).Where(c => includeClusters || c.Kind is not (ClustersWithin or ClustersAcross)).Select(c => c.Config).ToList()).Validated();

    /// <summary>
    /// The results table from finished run folders under <paramref name="runsRoot"/> (default GRANULARITY_RUNS or
    /// artifacts/runs). Runs are matched by their whole config, not the library version, so folders copied back from a GPU
    /// machine are found. Missing cells are counted, never trained here.
    /// </summary>
    public static IReadOnlyList<Inat2021Row> Table(Inat2021ExperimentConfig config, string? runsRoot = null)
    {
        var byConfig = ExperimentRuns.FinishedRuns(runsRoot);
        var rows = new List<Inat2021Row>();
        foreach (var group in Cells(config).GroupBy(c => (c.Kind, c.Labelling, c.Config.PretrainingLevel)))
        {
            var found = group.Select(c => byConfig.GetValueOrDefault(JsonFiles.Serialize(c.Config))).ToList();
            var done = found.OfType<TrainingRunView>().ToList();
            var errors = done.Select(r => r.Summary.TargetSplit("val").Top1Error).ToList();
            int classes = done.Count > 0 ? done[0].Summary.PretrainingClasses : 0;
            rows.Add(new(group.Key.Kind, group.Key.Labelling, group.Key.PretrainingLevel, classes, errors,
                ExperimentRuns.Median(errors), errors.DefaultIfEmpty(double.NaN).Min(), errors.DefaultIfEmpty(double.NaN).Max(), null, found.Count - done.Count));
        }
        var baseline = rows.First(r => r.Kind == Baseline).MedianError;
        return rows.Select(r => r with { RelativeImprovement = double.IsNaN(baseline) || double.IsNaN(r.MedianError) ? null : RelativeImprovement(baseline, r.MedianError) }).ToList();
    }

    /// <summary>"Results vs paper": the 8.76% claim and the three conditions, ours from the table.</summary>
    public static IReadOnlyList<PaperComparisonRow> PaperComparison(IReadOnlyList<Inat2021Row> table, bool standIn)
    {
        string Tag(string text) => standIn ? text + " (stand-in)" : text;
        var taxonomy = table.Where(r => r.Kind == Taxonomy && r.RelativeImprovement is not null).ToList();
        var best = taxonomy.OrderByDescending(r => r.RelativeImprovement).FirstOrDefault();
        Inat2021Row? Row(string kind) => table.FirstOrDefault(r => r.Kind == kind && r.RelativeImprovement is not null);
        string Gain(Inat2021Row? row) => row is null ? "not run" : Tag($"{row.RelativeImprovement:+0.0%;−0.0%} ({row.MedianError:P1} vs baseline)");
        var within = Row(ClustersWithin);
        var across = Row(ClustersAcross);
        return
        [
            new("best taxonomy level vs baseline: relative error reduction", "8.76% (abstract)", best is null ? "not run" : Tag($"{best.RelativeImprovement:+0.00%;−0.00%} ({best.Labelling}, {best.Classes:N0} classes)"), "positive; a few % on real data"),
            new("random labels (meaningless hierarchy)", "worse than the baseline", Gain(Row(Random)), "negative"),
            new("clusters within vs across target (alignment)", "within beats across", within is null || across is null ? "not run" : Tag($"within {within.MedianError:P1} vs across {across.MedianError:P1}"), "within < across"),
            new("one label per image (too fine)", "worse than the baseline", Gain(Row(OnePerImage)), "negative"),
            new("granularity: error vs classes", "U-shaped, gains beyond ~10² classes", taxonomy.Count == 0 ? "not run" : Tag(string.Join(", ", taxonomy.OrderBy(r => r.Classes).Select(r => $"{r.Classes}: {r.MedianError:P1}"))), "minimum at an intermediate or fine level"),
        ];
    }

    /// <summary>
    /// What the table shows, in sentences computed from it: the notebook prints this instead of numbers typed into its
    /// prose, so the reading follows every rerun.
    /// </summary>
    public static string Reading(IReadOnlyList<Inat2021Row> table, bool standIn)
    {
        var baseline = table.FirstOrDefault(r => r.Kind == Baseline && !double.IsNaN(r.MedianError));
        if (baseline is null) return "The baseline has not run yet: nothing to read.";
        var done = table.Where(r => r.Kind != Baseline && !double.IsNaN(r.MedianError)).ToList();
        var seeds = baseline.Errors.Count;
        var lines = new List<string>
        {
            $"{(standIn ? "Stand-in numbers (generated images in the iNat2021 format, not evidence about iNat2021)" : "iNat2021 numbers")}, {seeds} seed(s): the baseline's target error is {baseline.MedianError:P1}.",
        };
        var better = done.Where(r => r.MedianError < baseline.MedianError).ToList();
        lines.Add(better.Count == done.Count
            ? $"All {done.Count} pretraining labellings beat the baseline."
            : $"{better.Count} of {done.Count} pretraining labellings beat the baseline; these do not: {string.Join(", ", done.Except(better).Select(r => $"{r.Labelling} ({r.MedianError:P1})"))}.");
        var taxonomy = done.Where(r => r.Kind == Taxonomy).ToList();
        var others = done.Where(r => r.Kind != Taxonomy).ToList();
        if (taxonomy.Count > 0 && others.Count > 0)
        {
            var worstLevel = taxonomy.MaxBy(r => r.MedianError)!;
            var bestOther = others.MinBy(r => r.MedianError)!;
            lines.Add(worstLevel.MedianError < bestOther.MedianError
                ? $"Every taxonomy level ({taxonomy.Min(r => r.MedianError):P1}–{taxonomy.Max(r => r.MedianError):P1}) beats every comparison labelling (the best of them: {bestOther.Labelling}, {bestOther.MedianError:P1}): meaningful, right-sized labels come first."
                : $"Not every taxonomy level beats the comparison labellings: {bestOther.Labelling} reaches {bestOther.MedianError:P1}, the weakest level ({worstLevel.Labelling}) {worstLevel.MedianError:P1}.");
        }
        foreach (var kind in new[] { Random, OnePerImage })
            if (done.FirstOrDefault(r => r.Kind == kind) is { } row)
                lines.Add($"{char.ToUpperInvariant(kind[0])}{kind[1..]}: {row.MedianError:P1}, {(row.MedianError > baseline.MedianError ? "worse than the baseline, as the paper reports" : "better than the baseline, unlike the paper (which reports them worse)")}.");
        var within = done.FirstOrDefault(r => r.Kind == ClustersWithin);
        var across = done.FirstOrDefault(r => r.Kind == ClustersAcross);
        if (within is not null && across is not null)
        {
            var gap = across.MedianError - within.MedianError;
            lines.Add(Math.Abs(gap) < 0.01
                ? $"Clusters within and across the target differ by {Math.Abs(gap) * 100:0.0} points: no evidence on alignment here."
                : $"Clusters within the target: {within.MedianError:P1}, across: {across.MedianError:P1} ({(gap > 0 ? "within is better, as the paper reports" : "across is better, unlike the paper")}).");
        }
        if (seeds < 3) lines.Add($"With {seeds} seed(s) there is no interval: differences of a few points may be seed noise. Rerun with more seeds before reading anything into them.");
        return string.Join(Environment.NewLine, lines.Select(l => "- " + l));
    }
}
