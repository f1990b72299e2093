using Granularity.Core;
using System.Globalization;
using Granularity.Notebook;
using Granularity.Runs;
using Granularity.Theory;

namespace Granularity.Cli.Commands;

/// <summary>Options shared by the theory commands that build one configuration.</summary>
internal static class TheoryOptions
{
    public const string ConfigUsage = """
          --paper          start from TheoryConfig.Full() (d=1000, k=16, 1000 steps) instead of Quick() (d=200, k=6, 600 steps)
          --d N            dimension d                      --k N          subclasses per superclass
          --noise X        noise standard deviation σ       --hard-share X share of hard samples in training, in [0, 1]
          --patches N      patches P                        --steps N      SGD steps
          --lr X           learning rate                    --batch N      batch size
          --neurons N      neurons per output m             --seed N       seed
          --eval-every N   steps between rows of metrics.csv
          --basis B        standard | random (orthonormal features)
          --training-set N a fixed training set of N samples (default 0: fresh samples every step)
        """;

    public static TheoryConfig Read(CliArguments arguments)
    {
        var config = arguments.Flag("paper") ? TheoryConfig.Full() : TheoryConfig.Quick();
        config = config with
        {
            Dimension = arguments.Int("d", config.Dimension),
            SubclassesPerSuperclass = arguments.Int("k", config.SubclassesPerSuperclass),
            NoiseStd = arguments.Double("noise", config.NoiseStd),
            HardShareInTraining = arguments.Double("hard-share", config.HardShareInTraining),
            Patches = arguments.Int("patches", config.Patches),
            Steps = arguments.Int("steps", config.Steps),
            EvalEvery = arguments.Int("eval-every", config.EvalEvery),
            LearningRate = arguments.Double("lr", config.LearningRate),
            BatchSize = arguments.Int("batch", config.BatchSize),
            NeuronsPerOutput = arguments.Int("neurons", config.NeuronsPerOutput),
            Seed = arguments.Int("seed", config.Seed),
            TrainingSetSize = arguments.Int("training-set", config.TrainingSetSize),
            Basis = arguments.String("basis", "standard") switch
            {
                "standard" => FeatureBasis.StandardBasis,
                "random" => FeatureBasis.RandomOrthonormal,
                var other => throw new CliUsageException($"--basis must be 'standard' or 'random', got '{other}'"),
            },
        };
        return config.Validate();
    }
}

/// <summary>`granularity theory run`: trains the coarse and the fine model of one configuration into its run folder.</summary>
public sealed class TheoryRunCommand : ICliCommand
{
    public string Name => "theory run";
    public string Summary => "train the coarse and fine two-layer conv nets of one theory configuration (run folder)";
    public string Usage => "usage: granularity theory run [options] [--runs FOLDER]\n" + TheoryOptions.ConfigUsage +
        "  --runs FOLDER    run folders root (default GRANULARITY_RUNS or artifacts/runs)\n";

    public int Run(CliArguments arguments)
    {
        var config = TheoryOptions.Read(arguments);
        var runs = arguments.String("runs");
        arguments.RejectUnknown();
        TorchRuntime.EnsureNativesLoaded();
        Console.WriteLine($"theory run {config.Label} on {TorchRuntime.Device.type.ToString().ToLowerInvariant()}");
        var run = TheoryExperiment.GetOrRun(config, runs, progress: line => Console.Error.Write($"\r  {line}   "));
        Console.Error.WriteLine();
        Console.WriteLine(TheoryExperiment.SummaryTable(new[] { run }));
        Console.WriteLine($"{(run.FromCache ? "read from" : "written to")} {run.Folder.Path}");
        return 0;
    }
}

/// <summary>`granularity theory sweep`: runs the Quick or Full sweep over k, noise, d, hard share and seeds.</summary>
public sealed class TheorySweepCommand : ICliCommand
{
    public string Name => "theory sweep";
    public string Summary => "run the theory sweep (k, noise, d, hard share × seeds) into run folders; prints a table";
    public string Usage => """
        usage: granularity theory sweep [--quick | --full] [--seeds 0,1,2] [--runs FOLDER]
          --quick          TheorySweep.Quick(): d=200, k ∈ {2,4,6,10}, 3 seeds (default)
          --full           TheorySweep.Full(): d=1000, k ∈ {2,4,8,12,16}, 5 seeds
          --seeds          override the seeds
          --runs FOLDER    run folders root (default GRANULARITY_RUNS or artifacts/runs)
        """;

