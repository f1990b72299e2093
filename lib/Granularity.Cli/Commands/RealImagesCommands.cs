using Granularity.Core;
using Granularity.Experiments;
using TorchSharp;

namespace Granularity.Cli.Commands;

/// <summary>`granularity experiment real-images`: fine-to-coarse on Omniglot or CIFAR-100 (notebook 08) without a notebook host.</summary>
public sealed class RealImagesCommand : ICliCommand
{
    public string Name => "experiment real-images";
    public string Summary => "fine-to-coarse on real images (Omniglot, CIFAR-100): arms, readouts, claims with intervals";
    public string Usage => """
        usage: granularity experiment real-images [--dataset omniglot-small|omniglot|cifar100] [--full] [--search] [--seeds 0,1] [--data DIR] [--runs DIR] [--threads N]
          --dataset    omniglot-small (default: the committed small subsets), omniglot or cifar100 (prepared with `data prepare`)
          --full       the Full config of the dataset (every arm and readout; schedules searched on validation first)
          --search     only run the schedule search on the validation split and print the choice (to commit into Quick)
          --seeds      override the seeds (a Slurm array runs one seed per task; the notebook reads the run folders)
          --data DIR   the prepared dataset folder (default $GRANULARITY_DATA/omniglot or $GRANULARITY_DATA/cifar100)
          --runs DIR   run folders root (default GRANULARITY_RUNS or artifacts/runs)
          --threads N  torch CPU threads (default: torch's own choice)
        """;

    public int Run(CliArguments arguments)
    {
        var dataset = arguments.String("dataset", "omniglot-small");
        var full = arguments.Flag("full");
        var searchOnly = arguments.Flag("search");
        var seeds = arguments.IntList("seeds", min: 0);
        var data = arguments.String("data");
        var runs = arguments.String("runs");
        var threads = arguments.Int("threads", 0, min: 0, max: 1024);
        arguments.RejectUnknown();
        var config = (dataset, full) switch
        {
            ("omniglot-small", false) => RealImagesConfig.Quick(),
            ("omniglot-small", true) => RealImagesConfig.Full() with { Name = "full-small", Dataset = RealImageDataset.OmniglotSmall },
            ("omniglot", _) => RealImagesConfig.Full(),
            ("cifar100", _) => RealImagesConfig.FullCifar100(),
            _ => throw new CliUsageException($"--dataset must be omniglot-small, omniglot or cifar100, got '{dataset}'"),
        };
        if (seeds is not null) config = config with { Seeds = seeds };
        TorchRuntime.EnsureNativesLoaded();
        if (threads > 0) torch.set_num_threads(threads);
        var root = runs is null ? null : Path.GetFullPath(runs);
        var dataRoot = data is null ? null : Path.GetFullPath(data);
        if (searchOnly)
        {
            var (schedules, folder) = RealImages.SearchSchedules(config with { Schedules = [] }, root, RealImages.LoadData(config, dataRoot).Set, Console.WriteLine);
            Console.WriteLine($"chosen on validation ({folder}/search.csv):");
            foreach (var s in schedules) Console.WriteLine($"  new(\"{s.LabelSet}\", {s.Epochs}, {s.LearningRate:R}, {s.ValidationError:R}),");
            return 0;
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = RealImages.Run(config, root, dataRoot, Console.WriteLine);
        Console.WriteLine($"real images ({config.Name}, {config.Dataset}): {result.Summary.Images:N0} images ({result.Summary.DuplicatesDropped:N0} duplicates dropped), " +
            $"{result.Summary.TrainImages:N0}/{result.Summary.ValidationImages:N0}/{result.Summary.TestImages:N0} train/val/test; {result.Folder}" +
            (result.FromCache ? " (from cache)" : $" ({clock.Elapsed.TotalSeconds:0} s)"));
        Console.WriteLine(RealImagesTables.ArmsMarkdown(result));
        Console.WriteLine(ClaimTable.ToMarkdown(RealImagesClaims.Claims(result)));
        return 0;
    }
}
