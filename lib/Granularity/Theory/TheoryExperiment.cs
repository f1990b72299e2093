using Granularity.Core;
using System.Globalization;
using System.Text;
using Granularity.Runs;

namespace Granularity.Theory;

/// <summary>The final measurements of one model of a theory run (all accuracies on the coarse task unless named Subclass…).</summary>
public sealed record TheoryModelSummary(
    LabelGranularity Granularity,
    int Outputs,
    double FinalTrainLoss,          // mean SGD batch loss over the last EvalEvery steps
    double EasyAccuracy,            // fine model: superclass of its highest subclass logit
    double HardAccuracy,
    double? SubclassEasyAccuracy,
    double? SubclassHardAccuracy,
    double CommonAlignment,
    double FineAlignment,
    double FineAlignmentMin);

/// <summary>summary.json of a theory run: both models, plus how long it took and where.</summary>
public sealed record TheorySummary(
    string Label,
    TheoryModelSummary Coarse,
    TheoryModelSummary? Fine,       // null when the run trained the coarse model alone
    TestErrors CoarseErrors,        // the coarse model on the final (large) test sets
    TheoryTransfer? Transfer,       // the fine model's three transfers to the coarse task, on the same test sets
    int Steps,
    double Seconds,                 // wall time of the whole run (training, evaluation, head re-fits)
    double StepsPerSecond,          // SGD steps per second of the training loop (both models per step), evaluations excluded
    string Device,
    string LibraryVersion);

/// <summary>One theory run as the notebook and the command line see it: its folder, config, summary and metrics.</summary>
public sealed record TheoryRun(RunFolder Folder, TheoryConfig Config, TheorySummary Summary, bool FromCache)
{
    public MetricsTable Metrics => Folder.ReadMetrics();
}

/// <summary>
/// The theory experiment's entry points: run one configuration into its run folder (or read it back), and run sweeps.
/// Folders live under <c>RunsRoot/theory/KEY</c>; the key covers the whole config and the library version.
/// </summary>
public static class TheoryExperiment
{
    public const string ExperimentName = "theory";
    public const string CoarseAlignmentFile = "alignment-coarse.csv";
    public const string FineAlignmentFile = "alignment-fine.csv";

    /// <summary>
    /// Intra-op CPU threads while a theory run trains (restored afterwards). Default 1: the per-step matrices are small,
    /// and on the shared 2-core machine one thread measured 1.5–5× faster at d = 200 and as fast at d = 1000
    /// (docs/benchmarks.md). Results do not depend on it, so it is not part of the configuration or the cache key.
    /// </summary>
    public static int Threads { get; set; } = 1;

    /// <summary>Returns the finished run of <paramref name="config"/> from its folder, or trains it and writes the folder.</summary>
    public static TheoryRun GetOrRun(TheoryConfig config, string? runsRoot = null, Action<string>? progress = null)
    {
        config.Validate();
        var (folder, summary, fromCache) = new RunStore(runsRoot ?? ProjectPaths.RunsRoot).GetOrRun(ExperimentName, config, "Theory", folder =>
        {
            using var threads = WithThreads(Threads);
            using var trainer = new TheoryTrainer(config);
            var outcome = trainer.Run(progress);
            folder.WriteMetrics(outcome.Metrics);
            WriteAlignment(folder.File(CoarseAlignmentFile), outcome.CoarseAlignment, trainer.Data.FeatureNames, "superclass");
            WriteAlignment(folder.File(FineAlignmentFile), outcome.FineAlignment, trainer.Data.FeatureNames, "subclass");
            return outcome.Summary;
        });
        return new TheoryRun(folder, config, summary, fromCache);
    }

    /// <summary>
    /// Runs (or reads) every configuration of <paramref name="sweep"/>, one after the other, reporting each as it finishes.
    /// Runs are not trained in parallel threads: two TorchSharp runs on two threads of one process crashed natively
    /// ("Unknown scalar type" in a scalar division) during the Full sweep, so one process trains one run at a time.
    /// </summary>
    public static IReadOnlyList<TheoryRun> RunSweep(TheorySweep sweep, string? runsRoot = null, Action<TheoryRun>? finished = null)
    {
        var runs = new List<TheoryRun>();
        using var threads = WithThreads(Threads);
        foreach (var config in sweep.Configs)
        {
            var run = GetOrRun(config, runsRoot);
            runs.Add(run);
            finished?.Invoke(run);
        }
        return runs;
    }

