using System.CommandLine;
using Granularity.Experiments;
using Granularity.Training;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>`granularity experiment fine-to-coarse`: notebook 03's experiment from a terminal, same entry point and tables.</summary>
public static class ExperimentCommands
{
    /// <summary>Every `experiment` command; the real-data ones live in RealDataCommands.cs.</summary>
    public static IEnumerable<Command> Build() =>
        [Group("experiment", "the experiments of notebooks 03–05 without a notebook host", FineToCoarse(), RealDataCommands.Inat2021(), RealDataCommands.ImageNet(), RealImagesCommands.Build())];

    private static Command FineToCoarse()
    {
        var full = Flag("--full", "FineToCoarseConfig.Full() (5 seeds, every label set, FT/LP/LP-FT); default Quick()");
        var seeds = IntList("--seeds", "replace the config's seeds");
        var levels = List("--levels", "replace the config's pretraining label sets (coarse always runs as the baseline)", "leaf,rand_nested,…");
        var runs = CliOptions.Runs();
        var threads = TrainingCliOptions.ThreadsOption();
        var quiet = Flag("--quiet", "no per-epoch progress");
        var search = Flag("--search", "only run the schedule search on the validation pair (every arm, the baseline included) and print the choice (to commit into Quick)");
        return Command("fine-to-coarse", "the synthetic fine-to-coarse experiment (notebook 03): every condition over seeds, tables vs paper",
            [full, seeds, levels, search, runs, threads, quiet], parse =>
        {
            var config = parse.GetValue(full) ? FineToCoarseConfig.Full() : FineToCoarseConfig.Quick();
            if (parse.GetList(seeds) is { } chosenSeeds) config = config with { Seeds = chosenSeeds };
            if (parse.GetList(levels) is { } chosenLevels)
                config = config with
                {
                    PretrainingLevels = chosenLevels,
                    // Committed schedules serve only the label sets they were chosen for; others are searched.
                    Schedules = chosenLevels.All(l => config.Schedules?.Any(a => a.LabelSet == l) == true) ? config.Schedules : null,
                };
            config = config.Validated();
            TrainingCliOptions.ApplyThreads(parse, threads);
            var root = parse.GetValue(runs) is { } folder ? Path.GetFullPath(folder) : null;
            if (parse.GetValue(search))
            {
                var (schedules, searchFolder) = ConsoleProgress.Run(progress => Granularity.Experiments.FineToCoarse.SearchSchedules(config with { Schedules = null },
                    new TrainingOptions { RunsRoot = root, EvaluateEachEpoch = false, TensorBoard = false }, Console.WriteLine));
                Console.WriteLine($"chosen on validation ({searchFolder}/search.csv):");
                foreach (var s in schedules) Console.WriteLine(System.FormattableString.Invariant($"  new(\"{s.LabelSet}\", {s.Epochs}, {s.LearningRate:R}, {s.ValidationError:R}),"));
                return 0;
            }
            var started = DateTime.UtcNow;
            var results = ConsoleProgress.Run(progress => Granularity.Experiments.FineToCoarse.Run(config, new TrainingOptions
            {
                RunsRoot = root,
                Progress = parse.GetValue(quiet) ? null : ProgressReporters.To(progress),
                EvaluateEachEpoch = false,
            }));
            Console.WriteLine($"{(results.FromCache ? "reused" : "finished")} {results.Folder} ({(DateTime.UtcNow - started).TotalSeconds:F0} s)");
            Console.WriteLine();
            Console.WriteLine(Granularity.Experiments.FineToCoarse.Format(Granularity.Experiments.FineToCoarse.ConditionTable(results)));
            Console.WriteLine(Granularity.Core.ClaimTable.ToMarkdown(Granularity.Experiments.FineToCoarse.Claims(results), "0.0"));
            return 0;
        });
    }
}
