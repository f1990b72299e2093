using System.Diagnostics;
using Granularity.Core;
using Granularity.Runs;

namespace Granularity.Theory;

/// <summary>
/// The theory in the theorems' own regime (issue 11): joint scaling of d and k, the length of training, a
/// width-matched coarse model and finite training sets, each over several seeds. Every run is one
/// <see cref="TheoryConfig"/> trained (or read) through <see cref="TheoryExperiment.GetOrRun"/>.
/// </summary>
public sealed record TheoryStudyConfig(
    string Name,
    TheoryConfig Base,                        // the base configuration (k and d are set per scaling point)
    IReadOnlyList<int> Seeds,
    IReadOnlyList<int> Dimensions,            // scaling axis; k = ⌊d^0.4⌋ and k = ⌈ln d⌉ at each
    IReadOnlyList<int> LengthMultiples,       // coarse model alone for these multiples of Base.Steps
    IReadOnlyList<int> SamplesPerSubclass)    // finite training sets of n·2k samples, for both models alike
    : IExperimentConfig<TheoryStudyConfig>
{
    /// <summary>Quick (about a minute), under the paper's rules (noise norm fixed as d grows): d ∈ {100, 200, 400}, 3 seeds, length 1–16×, n ∈ {2, 10, 50}.</summary>
    public static TheoryStudyConfig Quick() => new(
        "quick", TheoryConfig.Quick() with { Steps = 400, EvalEvery = 100, TransferSteps = 200 }, [0, 1, 2],
        [100, 200, 400], [1, 4, 16], [2, 10, 50]);

    /// <summary>Full, under the paper's rules: d ∈ {250, 500, 1000, 2000, 4000}, 5 seeds, length 1–64×, n ∈ {2, 5, 10, 20, 50, 200}.</summary>
    public static TheoryStudyConfig Full() => new(
        "full", TheoryConfig.Full(), [0, 1, 2, 3, 4],
        [250, 500, 1000, 2000, 4000], [1, 4, 16, 64], [2, 5, 10, 20, 50, 200]);

    /// <summary>The robustness study outside the assumptions: Quick with σ = 0.15 per coordinate at every d (noise norm 0.15·√d).</summary>
    public static TheoryStudyConfig QuickFixedSigma() => Quick().OutsideAssumptions("quick-fixed-sigma");

    /// <summary>The robustness study outside the assumptions at Full scale (σ = 0.15, noise norm 2.4 at d=250 to 9.5 at d=4000).</summary>
    public static TheoryStudyConfig FullFixedSigma() => Full().OutsideAssumptions("full-fixed-sigma");

    /// <summary>Every named study: quick, full, quick-fixed-sigma, full-fixed-sigma.</summary>
    public static TheoryStudyConfig Named(string name) => name switch
    {
        "quick" => Quick(),
        "full" => Full(),
        "quick-fixed-sigma" => QuickFixedSigma(),
        "full-fixed-sigma" => FullFixedSigma(),
        _ => throw new ArgumentException($"study name must be quick, full, quick-fixed-sigma or full-fixed-sigma, got '{name}'", nameof(name)),
    };

    /// <summary>This study with σ = <see cref="TheoryConfig.FixedNoiseStd"/> per coordinate at every d instead of the paper's noise rule.</summary>
    public TheoryStudyConfig OutsideAssumptions(string name) => this with { Name = name, Base = Base.WithFixedNoiseStd(TheoryConfig.FixedNoiseStd) };

    /// <summary>True when the study follows the paper's noise rule (the one the theorems speak about).</summary>
    public bool InsideAssumptions => Base.InsideAssumptions;

    /// <summary>One line naming the regime, for claims, tables and figure titles.</summary>
    public string Regime => InsideAssumptions
        ? FormattableString.Invariant($"paper's rules: noise norm {Base.NoiseNorm} at every d (σ = {Base.NoiseNorm}/√d)")
        : FormattableString.Invariant($"outside the assumptions: noise norm grows as √d (σ = {Base.NoiseStd} per coordinate)");

    /// <summary>k at the top of the theorems' range, ⌊d^0.4⌋.</summary>
    public static int LargestK(int d) => TheoryConfig.SubclassCount(d, SubclassRule.PowerOfD);

    /// <summary>A smaller k inside the range, ⌈ln d⌉ (polylog d with exponent 1).</summary>
    public static int SmallK(int d) => TheoryConfig.SubclassCount(d, SubclassRule.LogOfD);

    /// <summary>The base configuration at dimension <paramref name="d"/> with <paramref name="k"/> subclasses per superclass.</summary>
    /// <remarks>The noise rule of Base carries over: under the paper's rules σ = NoiseNorm/√d at every d by construction.</remarks>
    public TheoryConfig At(int d, int k, int seed) => (Base with { Dimension = d, SubclassesPerSuperclass = k, Seed = seed }).Validate();

    /// <summary>The coarse model alone for <paramref name="multiple"/>·Base.Steps steps, evaluated every Base.Steps.</summary>
    public TheoryConfig Length(int multiple, int seed) =>
        (Base with { Models = TheoryModels.CoarseOnly, Steps = Base.Steps * multiple, EvalEvery = Base.Steps, Seed = seed }).Validate();

    /// <summary>The coarse model with m·k neurons per output (as many filters as the fine model), trained beside the fine model.</summary>
    public TheoryConfig WidthMatched(int seed) =>
        (Base with { CoarseNeuronsPerOutput = Base.NeuronsPerOutput * Base.SubclassesPerSuperclass, Seed = seed }).Validate();

    /// <summary>Both models on one fixed training set of n samples per subclass.</summary>
    public TheoryConfig Finite(int perSubclass, int seed) =>
        (Base with { TrainingSetSize = perSubclass * Base.Subclasses, Seed = seed }).Validate();

    /// <summary>Every configuration the study runs, in run order (the longest length run last).</summary>
    public IReadOnlyList<TheoryConfig> Configs =>
        Seeds.Select(s => Base with { Seed = s })
            .Concat(Dimensions.SelectMany(d => new[] { LargestK(d), SmallK(d) }.Distinct().SelectMany(k => Seeds.Select(s => At(d, k, s)))))
            .Concat(Seeds.Select(WidthMatched))
            .Concat(SamplesPerSubclass.SelectMany(n => Seeds.Select(s => Finite(n, s))))
            .Concat(Seeds.Select(s => Length(LengthMultiples.Max(), s)))
            .Distinct().ToList();
}