    /// <summary>
    /// The current finished runs of <paramref name="configs"/>, in their order, training nothing; when any is missing,
    /// a <see cref="MissingRunsException"/> names each (by <paramref name="describe"/>) and the command that makes them.
    /// </summary>
    public static IReadOnlyList<TheoryRun> LoadFinished(IReadOnlyList<TheoryConfig> configs, string runsRoot, string what, string command, Func<TheoryConfig, string> describe)
    {
        var store = new RunStore(runsRoot);
        var version = ResultVersion.OfLayer("Theory");
        var runs = new List<TheoryRun>();
        var missing = new List<string>();
        foreach (var config in configs)
        {
            var lookup = store.TryRead<TheoryConfig, TheorySummary>(ExperimentName, config, version);
            if (lookup.IsFresh) runs.Add(new TheoryRun(lookup.Folder, config, lookup.Summary!, true));
            else missing.Add($"theory {describe(config)}: {lookup.Reason}");
        }
        if (missing.Count > 0)
            throw new MissingRunsException($"{what} ({runs.Count} of {configs.Count} runs found)", missing, [command]);
        return runs;
    }

    /// <summary>Reads a complete theory run folder (config.json, summary.json); fails naming the folder if it is incomplete.</summary>
    public static TheoryRun Load(string folderPath)
    {
        var folder = new RunFolder(folderPath);
        if (!folder.IsComplete) throw new InvalidDataException($"{folder.Path}: not a finished run (no {RunFolder.SummaryFile})");
        return new TheoryRun(folder, folder.ReadConfig<TheoryConfig>().Validate(), folder.ReadSummary<TheorySummary>(), true);
    }

    /// <summary>Reads an alignment matrix written by a run: rows are outputs, columns features.</summary>
    public static (IReadOnlyList<string> Features, double[,] Values) ReadAlignment(RunFolder folder, LabelGranularity granularity)
    {
        var path = folder.File(granularity == LabelGranularity.Coarse ? CoarseAlignmentFile : FineAlignmentFile);
        var table = MetricsTable.Load(path);
        var features = table.Columns.Skip(1).ToList();
        var values = new double[table.Rows.Count, features.Count];
        for (int j = 0; j < table.Rows.Count; j++)
            for (int f = 0; f < features.Count; f++) values[j, f] = table.Rows[j][f + 1];
        return (features, values);
    }

    /// <summary>A plain-text table of runs: one line each with the headline numbers.</summary>
    public static string SummaryTable(IEnumerable<TheoryRun> runs)
    {
        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{"run",-40} {"coarse easy",11} {"coarse hard",11} {"fine easy",9} {"fine hard",9} {"probe hard",10} {"align c/f (coarse)",18} {"align c/f (fine)",16} {"steps/s",8}"));
        foreach (var run in runs)
        {
            var s = run.Summary;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{run.Config.Label,-40} {s.Coarse.EasyAccuracy,11:0.000} {s.Coarse.HardAccuracy,11:0.000} {s.Fine?.EasyAccuracy ?? double.NaN,9:0.000} {s.Fine?.HardAccuracy ?? double.NaN,9:0.000} {(s.Transfer is null ? double.NaN : 1 - s.Transfer.LinearProbe.HardError),10:0.000} {$"{s.Coarse.CommonAlignment:0.00}/{s.Coarse.FineAlignment:0.00}",18} {(s.Fine is null ? "—" : $"{s.Fine.CommonAlignment:0.00}/{s.Fine.FineAlignment:0.00}"),16} {s.StepsPerSecond,8:0}"));
        }
        return text.ToString();
    }

