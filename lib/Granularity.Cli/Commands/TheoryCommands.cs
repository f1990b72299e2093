using System.CommandLine;
using System.Globalization;
using Granularity.Core;
using Granularity.Notebook;
using Granularity.Theory;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>`granularity theory …`: the two-layer convolutional model of notebook 01 (run, sweep, figures).</summary>
public static class TheoryCommands
{
    public static IEnumerable<Command> Build() => [Group("theory", "the theory experiment of notebook 01", Run(), Sweep(), Study(), Headline(), Figures(), BenchCommands.Theory())];

    /// <summary>The options that build one <see cref="TheoryConfig"/>; each overrides Quick() (or Full() with --paper) when given.</summary>
    private sealed class ConfigOptions
    {
        public readonly Option<bool> Paper = Flag("--paper", "start from TheoryConfig.Full() (d=1000, k=16, 1000 steps) instead of Quick() (d=200, k=6, 600 steps)");
        public readonly Option<int?> Dimension = OptionalInt("--d", "dimension d", min: 1);
        public readonly Option<int?> Subclasses = OptionalInt("--k", "subclasses per superclass", min: 1);
        public readonly Option<double?> Noise = OptionalDouble("--noise", "a fixed per-coordinate noise σ (outside the assumptions: the noise norm grows as σ√d); replaces the noise norm", min: 0);
        public readonly Option<double?> NoiseNorm = OptionalDouble("--noise-norm", "the noise norm √E‖ξ‖² (σ = norm/√d, the paper's rule; default 1.5)", min: 0);
        public readonly Option<double?> HardShare = OptionalDouble("--hard-share", "share of hard samples in training", 0, 1);
        public readonly Option<int?> Patches = OptionalInt("--patches", "patches P", min: 1);
        public readonly Option<int?> Steps = OptionalInt("--steps", "SGD steps", min: 1);
        public readonly Option<int?> EvalEvery = OptionalInt("--eval-every", "steps between rows of metrics.csv", min: 1);
        public readonly Option<double?> LearningRate = OptionalDouble("--lr", "learning rate", min: 0);
        public readonly Option<int?> Batch = OptionalInt("--batch", "batch size", min: 1);
        public readonly Option<int?> Neurons = OptionalInt("--neurons", "neurons per output m", min: 1);
        public readonly Option<int?> Seed = OptionalInt("--seed", "seed", min: 0);
        public readonly Option<int?> TrainingSet = OptionalInt("--training-set", "a fixed training set of N samples (0: fresh samples every step)", min: 0);
        public readonly Option<string> Basis = Choice("--basis", "feature basis: standard or random (orthonormal)", "standard", "standard", "random");

        public Option[] All => [Paper, Dimension, Subclasses, Noise, NoiseNorm, HardShare, Patches, Steps, EvalEvery, LearningRate, Batch, Neurons, Seed, TrainingSet, Basis];

        public TheoryConfig Read(ParseResult parse)
        {
            var config = parse.GetValue(Paper) ? TheoryConfig.Full() : TheoryConfig.Quick();
            return (config with
            {
                Dimension = parse.GetValue(Dimension) ?? config.Dimension,
                SubclassesPerSuperclass = parse.GetValue(Subclasses) ?? config.SubclassesPerSuperclass,
                NoiseStd = parse.GetValue(Noise) ?? config.NoiseStd,
                NoiseNorm = parse.GetValue(NoiseNorm) ?? (parse.GetValue(Noise) is null ? config.NoiseNorm : null),
                HardShareInTraining = parse.GetValue(HardShare) ?? config.HardShareInTraining,
                Patches = parse.GetValue(Patches) ?? config.Patches,
                Steps = parse.GetValue(Steps) ?? config.Steps,
                EvalEvery = parse.GetValue(EvalEvery) ?? config.EvalEvery,
                LearningRate = parse.GetValue(LearningRate) ?? config.LearningRate,
                BatchSize = parse.GetValue(Batch) ?? config.BatchSize,
                NeuronsPerOutput = parse.GetValue(Neurons) ?? config.NeuronsPerOutput,
                Seed = parse.GetValue(Seed) ?? config.Seed,
                TrainingSetSize = parse.GetValue(TrainingSet) ?? config.TrainingSetSize,
                Basis = parse.GetValue(Basis) == "random" ? FeatureBasis.RandomOrthonormal : FeatureBasis.StandardBasis,
            }).Validate();
        }
    }

    private static Command Run()
    {
        var config = new ConfigOptions();
        var runs = CliOptions.Runs();
        return Command("run", "train the coarse and fine two-layer conv nets of one theory configuration (run folder)", [.. config.All, runs], parse =>
        {
            var chosen = config.Read(parse);
            TorchRuntime.EnsureNativesLoaded();
            Console.WriteLine($"theory run {chosen.Label} on {TorchRuntime.Device.type.ToString().ToLowerInvariant()}");
            var run = TheoryExperiment.GetOrRun(chosen, parse.GetValue(runs), progress: line => Console.Error.Write($"\r  {line}   "));
            Console.Error.WriteLine();
            Console.WriteLine(TheoryExperiment.SummaryTable(new[] { run }));
            Console.WriteLine($"{(run.FromCache ? "read from" : "written to")} {run.Folder.Path}");
            return 0;
        });
    }