/// <summary>Per-seed values of one quantity and their bootstrap interval over seeds.</summary>
public sealed record SeedValues(IReadOnlyList<double> Values, Estimate Interval)
{
    public static SeedValues Of(IEnumerable<double> values)
    {
        var list = values.ToList();
        return new SeedValues(list, Statistics.Bootstrap(list));
    }
}

/// <summary>Hard-sample errors at one (d, k): the coarse model and the fine model's five transfers (and the coarse model's easy error).</summary>
public sealed record ScalingPoint(int Dimension, int K, string Series, SeedValues Coarse, SeedValues Readout, SeedValues LinearProbe, SeedValues FineTuned, SeedValues CoarseEasy,
    SeedValues Grouped, SeedValues GroupedSgd)
{
    /// <summary>The transfer Theorem 2's verdicts rest on (<see cref="TheoryStudy.Theorem2Transfer"/>).</summary>
    public SeedValues VerdictTransfer => GroupedSgd;
}

/// <summary>The coarse model after a multiple of the base steps: hard error and fine-feature alignment.</summary>
public sealed record LengthPoint(int Steps, double Multiple, SeedValues HardError, SeedValues FineAlignment, SeedValues TrainLoss);

/// <summary>The width-matched coarse model against the standard one and the fine model's verdict transfer (grouped_sgd; same seeds, paired).</summary>
public sealed record CapacityResult(int CoarseFilters, int FineFilters, SeedValues Standard, SeedValues WidthMatched, SeedValues FineTransfer, Estimate WidthMatchedMinusTransfer);

/// <summary>A fixed training set of n samples per subclass: coarse and fine-transfer hard errors, and the paired gain of fine labels (coarse − grouped_sgd).</summary>
public sealed record SamplesPoint(int PerSubclass, int TrainingSetSize, SeedValues Coarse, SeedValues LinearProbe, SeedValues FineTuned, SeedValues GroupedSgd, Estimate Gain);

