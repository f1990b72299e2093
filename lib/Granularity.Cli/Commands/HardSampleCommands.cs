using Granularity.Core;
using System.Globalization;
using Granularity.Experiments;
using Granularity.Notebook;
using Granularity.Runs;
using Granularity.Training;
using TorchSharp;

namespace Granularity.Cli.Commands;

/// <summary>`granularity hard-samples run`: notebook 06's study without a notebook host (trains Quick runs; Full reads run folders).</summary>
public sealed class HardSamplesRunCommand : ICliCommand
{
    public string Name => "hard-samples run";
    public string Summary => "score test-image hardness with a coarse reference model; baseline vs fine error per hardness bin";
    public string Usage => """
        usage: granularity hard-samples run [--full | --standin] [--runs DIR] [--threads N]
          --full        iNat2021 (reads the inat2021-resnet34 run folders, lists the commands for missing ones); default Quick (synthetic, trains missing runs)
          --standin     the iNat2021-format stand-in of notebook 04 (Quick; trains missing runs; no ground truth)
          --runs DIR    run folders root (default GRANULARITY_RUNS or artifacts/runs)
          --threads N   torch CPU threads (default: torch's own choice)
        """;

    public int Run(CliArguments arguments)
    {
        var full = arguments.Flag("full");
        var standIn = arguments.Flag("standin");
        if (full && standIn) throw new CliUsageException("choose one of --full and --standin");
        var runs = arguments.String("runs");
        var threads = arguments.Int("threads", 0, min: 0, max: 1024);
        arguments.RejectUnknown();
        TorchRuntime.EnsureNativesLoaded();
        if (threads > 0) torch.set_num_threads(threads);
        var config = full ? HardSamplesConfig.Full() : standIn ? HardSamplesConfig.StandIn() : HardSamplesConfig.Quick();
        HardSamplesResult result;
        try
        {
            result = HardSamples.Run(config, runs is null ? null : Path.GetFullPath(runs), trainMissing: !full, TrainingOptions.ForConsole());
        }
        catch (MissingRunsException missing)
        {
            Console.Error.WriteLine($"{missing.What}: missing runs:");
            foreach (var line in missing.Missing) Console.Error.WriteLine("  " + line);
            Console.Error.WriteLine("make them with:");
            foreach (var line in missing.Commands) Console.Error.WriteLine("  " + line);
            return 2;
        }
        Console.WriteLine($"hard samples ({config.Name}): {result.Count} test images scored by {result.ScoringFolder.Path}");
        string F(double v) => double.IsNaN(v) ? "–" : v.ToString("0.000", CultureInfo.InvariantCulture);
        Console.WriteLine("\ndefinition            AUC vs truth  precision@share  Spearman  hard-set overlap");
        foreach (var d in result.Definitions())
            Console.WriteLine($"{d.Definition,-21} {F(d.GroundTruthAuc),12}  {F(d.PrecisionAtTrueShare),15}  {F(d.SpearmanWithDefault),8}  {F(d.HardSetOverlap),16}");
        Console.WriteLine($"\nerror per {config.Definition} bin (1 = hardest), mean over seeds {string.Join(",", config.Seeds)}:");
        foreach (var bin in result.Bins())
            Console.WriteLine($"  bin {bin.Bin} n={bin.Count,-5} true-hard {F(bin.TrueHardShare)}  " + string.Join("  ", bin.Errors.Select(e => $"{e.Model} {F(e.Mean)}")));
        Console.WriteLine("\nwhere the gain comes from:");
        foreach (var g in result.Gains())
            Console.WriteLine($"  {g.FineLevel,-8} {g.Group,-40} n={g.Count,-5} baseline {F(g.BaselineError)}  fine {F(g.FineError)}  reduction {F(g.Reduction)}  share {F(g.ShareOfTotalReduction)}");
        return 0;
    }
}
