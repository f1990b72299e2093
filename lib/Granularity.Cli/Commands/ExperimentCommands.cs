using Granularity.Experiments;
using Granularity.Training;

namespace Granularity.Cli.Commands;

/// <summary>`granularity experiment fine-to-coarse`: notebook 03's experiment from a terminal, same entry point and tables.</summary>
public sealed class FineToCoarseCommand : ICliCommand
{
    public string Name => "experiment fine-to-coarse";
    public string Summary => "the synthetic fine-to-coarse experiment (notebook 03): every condition over seeds, tables vs paper";
    public string Usage => """
        usage: granularity experiment fine-to-coarse [--full] [--seeds 0,1,2] [--levels leaf,rand_nested,...] [--runs DIR] [--threads N] [--quiet]
          --full          FineToCoarseConfig.Full() (5 seeds, every label set, FT/LP/LP-FT); default Quick()
          --seeds LIST    replace the config's seeds
          --levels LIST   replace the config's pretraining label sets (coarse always runs as the baseline)
          --runs DIR      run folders root (default GRANULARITY_RUNS or artifacts/runs)
          --threads N     torch CPU threads
          --quiet         no per-epoch progress lines
        """;

    public int Run(CliArguments arguments)
    {
        var config = arguments.Flag("full") ? FineToCoarseConfig.Full() : FineToCoarseConfig.Quick();
        if (arguments.IntList("seeds", min: 0) is { } seeds) config = config with { Seeds = seeds };
        if (arguments.String("levels") is { } levels) config = config with { PretrainingLevels = levels.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
        var quiet = arguments.Flag("quiet");
        var options = TrainingCli.Options(arguments);
        if (quiet) options = new TrainingOptions { RunsRoot = options.RunsRoot, EvaluateEachEpoch = false };
        else options = new TrainingOptions { RunsRoot = options.RunsRoot, Progress = options.Progress, EvaluateEachEpoch = false };
        arguments.RejectUnknown();
        try { config = config.Validated(); }
        catch (ArgumentException error) { throw new CliUsageException(error.Message); }
        return TrainingCli.Guarded(() =>
        {
            var started = DateTime.UtcNow;
            var results = FineToCoarse.Run(config, options);
            Console.WriteLine($"{(results.FromCache ? "reused" : "finished")} {results.Folder} ({(DateTime.UtcNow - started).TotalSeconds:F0} s)");
            Console.WriteLine();
            Console.WriteLine(FineToCoarse.Format(FineToCoarse.ConditionTable(results)));
            Console.WriteLine(FineToCoarse.Format(FineToCoarse.PaperTable(results)));
            return 0;
        });
    }
}
