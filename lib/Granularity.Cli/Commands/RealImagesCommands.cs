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
        var bench = Flag("--bench", "training throughput (images/s) of this experiment's CNN and step vs PyTorch (eng/bench/real_images_step_torch.py), interleaved, 3 rounds");
        var search = Flag("--search", "only run the schedule search on the validation split and print the choice (to commit into Quick)");
        var seeds = IntList("--seeds", "replace the config's seeds (a Slurm array runs one seed per task; the notebook reads the run folders)");
        var data = Text("--data", "the prepared dataset folder (default $GRANULARITY_DATA/omniglot or $GRANULARITY_DATA/cifar100)", "DIR");
        var runs = CliOptions.Runs();
        var threads = TrainingCliOptions.ThreadsOption();
        return Command("real-images", "fine-to-coarse on real images (Omniglot, CIFAR-100): every arm and readout, claims with intervals (notebook 08)",
            [dataset, full, bench, search, seeds, data, runs, threads], parse =>
        {
            if (parse.GetValue(bench)) { TrainingCliOptions.ApplyThreads(parse, threads); return Bench(RealImagesConfig.Quick()); }
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

    /// <summary>Median ms per training step of our model and step and of the PyTorch peer, interleaved round by round.</summary>
    private static int Bench(RealImagesConfig config)
    {
        const int rounds = 3, steps = 20, warmup = 3, classes = 242;
        TorchRuntime.EnsureNativesLoaded();
        int threads = TorchSharp.torch.get_num_threads();
        var script = Path.Combine(ProjectPaths.RepositoryRoot, "eng", "bench", "real_images_step_torch.py");
        Console.WriteLine($"small CNN ({config.Width} features), 1×{config.ImageSize}×{config.ImageSize}, batch {config.BatchSize}, Adam, {classes} classes, {threads} threads; {rounds} rounds × {steps} steps (+{warmup})");
        var ours = new List<double>();
        var peer = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            ours.Add(OurStepMs(config, classes, steps, warmup));
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new object[] { script, config.BatchSize, 1, config.ImageSize, config.Width, classes, steps, warmup, threads }) start.ArgumentList.Add(a.ToString()!);
            using var process = System.Diagnostics.Process.Start(start)!;
            var line = process.StandardOutput.ReadToEnd().Split('\n').First(l => l.StartsWith("median_ms=", StringComparison.Ordinal));
            process.WaitForExit();
            peer.Add(double.Parse(line.Split(' ')[0]["median_ms=".Length..], System.Globalization.CultureInfo.InvariantCulture));
        }
        double o = Statistics.Median(ours), p = Statistics.Median(peer);
        Console.WriteLine($"ours  {o:0.00} ms/step = {1000 * config.BatchSize / o:0} images/s   (rounds {string.Join(" ", ours.Select(v => v.ToString("0.0")))})");
        Console.WriteLine($"torch {p:0.00} ms/step = {1000 * config.BatchSize / p:0} images/s   (rounds {string.Join(" ", peer.Select(v => v.ToString("0.0")))})");
        Console.WriteLine($"ours/torch time ratio {o / p:0.00}");
        return 0;
    }

    private static double OurStepMs(RealImagesConfig config, int classes, int steps, int warmup)
    {
        TorchSharp.torch.manual_seed(0);
        using var model = new Granularity.Training.Models.Classifier(new Granularity.Training.Models.SmallCnnBody(config.Width, 1), classes);
        using var optimizer = TorchSharp.torch.optim.Adam(model.parameters(), 1e-3);
        var step = new Granularity.Training.TrainingStep(model, optimizer, new Granularity.Training.StageConfig(1, config.BatchSize, Granularity.Training.OptimizerKind.Adam, 1e-3, Granularity.Training.LearningRateSchedule.Constant));
        model.train();
        using var images = TorchSharp.torch.randn(config.BatchSize, 1, config.ImageSize, config.ImageSize);
        using var labels = TorchSharp.torch.randint(0, classes, config.BatchSize, TorchSharp.torch.ScalarType.Int64);
        var times = new List<double>();
        for (int i = 0; i < warmup + steps; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            step.Run(images, labels, 1e-3, TorchSharp.torch.CPU);
            if (i >= warmup) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Statistics.Median(times);
    }
}
