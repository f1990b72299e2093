using System.CommandLine;
using Granularity.Core;
using Granularity.Experiments;
using Granularity.Runs;
using Granularity.Training;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>`granularity experiment real-images`: fine-to-coarse on Omniglot or CIFAR-100 (notebook 08) without a notebook host.</summary>
public static class RealImagesCommands
{
    public static Command Build()
    {
        var dataset = Choice("--dataset", "omniglot-small: the committed small subsets; omniglot or cifar100: prepared with `data prepare`", "omniglot-small", "omniglot-small", "omniglot", "cifar100");
        var standard = Flag("--standard", "the Standard protocol (notebook 08 teaches from it): chosen on validation by --protocol-study, 5 seeds, every arm and readout, the 0.16 competence floor");
        var protocolStudy = Flag("--protocol-study", "run the protocol study on the validation split (resolution, body, shifts, rate, epochs, transfer budgets) and print the Standard values it chose");
        var headline = Text("--headline", "also write the headline numbers (per-seed test errors of the arms the PyTorch twin runs) as JSON to FILE, for eng/reference/compare.py", "FILE");
        var full = Flag("--full", "the Full config of the dataset (every arm and readout; schedules searched on validation first); omniglot and cifar100 are always Full");
        var bench = Flag("--bench", "training throughput (images/s) of the chosen config's CNN and step vs PyTorch (eng/bench/real_images_step_torch.py), interleaved, 3 rounds; with the config's epoch count, an estimate of its run time");
        var search = Flag("--search", "only run the schedule search on the validation split and print the choice (to commit into Quick)");
        var seeds = IntList("--seeds", "replace the config's seeds (a Slurm array runs one seed per task; the notebook reads the run folders)");
        var data = Text("--data", "the prepared dataset folder (default $GRANULARITY_DATA/omniglot or $GRANULARITY_DATA/cifar100)", "DIR");
        var configFile = Text("--config", "a RealImagesConfig JSON file instead of a named config (--dataset/--full are then ignored)", "FILE");
        var prepare = Flag("--prepare", "only the first step of a split run: the schedule search (if the config has none), the run folder and the hard-image split");
        var seedTask = Int("--seed-task", "only the arms of the config's seed number INDEX (0-based; a Slurm array task), into the prepared run folder", -1, -1);
        var slurm = SlurmCliOptions.Create(cpus: 8, memoryMb: 16000, gpus: 0, "the chain, then print the tables and claims", waitMinutes: 600);
        var runs = CliOptions.Runs();
        var threads = TrainingCliOptions.ThreadsOption();
        var command = Command("real-images", "fine-to-coarse on real images (Omniglot, CIFAR-100): every arm and readout, claims with intervals (notebook 08). " +
            "--slurm submits a chain: --prepare, then one array task per seed (--seed-task), then this command again to write the summary",
            [dataset, standard, full, configFile, protocolStudy, headline, bench, search, prepare, seedTask, seeds, data, runs, threads, .. slurm.All], parse =>
        {
            if (parse.GetValue(protocolStudy))
            {
                TrainingCliOptions.ApplyThreads(parse, threads);
                var studyRoot = parse.GetValue(runs) is { } sr ? Path.GetFullPath(sr) : null;
                var (study, studyFolder) = RealImageProtocolStudy.Run(ProtocolStudyConfig.Default(), studyRoot, Console.WriteLine);
                Console.WriteLine(RealImageProtocolStudy.Markdown(study, studyFolder));
                return 0;
            }
            var config = parse.GetValue(configFile) is { } file ? ConfigFile.Read<RealImagesConfig>(Path.GetFullPath(file)) : (parse.GetValue(dataset), parse.GetValue(full), parse.GetValue(standard)) switch
            {
                ("omniglot", _, _) => RealImagesConfig.Full(),
                ("cifar100", _, _) => RealImagesConfig.FullCifar100(),
                (_, true, _) => RealImagesConfig.Full() with { Name = "full-small", Dataset = RealImageDataset.OmniglotSmall },
                (_, _, true) => RealImagesConfig.Standard(),
                _ => RealImagesConfig.Quick(),
            };
            // Standard's thread count is part of its config: `--standard --threads 1` is the thread check's twin run.
            if (parse.GetValue(standard) && parse.GetValue(configFile) is null && parse.GetValue(threads) is > 0 and var standardThreads)
                config = standardThreads switch
                {
                    1 => RealImagesConfig.StandardOneThread(),
                    var n when n == config.Threads => config,
                    var n => config with { Name = $"standard-{n}-threads", Threads = n },
                };
            if (parse.GetList(seeds) is { } chosen) config = config with { Seeds = chosen };
            config = config.Validated();
            TrainingCliOptions.ApplyThreads(parse, threads);
            if (parse.GetValue(bench))
            {
                if (config.Channels is not null)
                    throw new ArgumentException($"--bench measures the pilot body [16, 32, Width] against eng/bench/real_images_step_torch.py; config '{config.Name}' has the body [{string.Join(", ", config.Channels)}], which the peer script does not build yet");
                return Bench(config);
            }
            var root = parse.GetValue(runs) is { } r ? Path.GetFullPath(r) : null;
            var dataRoot = parse.GetValue(data) is { } d ? Path.GetFullPath(d) : null;
            if (parse.GetValue(slurm.Submit)) return SubmitChain(parse, config, root ?? ProjectPaths.RunsRoot, dataRoot, slurm);
            if (parse.GetValue(prepare))
            {
                var prepared = RealImages.Prepare(config, root, dataRoot, Console.WriteLine);
                Console.WriteLine($"schedules: {string.Join(", ", prepared.Schedules.Select(s => $"{s.LabelSet} {s.Epochs} epochs lr {s.LearningRate:g3}"))}");
                return 0;
            }
            if (parse.GetValue(seedTask) is >= 0 and var index)
            {
                if (index >= config.Seeds.Count) throw new ArgumentException($"--seed-task {index}: the config has {config.Seeds.Count} seeds (0–{config.Seeds.Count - 1})");
                RealImages.RunSeed(config, config.Seeds[index], root, dataRoot, Console.WriteLine);
                return 0;
            }
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
            if (parse.GetValue(headline) is { } headlineFile)
            {
                RealImagesHeadline.Write(result, Path.GetFullPath(headlineFile));
                Console.WriteLine($"headline: {Path.GetFullPath(headlineFile)}");
            }
            return 0;
        });
        command.Validators.Add(result =>
        {
            int modes = new[] { result.GetValue(slurm.Submit), result.GetValue(prepare), result.GetValue(search), result.GetValue(bench), result.GetValue(protocolStudy), result.GetResult(seedTask) is { Implicit: false } }.Count(m => m);
            if (modes > 1) result.AddError("use at most one of --slurm, --prepare, --seed-task, --search, --bench, --protocol-study");
            if (result.GetValue(standard) && result.GetValue(full)) result.AddError("use --standard or --full, not both");
        });
        return command;
    }