    public int Run(CliArguments arguments)
    {
        var full = arguments.Flag("full");
        var quick = arguments.Flag("quick");
        if (full && quick) throw new CliUsageException("choose one of --quick and --full");
        var seeds = arguments.IntList("seeds", min: 0);
        var runsRoot = arguments.String("runs");
        arguments.RejectUnknown();
        var sweep = full ? TheorySweep.Full() : TheorySweep.Quick();
        if (seeds is not null) sweep = sweep with { Seeds = seeds };
        TorchRuntime.EnsureNativesLoaded();
        var configs = sweep.Configs;
        Console.WriteLine($"theory sweep '{sweep.Name}': {configs.Count} configurations on {TorchRuntime.Device.type.ToString().ToLowerInvariant()}");
        var done = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var runs = TheoryExperiment.RunSweep(sweep, runsRoot, run =>
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  [{++done}/{configs.Count}] {run.Config.Label}: {(run.FromCache ? "cached" : $"{run.Summary.Seconds:0.0} s")}")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sweep done in {clock.Elapsed.TotalSeconds:0.0} s"));
        Console.WriteLine();
        Console.WriteLine(TheoryExperiment.SummaryTable(runs));
        Console.WriteLine($"run folders: {Path.Combine(runsRoot ?? ProjectPaths.RunsRoot, TheoryExperiment.ExperimentName)}");
        return 0;
    }
}

/// <summary>`granularity theory bench`: SGD steps per second (vs a per-patch-loop peer), live tensors and peak memory.</summary>
public sealed class TheoryBenchCommand : ICliCommand
{
    public string Name => "theory bench";
    public string Summary => "benchmark theory SGD steps/s (Quick and Paper configs), live tensors over 1,000 steps, peak memory";
    public string Usage => """
        usage: granularity theory bench [--steps N] [--repeats N] [--live-steps N] [--only quick|paper|d4000] [--threads N] [--python PATH]
          --steps N        steps per timed repeat (default 200)
          --repeats N      interleaved repeats of the vectorised step and the per-patch-loop peer (default 3)
          --live-steps N   steps over which the live tensor count must stay flat (default 1000)
          --only C         benchmark only the quick, the paper (d=1000) or the d=4000 configuration
          --python PATH    interpreter for the PyTorch peer eng/bench/theory_step_torch.py, run between our repeats
                           (default /usr/bin/python3, Debian's python3-torch; 'none' skips it)
          --threads N      torch intra-op threads while training (default 1, as in runs)
        """;