/// <summary>
/// The study's results: base-configuration transfers, scaling, length, capacity and sample size; each as per-seed
/// values with intervals, plus the per-run binomial (Wilson) intervals of the base runs and the wall time.
/// </summary>
public sealed record TheoryStudyResult(
    TheoryStudyConfig Config,
    ScalingPoint BasePoint,
    IReadOnlyList<Estimate> BaseCoarseHardWilson,      // one per seed: the coarse model's hard error on FinalTestSamplesPerKind samples
    IReadOnlyList<Estimate> BaseProbeHardWilson,       // one per seed: the linear probe's
    Estimate BaseCoarseMinusProbe,                     // paired bootstrap over seeds of coarse − probe hard error
    Estimate BaseCoarseMinusFineTuned,
    Estimate BaseCoarseMinusVerdictTransfer,           // coarse − grouped_sgd (the transfer Theorem 2's verdicts rest on)
    IReadOnlyList<ScalingPoint> Scaling,
    IReadOnlyList<LengthPoint> Length,
    CapacityResult Capacity,
    IReadOnlyList<SamplesPoint> Samples,
    double Seconds,
    int Runs);

/// <summary>Runs the study and states its claims, each with its verdict rule fixed here before any run.</summary>
public sealed class TheoryStudy : IExperiment<TheoryStudyConfig, TheoryStudyResult>
{
    private TheoryStudy() { }

    /// <summary>The study's runs live in the theory experiment's folder of the run store (each run is one <see cref="TheoryConfig"/>).</summary>
    public static string Name => TheoryExperiment.ExperimentName;

    /// <summary>Train-or-read under <paramref name="policy"/>; a read-only policy trains nothing and names missing runs.</summary>
    public static TheoryStudyResult Run(TheoryStudyConfig config, RunPolicy policy) =>
        policy.Reuse == RunReuse.ReadOnly ? Load(config, policy.RunsRoot) : Run(config, policy.RunsRoot, policy.Log);

    /// <summary>Trains (or reads) every run of the study, one at a time, and assembles the result.</summary>
    public static TheoryStudyResult Run(TheoryStudyConfig config, string? runsRoot = null, Action<string>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        var runs = new Dictionary<TheoryConfig, TheoryRun>();
        var all = config.Configs;
        foreach (var runConfig in all)
        {
            var run = TheoryExperiment.GetOrRun(runConfig, runsRoot);
            runs[runConfig] = run;
            progress?.Invoke($"[{runs.Count}/{all.Count}] {Describe(runConfig)}: {(run.FromCache ? "cached" : $"{run.Summary.Seconds:0.0} s")}");
        }
        return Assemble(config, runs, Math.Round(clock.Elapsed.TotalSeconds, 1));
    }

    /// <summary>Reads the study from finished run folders only (trains nothing); throws <see cref="MissingRunsException"/> naming the missing runs.</summary>
    public static TheoryStudyResult Load(TheoryStudyConfig config, string runsRoot)
    {
        var runs = TheoryExperiment.LoadFinished(config.Configs, runsRoot, $"theory study '{config.Name}'", $"eng/granularity theory study --{config.Name}", Describe);
        return Assemble(config, runs.ToDictionary(r => r.Config), double.NaN);
    }

    /// <summary>One line naming what is special about a run of the study.</summary>
    public static string Describe(TheoryConfig c) =>
        c.Label + (c.Models == TheoryModels.CoarseOnly ? $" coarse only, {c.Steps} steps" : "") + (c.TrainingSetSize > 0 ? $" training set {c.TrainingSetSize}" : "")
        + (c.CoarseNeuronsPerOutput > 0 ? $" coarse m={c.CoarseNeuronsPerOutput}" : "");