    /// <summary>Sets torch's intra-op thread count until the returned handle is disposed.</summary>
    public static IDisposable WithThreads(int threads)
    {
        TorchRuntime.EnsureNativesLoaded();
        var previous = TorchSharp.torch.get_num_threads();
        if (threads > 0 && threads != previous) TorchSharp.torch.set_num_threads(threads);
        return new Restore(() => { if (TorchSharp.torch.get_num_threads() != previous) TorchSharp.torch.set_num_threads(previous); });
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    private static void WriteAlignment(string path, double[,] matrix, IReadOnlyList<string> featureNames, string rowName)
    {
        var table = new MetricsTable(new[] { rowName }.Concat(featureNames.Select(n => n.Replace(',', '.'))));
        for (int j = 0; j < matrix.GetLength(0); j++)
        {
            var row = new double[matrix.GetLength(1) + 1];
            row[0] = j;
            for (int f = 0; f < matrix.GetLength(1); f++) row[f + 1] = matrix[j, f];
            table.Add(row);
        }
        table.Save(path);
    }
}

/// <summary>
/// A set of theory configurations: one base configuration, and one axis (k, noise, d, hard share) varied at a time
/// around it, each for several seeds. Configurations shared by several axes run once.
/// </summary>
public sealed record TheorySweep(
    string Name,
    TheoryConfig Base,
    IReadOnlyList<int> Seeds,              // seeds of the base configuration and of the k axis
    IReadOnlyList<int> AxisSeeds,          // seeds of the noise, d and hard-share axes
    IReadOnlyList<int> SubclassCounts,     // k values (rarity of each fine feature: 1/(2k) of the samples)
    IReadOnlyList<double> NoiseLevels,     // noise norms √E‖ξ‖² (σ values when the base has a fixed σ)
    IReadOnlyList<int> Dimensions,         // d values
    IReadOnlyList<double> HardShares)      // share of hard samples in training
    : IExperimentConfig<TheorySweep>
{
    /// <summary>Quick (18 runs, well under a minute): d = 200, k ∈ {2, 4, 6, 10} × 3 seeds; noise norm ∈ {0.75, 1.5, 3}, d and hard share varied for seed 0.</summary>
    public static TheorySweep Quick() => new(
        "quick", TheoryConfig.Quick(), new[] { 0, 1, 2 }, new[] { 0 },
        new[] { 2, 4, 6, 10 }, new[] { 0.75, 1.5, 3.0 }, new[] { 100, 200, 400 }, new[] { 0.0, 0.1, 0.3 });

    /// <summary>Full (43 runs): the asymptotic regime d = 1000, k ∈ {2, 4, 8, 12, 16 ≈ d^0.4} × 5 seeds; noise norm, d ∈ {500, 1000, 2000} and hard share varied for 3 seeds.</summary>
    public static TheorySweep Full() => new(
        "full", TheoryConfig.Full(), new[] { 0, 1, 2, 3, 4 }, new[] { 0, 1, 2 },
        new[] { 2, 4, 8, 12, 16 }, new[] { 0.75, 1.5, 3.0 }, new[] { 500, 1000, 2000 }, new[] { 0.0, 0.1, 0.3 });

    /// <summary>Every configuration of the sweep, without duplicates, in a stable order.</summary>
    public IReadOnlyList<TheoryConfig> Configs
    {
        get
        {
            var configs = new List<TheoryConfig>();
            void Add(TheoryConfig config) { if (!configs.Contains(config)) configs.Add(config.Validate()); }
            foreach (var seed in Seeds)
            {
                var seeded = Base with { Seed = seed };
                Add(seeded);
                foreach (var k in SubclassCounts) Add(seeded with { SubclassesPerSuperclass = k });
            }
            foreach (var seed in AxisSeeds)
            {
                var seeded = Base with { Seed = seed };
                foreach (var noise in NoiseLevels) Add(seeded.InsideAssumptions ? seeded with { NoiseNorm = noise } : seeded with { NoiseStd = noise });
                foreach (var d in Dimensions) Add(seeded with { Dimension = d });
                foreach (var share in HardShares) Add(seeded with { HardShareInTraining = share });
            }
            return configs;
        }
    }

    /// <summary>The runs of one axis: those equal to the base configuration except in the named field (and the seed).</summary>
    public static IReadOnlyList<TheoryRun> Along(IEnumerable<TheoryRun> runs, TheoryConfig baseConfig, SweepAxis axis) =>
        runs.Where(run => (axis switch
        {
            SweepAxis.Subclasses => run.Config with { SubclassesPerSuperclass = baseConfig.SubclassesPerSuperclass },
            SweepAxis.Noise => run.Config with { NoiseNorm = baseConfig.NoiseNorm, NoiseStd = baseConfig.NoiseStd },
            SweepAxis.Dimension => run.Config with { Dimension = baseConfig.Dimension },
            SweepAxis.HardShare => run.Config with { HardShareInTraining = baseConfig.HardShareInTraining },
            _ => run.Config,
        } with { Seed = baseConfig.Seed }) == baseConfig).ToList();
}

/// <summary>The single field a sweep varies around its base configuration.</summary>
/// <summary>The sweep's runs, in the order of <see cref="TheorySweep.Configs"/>.</summary>
public sealed record TheorySweepResult(TheorySweep Sweep, IReadOnlyList<TheoryRun> Runs)
{
    public int FromCache => Runs.Count(r => r.FromCache);
}

/// <summary>
/// Notebook 01's sweep (k, σ, d and hard share around the base configuration) through the one experiment idiom. It
/// illustrates the mechanism; the verdicts belong to <see cref="TheoryStudy"/>, which tests the theorems in their regime.
/// </summary>
public sealed class TheorySweepExperiment : IExperiment<TheorySweep, TheorySweepResult>
{
    private TheorySweepExperiment() { }

    public static string Name => TheoryExperiment.ExperimentName;

    /// <summary>Train-or-read under <paramref name="policy"/>; a read-only policy trains nothing and names the missing runs.</summary>
    public static TheorySweepResult Run(TheorySweep sweep, RunPolicy policy) =>
        new(sweep, policy.Reuse == RunReuse.ReadOnly ? Load(sweep, policy.RunsRoot) : TheoryExperiment.RunSweep(sweep, policy.RunsRoot));

    /// <summary>None: the sweep shows; the study's claims (<see cref="TheoryStudy.Claims"/>) carry the verdicts.</summary>
    public static IReadOnlyList<Claim> Claims(TheorySweepResult result) => [];

    private static IReadOnlyList<TheoryRun> Load(TheorySweep sweep, string runsRoot) =>
        TheoryExperiment.LoadFinished(sweep.Configs, runsRoot, $"theory sweep '{sweep.Name}'", $"eng/granularity theory sweep --{sweep.Name}", c => c.Label);
}

public enum SweepAxis { Seed, Subclasses, Noise, Dimension, HardShare }