    public int Run(CliArguments arguments)
    {
        var steps = arguments.Int("steps", 200, min: 1);
        var repeats = arguments.Int("repeats", 3, min: 1);
        var liveSteps = arguments.Int("live-steps", 1000, min: 1);
        var only = arguments.String("only");
        if (only is not null and not "quick" and not "paper" and not "d4000") throw new CliUsageException($"--only must be 'quick', 'paper' or 'd4000', got '{only}'");
        var python = arguments.String("python", "/usr/bin/python3");
        var script = Path.Combine(ProjectPaths.RepositoryRoot, "eng", "bench", "theory_step_torch.py");
        var peer = python != "none" && File.Exists(python) && File.Exists(script);
        TheoryExperiment.Threads = arguments.Int("threads", TheoryExperiment.Threads, min: 1, max: 256);
        arguments.RejectUnknown();
        TorchRuntime.EnsureNativesLoaded();
        Console.WriteLine($"theory bench on {TorchRuntime.Device.type.ToString().ToLowerInvariant()}, {Environment.ProcessorCount} logical CPUs, training with {TheoryExperiment.Threads} torch thread(s), products via {Sgemm.Backend}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; PyTorch peer: {(peer ? python : "none")}");
        var configs = new List<(string Name, TheoryConfig Config)>();
        if (only is null or "quick") configs.Add(("Quick", TheoryConfig.Quick()));
        if (only is null or "paper") configs.Add(("Paper", TheoryConfig.Full()));
        if (only is null or "d4000") configs.Add(("d=4000", TheoryConfig.Full() with { Dimension = 4000 }));
        var leaked = false;
        foreach (var (name, config) in configs)
        {
            var peerSteps = Math.Max(20, steps * 1000 / config.Dimension);
            var peerBlas = "";
            Func<double>? externalPeer = peer ? () => PyTorchPeer(python, script, config, peerSteps, TheoryExperiment.Threads, out peerBlas) : null;
            var result = TheoryBenchmark.Run(config, steps, repeats, liveSteps, progress: line => Console.WriteLine("  " + line), externalPeer);
            leaked |= result.LiveTensorsAfter != result.LiveTensorsBefore;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                {name} ({result.Config}, batch {config.BatchSize}, P={config.Patches}, m={config.NeuronsPerOutput}):
                  vectorised step       median {result.MedianVectorised,7:0.0} steps/s  (repeats: {string.Join(", ", result.VectorisedStepsPerSecond.Select(v => v.ToString("0", CultureInfo.InvariantCulture)))})
                  per-patch-loop peer   median {result.MedianPerPatchLoop,7:0.0} steps/s  (repeats: {string.Join(", ", result.PerPatchLoopStepsPerSecond.Select(v => v.ToString("0", CultureInfo.InvariantCulture)))})
                  ratio vectorised/peer {result.MedianRatio:0.00}×
                  PyTorch peer          median {result.MedianExternalPeer,7:0.0} steps/s  (repeats: {string.Join(", ", result.ExternalPeerStepsPerSecond.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)))}; BLAS {peerBlas})
                  step time ours/PyTorch {result.MedianExternalPeer / result.MedianVectorised:0.00}×
                  live tensors          {result.LiveTensorsBefore} before, {result.LiveTensorsAfter} after {result.LiveTensorSteps} more steps
                  peak working set      {result.PeakWorkingSetBytes / 1048576.0:0} MiB (process, cumulative)
                """));
        }
        if (leaked) Console.WriteLine("LEAK: the live tensor count grew across steps");
        return leaked ? 1 : 0;
    }

    /// <summary>Runs the PyTorch peer once (its own warm-up excluded from its timing); returns its steps per second.</summary>
    private static double PyTorchPeer(string python, string script, TheoryConfig config, int steps, int threads, out string blas)
    {
        var start = new System.Diagnostics.ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new object[] { script, config.Dimension, config.SubclassesPerSuperclass, steps, 10, threads, config.Patches, config.NeuronsPerOutput, config.BatchSize })
            start.ArgumentList.Add(Convert.ToString(argument, CultureInfo.InvariantCulture)!);
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("steps_per_second=", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"the PyTorch peer {script} failed (exit {process.ExitCode}): {error.Trim()}");
        var fields = line.Split(' ').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1]);
        blas = fields.GetValueOrDefault("blas", "?");
        return double.Parse(fields["steps_per_second"], CultureInfo.InvariantCulture);
    }
}

/// <summary>`granularity theory figures`: the notebook's figures and results table from the sweep's run folders, without a notebook host.</summary>
public sealed class TheoryFiguresCommand : ICliCommand
{
    public string Name => "theory figures";
    public string Summary => "export the theory figures (model, dynamics, accuracy, hard vs k, sweeps) and print the results-vs-paper table";
    public string Usage => """
        usage: granularity theory figures [--quick | --full] [--out FOLDER] [--runs FOLDER]
          --quick / --full  which sweep's runs to read (missing runs are trained first); Quick is the default
          --out FOLDER      where figures go (default GRANULARITY_FIGURES or artifacts/figures, then 01-theory-coarse-vs-fine)
          --runs FOLDER     run folders root (default GRANULARITY_RUNS or artifacts/runs)
        """;

    public int Run(CliArguments arguments)
    {
        var full = arguments.Flag("full");
        var quick = arguments.Flag("quick");
        if (full && quick) throw new CliUsageException("choose one of --quick and --full");
        var output = arguments.String("out", Path.Combine(ProjectPaths.FiguresRoot, "01-theory-coarse-vs-fine"));
        var runsRoot = arguments.String("runs");
        arguments.RejectUnknown();
        NotebookSetup.InstallFSharpCoreResolver();
        TorchRuntime.EnsureNativesLoaded();
        var sweep = full ? TheorySweep.Full() : TheorySweep.Quick();
        var runs = TheoryExperiment.RunSweep(sweep, runsRoot);
        var config = sweep.Base;
        var charts = new (string Id, Func<Plotly.NET.GenericChart> Build)[]
        {
            ("theory-model", () => Granularity.Plots.TheoryCharts.DataModel(config)),
            ("theory-dynamics", () => Granularity.Plots.TheoryCharts.Dynamics(TheorySweep.Along(runs, config, SweepAxis.Seed))),
            ("theory-accuracy", () => Granularity.Plots.TheoryCharts.Accuracy(TheorySweep.Along(runs, config, SweepAxis.Seed))),
            ("theory-hard-vs-k", () => Granularity.Plots.TheoryCharts.HardAccuracyVsK(TheorySweep.Along(runs, config, SweepAxis.Subclasses))),
            ("theory-sweeps", () => Granularity.Plots.TheoryCharts.Sweeps(runs, sweep)),
        };
        foreach (var (id, build) in charts)
        {
            var files = Granularity.Plots.FigureExport.Save(build(), output, id);
            Console.WriteLine($"{id}: {files.Html}{(files.Png is null ? "" : ", .png, .svg")}");
        }
        var study = TheoryStudy.Run(full ? TheoryStudyConfig.Full() : TheoryStudyConfig.Quick(), runsRoot);
        var studyCharts = new (string Id, Func<Plotly.NET.GenericChart> Build)[]
        {
            ("theory-scaling", () => Granularity.Plots.TheoryStudyCharts.Scaling(study)),
            ("theory-length", () => Granularity.Plots.TheoryStudyCharts.Length(study)),
            ("theory-capacity", () => Granularity.Plots.TheoryStudyCharts.Capacity(study)),
            ("theory-samples", () => Granularity.Plots.TheoryStudyCharts.Samples(study)),
        };
        foreach (var (id, build) in studyCharts)
        {
            var files = Granularity.Plots.FigureExport.Save(build(), output, id);
            Console.WriteLine($"{id}: {files.Html}{(files.Png is null ? "" : ", .png, .svg")}");
        }
        Console.WriteLine();
        Console.WriteLine(ClaimTable.ToText(TheoryStudy.Claims(study)));
        return 0;
    }
}

/// <summary>`granularity theory study`: the theorems' own regime (scaling with d, length, capacity, sample size) and its claims.</summary>
public sealed class TheoryStudyCommand : ICliCommand
{
    public string Name => "theory study";
    public string Summary => "run the theory study (transfers, joint d/k scaling, length, capacity, sample size) and print its claims";
    public string Usage => """
        usage: granularity theory study [--quick | --full] [--runs FOLDER]
          --quick          TheoryStudyConfig.Quick(): d ∈ {100, 200, 400}, 3 seeds (default; about a minute)
          --full           TheoryStudyConfig.Full(): d ∈ {250 … 4000}, 5 seeds, 64× length
          --runs FOLDER    run folders root (default GRANULARITY_RUNS or artifacts/runs)
        """;

    public int Run(CliArguments arguments)
    {
        var full = arguments.Flag("full");
        var quick = arguments.Flag("quick");
        if (full && quick) throw new CliUsageException("choose one of --quick and --full");
        var runsRoot = arguments.String("runs");
        arguments.RejectUnknown();
        TorchRuntime.EnsureNativesLoaded();
        var config = full ? TheoryStudyConfig.Full() : TheoryStudyConfig.Quick();
        Console.WriteLine($"theory study '{config.Name}': {config.Configs.Count} runs, products via {Sgemm.Backend}");
        var result = TheoryStudy.Run(config, runsRoot, line => Console.WriteLine("  " + line));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"study done in {result.Seconds:0.0} s"));
        Console.WriteLine();
        Console.WriteLine(ClaimTable.ToText(TheoryStudy.Claims(result)));
        return 0;
    }
}