    private static TheoryStudyResult Assemble(TheoryStudyConfig config, IReadOnlyDictionary<TheoryConfig, TheoryRun> runs, double seconds)
    {
        var all = config.Configs;
        TheorySummary S(TheoryConfig c) => runs[c].Summary;
        var seeds = config.Seeds;

        ScalingPoint Point(Func<int, TheoryConfig> at, int d, int k, string series) => new(d, k, series,
            SeedValues.Of(seeds.Select(s => S(at(s)).CoarseErrors.HardError)),
            SeedValues.Of(seeds.Select(s => S(at(s)).Transfer!.Readout.HardError)),
            SeedValues.Of(seeds.Select(s => S(at(s)).Transfer!.LinearProbe.HardError)),
            SeedValues.Of(seeds.Select(s => S(at(s)).Transfer!.FineTuned.HardError)),
            SeedValues.Of(seeds.Select(s => S(at(s)).CoarseErrors.EasyError)),
            SeedValues.Of(seeds.Select(s => S(at(s)).Transfer!.Grouped.HardError)),
            SeedValues.Of(seeds.Select(s => S(at(s)).Transfer!.GroupedSgd.HardError)));

        var basis = config.Base;
        TheoryConfig BaseAt(int s) => basis with { Seed = s };
        var basePoint = Point(BaseAt, basis.Dimension, basis.SubclassesPerSuperclass, "base");
        var scaling = config.Dimensions.SelectMany(d => new[] { (K: TheoryStudyConfig.LargestK(d), Series: "k = ⌊d^0.4⌋"), (K: TheoryStudyConfig.SmallK(d), Series: "k = ⌈ln d⌉") }
            .Select(p => Point(s => config.At(d, p.K, s), d, p.K, p.Series))).ToList();

        var longest = config.LengthMultiples.Max();
        var length = config.LengthMultiples.Select(multiple =>
        {
            var step = basis.Steps * multiple;
            double At(int seed, string column)
            {
                var metrics = runs[config.Length(longest, seed)].Metrics;
                var row = metrics.Rows.First(r => (int)r[0] == step);
                return row[metrics.IndexOf(column)];
            }
            return new LengthPoint(step, multiple,
                SeedValues.Of(seeds.Select(s => 1 - At(s, "coarse_hard_accuracy"))),
                SeedValues.Of(seeds.Select(s => At(s, "coarse_fine_alignment"))),
                SeedValues.Of(seeds.Select(s => At(s, "coarse_train_loss"))));
        }).ToList();

        var standard = seeds.Select(s => S(BaseAt(s)).CoarseErrors.HardError).ToList();
        var wide = seeds.Select(s => S(config.WidthMatched(s)).CoarseErrors.HardError).ToList();
        var transfer = seeds.Select(s => S(BaseAt(s)).Transfer!.GroupedSgd.HardError).ToList();
        var capacity = new CapacityResult(2 * basis.NeuronsPerOutput * basis.SubclassesPerSuperclass, basis.Subclasses * basis.NeuronsPerOutput,
            SeedValues.Of(standard), SeedValues.Of(wide), SeedValues.Of(transfer), Statistics.PairedBootstrap(wide, transfer));

        var samples = config.SamplesPerSubclass.Select(n =>
        {
            var coarse = seeds.Select(s => S(config.Finite(n, s)).CoarseErrors.HardError).ToList();
            var fine = seeds.Select(s => S(config.Finite(n, s)).Transfer!.GroupedSgd.HardError).ToList();
            return new SamplesPoint(n, n * basis.Subclasses, SeedValues.Of(coarse),
                SeedValues.Of(seeds.Select(s => S(config.Finite(n, s)).Transfer!.LinearProbe.HardError)),
                SeedValues.Of(seeds.Select(s => S(config.Finite(n, s)).Transfer!.FineTuned.HardError)), SeedValues.Of(fine), Statistics.PairedBootstrap(coarse, fine));
        }).ToList();

        var baseCoarse = seeds.Select(s => S(BaseAt(s)).CoarseErrors).ToList();
        var baseTransfer = seeds.Select(s => S(BaseAt(s)).Transfer!).ToList();
        return new TheoryStudyResult(config, basePoint,
            baseCoarse.Select(e => e.HardInterval).ToList(), baseTransfer.Select(t => t.LinearProbe.HardInterval).ToList(),
            Statistics.PairedBootstrap(baseCoarse.Select(e => e.HardError).ToList(), baseTransfer.Select(t => t.LinearProbe.HardError).ToList()),
            Statistics.PairedBootstrap(baseCoarse.Select(e => e.HardError).ToList(), baseTransfer.Select(t => t.FineTuned.HardError).ToList()),
            Statistics.PairedBootstrap(baseCoarse.Select(e => e.HardError).ToList(), baseTransfer.Select(t => t.GroupedSgd.HardError).ToList()),
            scaling, length, capacity, samples, seconds, all.Count);
    }