    /// <summary>
    /// The Slurm chain: one job prepares (search, run folder, hard split), an array runs one seed per task once it has
    /// succeeded, and a last job writes the summary and prints the claims. The config travels as a JSON file.
    /// </summary>
    private static int SubmitChain(ParseResult parse, RealImagesConfig config, string root, string? dataRoot, SlurmCliOptions slurm)
    {
        if (!Sweeps.OnPath("sbatch")) throw new InvalidOperationException("sbatch is not on PATH: run on the cluster's login node (or eng/start-slurm.sh on one machine), or drop --slurm");
        var key = RunStore.ConfigKey(RealImages.ExperimentName, config);
        var folder = Path.Combine(root, "sweeps", $"{RealImages.ExperimentName}-{config.Name}-{key[..Math.Min(12, key.Length)]}");
        Directory.CreateDirectory(folder);
        var configPath = Path.Combine(folder, "config.json");
        JsonFiles.Write(configPath, config);
        var options = slurm.Read(parse);
        var common = $"experiment real-images --config {Sweeps.Quote(configPath)} --runs {Sweeps.Quote(root)}" + (dataRoot is null ? "" : $" --data {Sweeps.Quote(dataRoot)}") +
            " --threads \"${SLURM_CPUS_PER_TASK:-1}\"";
        string Script(string name, string arguments, int? array, string comment)
        {
            var path = Path.Combine(folder, $"{name}.sbatch");
            AtomicFile.WriteAllText(path, Sweeps.JobScript($"granularity-real-images-{name}", folder, root, options, arguments, array, comment));
            return path;
        }
        var first = Sweeps.SubmitScript(Script("prepare", $"{common} --prepare", null, "Written by `granularity experiment real-images --slurm`: schedule search, run folder, hard split."));
        var seeds = Sweeps.SubmitScript(Script("seeds", $"{common} --seed-task \"$SLURM_ARRAY_TASK_ID\"", config.Seeds.Count, "One task per seed of config.json: its arms, into the prepared run folder."), first);
        var last = Sweeps.SubmitScript(Script("finish", common, null, "Every arm is there: write the summary, print the tables and claims."), seeds);
        Console.WriteLine($"submitted real-images '{config.Name}' as jobs {first} (prepare) → {seeds} ({config.Seeds.Count} seed tasks) → {last} (summary); scripts and logs in {folder}");
        Console.WriteLine("when the last job is done, the notebook (or this command without --slurm) reads the run folder");
        if (slurm.WaitLimit(parse) is not { } limit) return 0;
        if (!Sweeps.WaitForJob(last, limit)) throw new InvalidOperationException($"job {last} still queued or running after {limit.TotalMinutes} min");
        var result = RealImages.TryLoad(config, root)
            ?? throw new InvalidOperationException($"the chain ended without a finished run; see the slurm-*.out logs in {folder}");
        Console.WriteLine(RealImagesTables.ArmsMarkdown(result));
        Console.WriteLine(ClaimTable.ToMarkdown(RealImagesClaims.Claims(result)));
        return 0;
    }