    private static Option<bool> QuickSweep() => Flag("--quick", "the Quick sweep (default): d=200, k ∈ {2,4,6,10}, 3 seeds");
    private static Option<bool> FullSweep() => Flag("--full", "the Full sweep: d=1000, k ∈ {2,4,8,12,16}, 5 seeds");

    private static Command Sweep()
    {
        Option<bool> quick = QuickSweep(), full = FullSweep();
        var seeds = IntList("--seeds", "override the seeds");
        var runs = CliOptions.Runs();
        var command = Command("sweep", "run the theory sweep (k, noise, d, hard share × seeds) into run folders; prints a table", [quick, full, seeds, runs], parse =>
        {
            var sweep = parse.GetValue(full) ? TheorySweep.Full() : TheorySweep.Quick();
            if (parse.GetList(seeds) is { } chosen) sweep = sweep with { Seeds = chosen };
            var runsRoot = parse.GetValue(runs);
            TorchRuntime.EnsureNativesLoaded();
            var configs = sweep.Configs;
            Console.WriteLine($"theory sweep '{sweep.Name}': {configs.Count} configurations on {TorchRuntime.Device.type.ToString().ToLowerInvariant()}");
            var done = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var results = TheoryExperiment.RunSweep(sweep, runsRoot, run =>
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  [{++done}/{configs.Count}] {run.Config.Label}: {(run.FromCache ? "cached" : $"{run.Summary.Seconds:0.0} s")}")));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sweep done in {clock.Elapsed.TotalSeconds:0.0} s"));
            Console.WriteLine();
            Console.WriteLine(TheoryExperiment.SummaryTable(results));
            Console.WriteLine($"run folders: {Path.Combine(runsRoot ?? ProjectPaths.RunsRoot, TheoryExperiment.ExperimentName)}");
            return 0;
        });
        AtMostOneOf(command, quick, full);
        return command;
    }

    private static Command Study()
    {
        Option<bool> quick = Flag("--quick", "TheoryStudyConfig.Quick() (default): d ∈ {100, 200, 400}, 3 seeds, about a minute"),
            full = Flag("--full", "TheoryStudyConfig.Full(): d ∈ {250 … 4000} with k scaled, 5 seeds, 64× length");
        var fixedSigma = FixedSigma();
        var fromEnd = Flag("--from-end", "only train the study's runs, last first, and print no claims: a second process started beside a running study shares its run folders and ends the study sooner");
        var runs = CliOptions.Runs();
        var command = Command("study", "the theorems' own regime: transfers, joint d/k scaling, length, capacity, sample size; prints the claims", [quick, full, fixedSigma, fromEnd, runs], parse =>
        {
            TorchRuntime.EnsureNativesLoaded();
            var config = StudyConfig(parse, full, fixedSigma);
            if (parse.GetValue(fromEnd))
            {
                var reversed = config.Configs.Reverse().ToList();
                Console.WriteLine($"theory study '{config.Name}' ({config.Regime}): {reversed.Count} runs, last first");
                using var threads = TheoryExperiment.WithThreads(TheoryExperiment.Threads);
                for (int i = 0; i < reversed.Count; i++)
                {
                    var run = TheoryExperiment.GetOrRun(reversed[i], parse.GetValue(runs));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  [{reversed.Count - i}/{reversed.Count}] {TheoryStudy.Describe(reversed[i])}: {(run.FromCache ? "cached" : $"{run.Summary.Seconds:0.0} s")}"));
                }
                return 0;
            }
            Console.WriteLine($"theory study '{config.Name}' ({config.Regime}): {config.Configs.Count} runs, products via {Sgemm.Backend}");
            var result = TheoryStudy.Run(config, parse.GetValue(runs), line => Console.WriteLine("  " + line));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"study done in {result.Seconds:0.0} s"));
            Console.WriteLine();
            Console.WriteLine(ClaimTable.ToText(TheoryStudy.Claims(result)));
            return 0;
        });
        AtMostOneOf(command, quick, full);
        return command;
    }

    private static Option<bool> FixedSigma() =>
        Flag("--fixed-sigma", "the robustness study outside the assumptions: σ = 0.15 per coordinate at every d (the noise norm grows as √d)");

    private static TheoryStudyConfig StudyConfig(ParseResult parse, Option<bool> full, Option<bool> fixedSigma) =>
        (parse.GetValue(full), parse.GetValue(fixedSigma)) switch
        {
            (true, true) => TheoryStudyConfig.FullFixedSigma(),
            (true, false) => TheoryStudyConfig.Full(),
            (false, true) => TheoryStudyConfig.QuickFixedSigma(),
            _ => TheoryStudyConfig.Quick(),
        };

    private static Command Headline()
    {
        Option<bool> quick = Flag("--quick", "the Quick study's base point (default): d=200, k=6, 400 steps, seeds 0,1,2"),
            full = Flag("--full", "the Full study's base point: d=1000, k=16, 1000 steps, seeds 0–4");
        var fixedSigma = FixedSigma();
        var output = Text("--out", "the headline JSON file to write", "FILE");
        var seeds = IntList("--seeds", "override the study's seeds, e.g. 0,1,2");
        var runs = CliOptions.Runs();
        var command = Command("headline", "write the theory-base headline JSON (coarse model and the fine model's five transfers, easy and hard error, per seed and bootstrap interval) of the study's base point",
            [quick, full, fixedSigma, output, seeds, runs], parse =>
        {
            var path = parse.GetValue(output);
            if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("--out FILE is required: the headline JSON file to write", "--out");
            TorchRuntime.EnsureNativesLoaded();
            var study = StudyConfig(parse, full, fixedSigma);
            var chosen = parse.GetList(seeds) ?? study.Seeds.ToArray();
            Console.WriteLine($"theory headline of '{study.Name}' ({study.Regime}), {study.Base.Label.Replace(" seed=0", "")}, seeds {string.Join(",", chosen)}");
            var headline = TheoryHeadline.Build(study, chosen, parse.GetValue(runs));
            TheoryHeadline.Write(headline, path);
            foreach (var name in TheoryHeadline.Names)
            {
                var n = headline["numbers"]![name]!;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-22} {(double)n["mean"]!:0.0000} [{(double)n["low"]!:0.0000}, {(double)n["high"]!:0.0000}]"));
            }
            Console.WriteLine($"written to {path}");
            return 0;
        });
        AtMostOneOf(command, quick, full);
        return command;
    }

    private static Command Figures()
    {
        Option<bool> quick = QuickSweep(), full = FullSweep();
        var output = Text("--out", "where figures go", Path.Combine(ProjectPaths.FiguresRoot, "01-theory-coarse-vs-fine"), "DIR");
        var runs = CliOptions.Runs();
        var command = Command("figures", "export the theory figures (model, dynamics, accuracy, hard vs k, sweeps, and the study's scaling, length, capacity, samples) and print the claims",
            [quick, full, output, runs], parse =>
        {
            NotebookSetup.InstallFSharpCoreResolver();
            TorchRuntime.EnsureNativesLoaded();
            var sweep = parse.GetValue(full) ? TheorySweep.Full() : TheorySweep.Quick();
            var results = TheoryExperiment.RunSweep(sweep, parse.GetValue(runs));
            var config = sweep.Base;
            var charts = new (string Id, Func<Plotly.NET.GenericChart> Build)[]
            {
                ("theory-model", () => Plots.TheoryCharts.DataModel(config)),
                ("theory-dynamics", () => Plots.TheoryCharts.Dynamics(TheorySweep.Along(results, config, SweepAxis.Seed))),
                ("theory-accuracy", () => Plots.TheoryCharts.Accuracy(TheorySweep.Along(results, config, SweepAxis.Seed))),
                ("theory-hard-vs-k", () => Plots.TheoryCharts.HardAccuracyVsK(TheorySweep.Along(results, config, SweepAxis.Subclasses))),
                ("theory-sweeps", () => Plots.TheoryCharts.Sweeps(results, sweep)),
            };
            foreach (var (id, build) in charts)
            {
                var files = Plots.FigureExport.Save(build(), parse.GetValue(output)!, id);
                Console.WriteLine($"{id}: {files.Html}{(files.Png is null ? "" : ", .png, .svg")}");
            }
            var study = TheoryStudy.Run(parse.GetValue(full) ? TheoryStudyConfig.Full() : TheoryStudyConfig.Quick(), parse.GetValue(runs));
            var studyCharts = new (string Id, Func<Plotly.NET.GenericChart> Build)[]
            {
                ("theory-scaling", () => Plots.TheoryStudyCharts.Scaling(study)),
                ("theory-length", () => Plots.TheoryStudyCharts.Length(study)),
                ("theory-capacity", () => Plots.TheoryStudyCharts.Capacity(study)),
                ("theory-samples", () => Plots.TheoryStudyCharts.Samples(study)),
            };
            foreach (var (id, build) in studyCharts)
            {
                var files = Plots.FigureExport.Save(build(), parse.GetValue(output)!, id);
                Console.WriteLine($"{id}: {files.Html}{(files.Png is null ? "" : ", .png, .svg")}");
            }
            Console.WriteLine();
            Console.WriteLine(ClaimTable.ToText(TheoryStudy.Claims(study)));
            return 0;
        });
        AtMostOneOf(command, quick, full);
        return command;
    }
}
