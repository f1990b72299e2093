using System.CommandLine;
using System.Globalization;
using Granularity.Core;
using Granularity.Experiments;
using Granularity.Training;
using TorchSharp;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>`granularity hard-samples run`: notebook 06's study without a notebook host (trains Quick runs; Full reads run folders).</summary>
public static class HardSampleCommands
{
    public static IEnumerable<Command> Build()
    {
        var full = Flag("--full", "iNat2021 (reads the inat2021-resnet34 run folders, lists the commands for missing ones); default Quick (synthetic, trains missing runs)");
        var standIn = Flag("--standin", "the iNat2021-format stand-in of notebook 04 (Quick; trains missing runs; no ground truth)");
        var runs = CliOptions.Runs();
        var threads = Int("--threads", "torch CPU threads (0: torch's own choice)", 0, 0, 1024);
        var run = Command("run", "score test-image hardness with a coarse reference model; baseline vs fine error per hardness bin", [full, standIn, runs, threads], parse =>
        {
            TorchRuntime.EnsureNativesLoaded();
            if (parse.GetValue(threads) is > 0 and var count) torch.set_num_threads(count);
            var isFull = parse.GetValue(full);
            var config = isFull ? HardSamplesConfig.Full() : parse.GetValue(standIn) ? HardSamplesConfig.StandIn() : HardSamplesConfig.Quick();
            var root = parse.GetValue(runs);
            var result = ConsoleProgress.Run(progress =>
                HardSamples.Run(config, root is null ? null : Path.GetFullPath(root), trainMissing: !isFull, TrainingOptions.ForConsole(reporter: progress)));
            Print(config, result);
            return 0;
        });
        AtMostOneOf(run, full, standIn);
        return [Group("hard-samples", "the hard-sample study of notebook 06", run)];
    }

    private static void Print(HardSamplesConfig config, HardSamplesResult result)
    {
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
    }
}