    /// <summary>Median ms per training step of our model and step and of the PyTorch peer, interleaved round by round.</summary>
    private static int Bench(RealImagesConfig config)
    {
        const int rounds = 3, steps = 20, warmup = 3, classes = 242;
        int channels = config.Dataset == RealImageDataset.Cifar100 ? 3 : 1;
        TorchRuntime.EnsureNativesLoaded();
        int threads = TorchSharp.torch.get_num_threads();
        var script = Path.Combine(ProjectPaths.RepositoryRoot, "eng", "bench", "real_images_step_torch.py");
        Console.WriteLine($"'{config.Name}': small CNN ({config.Width} features), {channels}×{config.ImageSize}×{config.ImageSize}, batch {config.BatchSize}, Adam, {classes} classes, {threads} threads; {rounds} rounds × {steps} steps (+{warmup})");
        var ours = new List<double>();
        var peer = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            ours.Add(OurStepMs(config, channels, classes, steps, warmup));
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new object[] { script, config.BatchSize, channels, config.ImageSize, config.Width, classes, steps, warmup, threads }) start.ArgumentList.Add(a.ToString()!);
            Granularity.Theory.Sgemm.UseSameKernelIn(start);   // Debian's PyTorch runs its products on this OpenBLAS
            using var process = System.Diagnostics.Process.Start(start)!;
            var line = process.StandardOutput.ReadToEnd().Split('\n').First(l => l.StartsWith("median_ms=", StringComparison.Ordinal));
            process.WaitForExit();
            peer.Add(double.Parse(line.Split(' ')[0]["median_ms=".Length..], System.Globalization.CultureInfo.InvariantCulture));
        }
        double o = Statistics.Median(ours), p = Statistics.Median(peer);
        Console.WriteLine($"ours  {o:0.00} ms/step = {1000 * config.BatchSize / o:0} images/s   (rounds {string.Join(" ", ours.Select(v => v.ToString("0.0")))})");
        Console.WriteLine($"torch {p:0.00} ms/step = {1000 * config.BatchSize / p:0} images/s   (rounds {string.Join(" ", peer.Select(v => v.ToString("0.0")))})");
        Console.WriteLine($"ours/torch time ratio {o / p:0.00}");
        // Full Omniglot: 1,623 characters × drawings 1–14; CIFAR-100: 100 classes × 450 (5,000 of the 50,000 held out).
        int train = config.Dataset switch
        {
            RealImageDataset.OmniglotSmall => RealImages.LoadData(config).Set.Train.Length,
            RealImageDataset.Omniglot => 1623 * 14,
            _ => 100 * (config.CifarTrainPerClass > 0 ? config.CifarTrainPerClass : 450),
        };
        var epochs = TrainingEpochs(config);
        Console.WriteLine($"estimate for '{config.Name}': {epochs:N0} training epochs × {train:N0} images at {o:0.0} ms per {config.BatchSize} = " +
            $"{epochs * (double)train / config.BatchSize * o / 3.6e6:0.0} h of training steps " +
            (config.Schedules.Count == 0 ? "(the search's grid, and every arm at its longest schedule: an upper bound; " : "(") + "evaluation and probes not counted)");
        return 0;
    }

    /// <summary>Epochs over the training set that the config trains: the search (if it has no schedules), the reference baseline and every arm of every seed.</summary>
    private static long TrainingEpochs(RealImagesConfig config)
    {
        var arms = new[] { "target" }.Concat(config.LabelSets).ToList();
        int longest = config.Search.EpochGrid.Max();
        int EpochsOf(string arm) => config.Schedules.Count == 0 ? longest : config.ScheduleOf(arm).Epochs;
        long search = config.Schedules.Count == 0
            ? arms.Sum(arm => (long)config.Search.LearningRateGrid.Count * (arm == "target" ? longest : longest - config.TransferEpochs + config.Search.EpochGrid.Count * config.TransferEpochs))
            : 0;
        int extraPerPretraining = config.Readouts.Count(r => r is Readout.FineTuning or Readout.ProbeThenFineTuning) * config.TransferEpochs - config.TransferEpochs;
        long perSeed = arms.Sum(arm => (long)EpochsOf(arm) + (arm == "target" ? 0 : extraPerPretraining));
        return search + EpochsOf("target") + config.Seeds.Count * perSeed;
    }

    private static double OurStepMs(RealImagesConfig config, int channels, int classes, int steps, int warmup)
    {
        TorchSharp.torch.manual_seed(0);
        using var model = new Granularity.Training.Models.Classifier(new Granularity.Training.Models.SmallCnnBody(config.Width, channels), classes);
        using var optimizer = TorchSharp.torch.optim.Adam(model.parameters(), 1e-3);
        var step = new Granularity.Training.TrainingStep(model, optimizer, new Granularity.Training.StageConfig(1, config.BatchSize, Granularity.Training.OptimizerKind.Adam, 1e-3, Granularity.Training.LearningRateSchedule.Constant));
        model.train();
        using var images = TorchSharp.torch.randn(config.BatchSize, channels, config.ImageSize, config.ImageSize);
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