    /// <summary>The transfer Theorem 2's verdicts rest on, fixed before the runs (issue 23); the other four are shown beside it.</summary>
    public const string Theorem2Transfer = "grouped_sgd";

    /// <summary>Why <see cref="Theorem2Transfer"/>: shown in notebook 01 beside the verdicts.</summary>
    public const string Theorem2TransferReason =
        "Theorem 2 speaks of the network the theorems analyse (two-layer convolutional ReLU, second layer fixed at 1) fine-tuned on " +
        "coarse labels of easy downstream samples. grouped_sgd is that network: the fine model's own coarse form (output y owns all m·k " +
        "neurons of y's subclasses) trained by the same coarse SGD, learning rate and loss as the coarse model it is compared with. " +
        "A fresh linear head is not part of the analysed architecture, and the paper's own fine-tuning step could not be read here, " +
        "so grouped, linear_head, head_first_layer and max_subclass are reported beside it, not as the verdict.";

    /// <summary>Thresholds of the verdict rules, fixed before the runs (issue 11).</summary>
    public static class Thresholds
    {
        /// <summary>Theorem 1: the coarse model's hard error stays at least this large.</summary>
        public const double CoarseHardErrorFloor = 0.1;

        /// <summary>Theorem 2: the fine model's transferred hard error is within this of zero at the largest d.</summary>
        public const double TransferHardErrorCeiling = 0.05;

        /// <summary>Few samples per subclass: the gain of fine labels (coarse − fine-transfer hard error) is below this.</summary>
        public const double NoGainCeiling = 0.05;
    }

