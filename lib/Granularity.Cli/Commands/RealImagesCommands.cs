using System.CommandLine;
using Granularity.Core;
using Granularity.Experiments;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>`granularity experiment real-images`: fine-to-coarse on Omniglot or CIFAR-100 (notebook 08) without a notebook host.</summary>
public static class RealImagesCommands
{
    public static Command Build()
    {
        var dataset = Choice("--dataset", "omniglot-small: the committed small subsets; omniglot or cifar100: prepared with `data prepare`", "omniglot-small", "omniglot-small", "omniglot", "cifar100");
        var full = Flag("--full", "the Full config of the dataset (every arm and readout; schedules searched on validation first); omniglot and cifar100 are always Full");
        var search = Flag("--search", "only run the schedule search on the validation split and print the choice (to commit into Quick)");
        var seeds = IntList("--seeds", "replace the config's seeds (a Slurm array runs one seed per task; the notebook reads the run folders)");
        var data = Text("--data", "the prepared dataset folder (default $GRANULARITY_DATA/omniglot or $GRANULARITY_DATA/cifar100)", "DIR");
        var runs = CliOptions.Runs();
        var threads = TrainingCliOptions.ThreadsOption();
        return Command("real-images", "fine-to-coarse on real images (Omniglot, CIFAR-100): every arm and readout, claims with intervals (notebook 08)",
            [dataset, full, search, seeds, data, runs, threads], parse =>
        {
            var config = (parse.GetValue(dataset), parse.GetValue(full)) switch
            {
                ("omniglot", _) => RealImagesConfig.Full(),
                ("cifar100", _) => RealImagesConfig.FullCifar100(),
                (_, true) => RealImagesConfig.Full() with { Name = "full-small", Dataset = RealImageDataset.OmniglotSmall },
                _ => RealImagesConfig.Quick(),
            };
            if (parse.GetList(seeds) is { } chosen) config = config with { Seeds = chosen };
            TrainingCliOptions.ApplyThreads(parse, threads);
            var root = parse.GetValue(runs) is { } r ? Path.GetFullPath(r) : null;
            var dataRoot = parse.GetValue(data) is { } d ? Path.GetFullPath(d) : null;
            if (parse.GetValue(search))
            {
                var (schedules, folder) = RealImages.SearchSchedules(config with { Schedules = [] }, root, RealImages.LoadData(config, dataRoot).Set, Console.WriteLine);
                Console.WriteLine($"chosen on validation ({folder}/search.csv):");
                foreach (var s in schedules) Console.WriteLine($"  new(\"{s.LabelSet}\", {s.Epochs}, {s.LearningRate:R}, {s.ValidationError:R}),");
                return 0;
            }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = RealImages.Run(config, root, dataRoot, Console.WriteLine);
            Console.WriteLine(RealImagesTables.DataMarkdown(result) + (result.FromCache ? "" : $" This call: {clock.Elapsed.TotalSeconds:0} s."));
            Console.WriteLine();
            Console.WriteLine(RealImagesTables.ArmsMarkdown(result));
            Console.WriteLine(ClaimTable.ToMarkdown(RealImagesClaims.Claims(result)));
            return 0;
        });
    }
}