    /// <summary>The study's claims; every verdict is computed from intervals by the rule stated in its Prediction.</summary>
    public static IReadOnlyList<Claim> Claims(TheoryStudyResult result)
    {
        var config = result.Config;
        var data = $"synthetic (hierarchical multi-view data model); {config.Regime}";
        var suffix = config.InsideAssumptions ? "" : ".fixed-sigma";
        var top = result.Scaling.Where(p => p.Series == "k = ⌊d^0.4⌋").ToList();
        var largest = top.MaxBy(p => p.Dimension)!;
        var everyD = Verdicts.All(result.Scaling.Select(p => Verdicts.Above(p.Coarse.Interval, Thresholds.CoarseHardErrorFloor)).ToArray());
        var lowestCoarse = result.Scaling.MinBy(p => p.Coarse.Interval.Low)!;
        var longest = result.Length.MaxBy(p => p.Multiple)!;
        var fewest = result.Samples.MinBy(p => p.PerSubclass)!;
        var most = result.Samples.MaxBy(p => p.PerSubclass)!;
        string At(ScalingPoint p) => $"d={p.Dimension}, k={p.K}";
        return
        [
            new("theory.coarse-hard-error-every-d" + suffix, "Theorem 1: the coarse model's hard-sample error stays bounded away from 0 at every d (both k series)",
                ClaimSource.Paper, "Ω(1) (constant)", lowestCoarse.Coarse.Interval,
                $"bootstrap 95% interval over seeds above {Thresholds.CoarseHardErrorFloor} at every d and k", everyD, data,
                $"shown: the point with the lowest interval ({At(lowestCoarse)}); {result.Scaling.Count} points"),
            new("theory.transfer-hard-error-largest-d" + suffix, $"Theorem 2: after fine pretraining, the network fine-tuned on easy coarse-labelled samples ({Theorem2Transfer}) has hard error → 0",
                ClaimSource.Paper, "o(1) (→ 0)", largest.GroupedSgd.Interval,
                $"interval below {Thresholds.TransferHardErrorCeiling} at the largest d, k = ⌊d^0.4⌋", Verdicts.Below(largest.GroupedSgd.Interval, Thresholds.TransferHardErrorCeiling), data,
                $"{At(largest)}; the verdict transfer, fixed before the runs"),
            new("theory.transfer-beats-coarse" + suffix, $"Fine pretraining + {Theorem2Transfer} beats coarse training on hard samples at the base configuration (paired over seeds)",
                ClaimSource.Paper, "coarse Ω(1) vs fine o(1)", result.BaseCoarseMinusVerdictTransfer,
                $"paired bootstrap interval of coarse − {Theorem2Transfer} hard error above 0", Verdicts.Above(result.BaseCoarseMinusVerdictTransfer, 0), data,
                $"d={config.Base.Dimension}, k={config.Base.SubclassesPerSuperclass}; linear_head: {result.BaseCoarseMinusProbe.Format()}; head_first_layer: {result.BaseCoarseMinusFineTuned.Format()}"),
            new("theory.grouped-hard-error-largest-d" + suffix, "Beside the verdict: grouped (the fine model's own coarse form, no training) at the largest d",
                ClaimSource.Ours, "—", largest.Grouped.Interval,
                $"interval below {Thresholds.TransferHardErrorCeiling}", Verdicts.Below(largest.Grouped.Interval, Thresholds.TransferHardErrorCeiling), data, At(largest)),
            new("theory.probe-hard-error-largest-d" + suffix, "Beside the verdict: linear_head (a fresh linear head on the frozen pooled features, easy coarse-labelled samples) at the largest d",
                ClaimSource.Ours, "—", largest.LinearProbe.Interval,
                $"interval below {Thresholds.TransferHardErrorCeiling}", Verdicts.Below(largest.LinearProbe.Interval, Thresholds.TransferHardErrorCeiling), data, At(largest)),
            new("theory.finetuned-hard-error-largest-d" + suffix, "Beside the verdict: head_first_layer (that head and the first layer trained on the same data and budget) at the largest d",
                ClaimSource.Ours, "—", largest.FineTuned.Interval,
                $"interval below {Thresholds.TransferHardErrorCeiling}", Verdicts.Below(largest.FineTuned.Interval, Thresholds.TransferHardErrorCeiling), data, At(largest)),
            new("theory.readout-hard-error-largest-d" + suffix, "Beside the verdict: max_subclass (superclass of the best subclass logit; no transfer) at the largest d",
                ClaimSource.Ours, "—", largest.Readout.Interval,
                $"interval below {Thresholds.TransferHardErrorCeiling}", Verdicts.Below(largest.Readout.Interval, Thresholds.TransferHardErrorCeiling), data, At(largest)),
            new("theory.coarse-hard-error-long-training" + suffix, $"Theorem 1 after long training: the coarse model's hard error after {longest.Multiple:0}× the base steps",
                ClaimSource.Paper, "Ω(1) after poly(d) steps", longest.HardError.Interval,
                $"interval above {Thresholds.CoarseHardErrorFloor}", Verdicts.Above(longest.HardError.Interval, Thresholds.CoarseHardErrorFloor), data,
                $"{longest.Steps} steps at d={config.Base.Dimension}; d² = {config.Base.Dimension * config.Base.Dimension:N0}"),
            new("theory.width-matched-coarse" + suffix, $"Capacity control: a coarse model with m·k neurons per output ({result.Capacity.CoarseFilters} filters) still has hard error bounded away from 0",
                ClaimSource.Ours, "—", result.Capacity.WidthMatched.Interval,
                $"interval above {Thresholds.CoarseHardErrorFloor}", Verdicts.Above(result.Capacity.WidthMatched.Interval, Thresholds.CoarseHardErrorFloor), data,
                $"width-matched − {Theorem2Transfer} (paired): {result.Capacity.WidthMatchedMinusTransfer.Format()}"),
            new("theory.samples-few-no-gain" + suffix, $"Finite training sets: with {fewest.PerSubclass} samples per subclass fine labels give no real gain",
                ClaimSource.Paper, "needs enough samples per fine class (journal version)", fewest.Gain,
                $"paired interval of coarse − {Theorem2Transfer} hard error below {Thresholds.NoGainCeiling}", Verdicts.Below(fewest.Gain, Thresholds.NoGainCeiling), data,
                $"training set {fewest.TrainingSetSize} samples for both models"),
            new("theory.samples-many-gain" + suffix, $"Finite training sets: with {most.PerSubclass} samples per subclass fine labels help",
                ClaimSource.Paper, "fine labels help with enough samples per class", most.Gain,
                $"paired interval of coarse − {Theorem2Transfer} hard error above 0", Verdicts.Above(most.Gain, 0), data,
                $"training set {most.TrainingSetSize} samples for both models"),
        ];
    }
}
