using System.CommandLine;
using Granularity.Core;
using Granularity.Experiments;
using Granularity.Runs;
using Granularity.Training;
using TorchSharp;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>The options every training command shares: a config file or a named protocol, runs root, threads.</summary>
internal sealed class TrainingCliOptions
{
    public readonly Option<string?> ConfigFile = Text("--config", "a TrainingConfig JSON (write one with --write-config); excludes --protocol", "FILE");
    public readonly Option<string?> Protocol = OptionalChoice("--protocol", "named protocol (default quick)", [.. TrainingProtocols.Names]);
    public readonly Option<string?> PretrainingLevel = Text("--pretraining-level", "the level to pretrain on (default leaf, or the config file's)", "LEVEL");
    public readonly Option<string?> TargetLevel = Text("--target-level", "the target level (default coarse, or the config file's)", "LEVEL");
    public readonly Option<int?> Seed = OptionalInt("--seed", "seed (default 0, or the config file's)", min: 0);
    public readonly Option<string?> Runs = CliOptions.Runs();
    public readonly Option<int> Threads = ThreadsOption();
    public readonly Option<string?> WriteConfig = Text("--write-config", "write the resolved config as JSON and exit", "FILE");

    public static Option<int> ThreadsOption() => Int("--threads", "torch CPU threads (0: torch's own choice)", 0, 0, 1024);

    /// <summary>Runs root and threads only (commands that read a config from elsewhere).</summary>
    public Option[] Common => [Runs, Threads];

    public Option[] All => [ConfigFile, Protocol, PretrainingLevel, TargetLevel, Seed, Runs, Threads, WriteConfig];

    public void Validate(Command command) => AtMostOneOf(command, ConfigFile, Protocol);

    public TrainingConfig Config(ParseResult parse)
    {
        var pretraining = parse.GetValue(PretrainingLevel);
        var target = parse.GetValue(TargetLevel);
        var seed = parse.GetValue(Seed);
        if (parse.GetValue(ConfigFile) is { } file)
        {
            var config = Granularity.Core.ConfigFile.Read<TrainingConfig>(Path.GetFullPath(file));
            return (config with { PretrainingLevel = pretraining ?? config.PretrainingLevel, TargetLevel = target ?? config.TargetLevel, Seed = seed ?? config.Seed }).Validated();
        }
        return TrainingProtocols.Named(parse.GetValue(Protocol) ?? "quick", pretraining ?? "leaf", target ?? "coarse", seed ?? 0).Validated();
    }

    public TrainingOptions Options(ParseResult parse, IProgressReporter? progress)
    {
        ApplyThreads(parse, Threads);
        var runs = parse.GetValue(Runs);
        return TrainingOptions.ForConsole(runs is null ? null : Path.GetFullPath(runs), progress).WithDatasetsIfUnset(ExperimentDatasets.All);
    }

    public static void ApplyThreads(ParseResult parse, Option<int> threads)
    {
        if (parse.GetValue(threads) is > 0 and var count) { TorchRuntime.EnsureNativesLoaded(); torch.set_num_threads(count); }
    }

    /// <summary>Writes the config when --write-config is given; returns true when the command should stop there.</summary>
    public bool WroteConfig<T>(ParseResult parse, T config)
    {
        if (parse.GetValue(WriteConfig) is not { } path) return false;
        JsonFiles.Write(Path.GetFullPath(path), config);
        Console.WriteLine($"wrote {Path.GetFullPath(path)}");
        return true;
    }

    public static void Print(string title, IEnumerable<SplitEvaluation> evaluations)
    {
        foreach (var e in evaluations)
            Console.WriteLine($"  {title} {e.Split,-8} level {e.Level,-10} n={e.Count,-7} top-1 error {e.Top1Error:P2}  top-5 error {e.Top5Error:P2}");
    }
}

/// <summary>`granularity train | finetune | evaluate | sweep [task]`: the training engine on one config or a grid of them.</summary>
public static class TrainingCommands
{
    public static IEnumerable<Command> Build() => [Train(), Finetune(), Evaluate(), Sweep()];

    private static Command Train()
    {
        var options = new TrainingCliOptions();
        var command = Command("train", "pretrain at a granularity level: the config's PretrainingLevel, the baseline when it equals the target (resumable run folder)", options.All, parse =>
        {
            var full = options.Config(parse);
            if (options.WroteConfig(parse, full)) return 0; // the file --config reads: a TrainingConfig
            var config = full.PretrainingPart();
            var result = ConsoleProgress.Run(progress => TrainingEngine.Pretrain(config, options.Options(parse, progress)));
            Console.WriteLine($"{(result.FromCache ? "reused" : "trained")} {result.Folder}");
            TrainingCliOptions.Print("own level", result.Summary.OwnLevel);
            return 0;
        });
        options.Validate(command);
        command.Subcommands.Add(BenchCommands.Training());
        return command;
    }

    private static Command Finetune()
    {
        var options = new TrainingCliOptions();
        var command = Command("finetune", "pretrain (reused if done), replace the head, transfer to the target level, evaluate", options.All, parse =>
        {
            var config = options.Config(parse);
            if (options.WroteConfig(parse, config)) return 0;
            var result = ConsoleProgress.Run(progress => TrainingEngine.Run(config, options.Options(parse, progress)));
            Console.WriteLine($"{(result.FromCache ? "reused" : "finished")} {result.Folder}");
            TrainingCliOptions.Print("target", result.Summary.Target);
            TrainingCliOptions.Print("pretrained", result.Summary.PretrainedOwnLevel);
            return 0;
        });
        options.Validate(command);
        return command;
    }

    private static Command Evaluate()
    {
        var run = Text("--run", "print the summary of a finished experiment folder", "FOLDER");
        var checkpoint = Text("--checkpoint", "a model.ckpt / checkpoint.ckpt; its head must fit --level (same level and class count)", "FILE");
        var level = Text("--level", "the level to evaluate the checkpoint at", "LEVEL");
        var seed = OptionalInt("--seed", "the dataset seed (default: the seed in the checkpoint's config)", min: 0);
        var threads = TrainingCliOptions.ThreadsOption();
        var command = Command("evaluate", "top-1/top-5 error of a checkpoint at a level, or the summary of a finished run", [run, checkpoint, level, seed, threads], parse =>
        {
            TrainingCliOptions.ApplyThreads(parse, threads);
            if (parse.GetValue(run) is { } folder)
            {
                var view = TrainingRuns.Load(Path.GetFullPath(folder));
                Console.WriteLine($"{view.Folder}: {view.Summary.PretrainingLevel} → {view.Summary.TargetLevel} ({view.Summary.TransferMode}, seed {view.Summary.Seed})");
                TrainingCliOptions.Print("target", view.Summary.Target);
                return 0;
            }
            if (parse.GetValue(checkpoint) is not { } checkpointFile || parse.GetValue(level) is null)
                throw new CliUsageException("give --run FOLDER, or --checkpoint FILE with --level LEVEL");
            var path = Path.GetFullPath(checkpointFile);
            var header = Checkpoint.Read(path).Header;
            var (dataset, configSeed) = header.ConfigType == nameof(TrainingConfig)
                ? Deserialize<TrainingConfig>(header.ConfigJson) is var t ? (t.Dataset, t.Seed) : default
                : Deserialize<PretrainingConfig>(header.ConfigJson) is var p ? (p.Dataset, p.Seed) : default;
            var results = TrainingEngine.Evaluate(path, dataset, parse.GetValue(level)!, parse.GetValue(seed) ?? configSeed, ExperimentDatasets.All);
            TrainingCliOptions.Print("", results.Select(r => r.Summary));
            return 0;
        });
        AtMostOneOf(command, run, checkpoint);
        return command;
    }

    private static T Deserialize<T>(string json) =>
        System.Text.Json.JsonSerializer.Deserialize<T>(json, JsonFiles.Options) ?? throw new InvalidDataException($"the checkpoint's config is not a {typeof(T).Name}");

    private static Command Sweep()
    {
        var options = new TrainingCliOptions();
        var levels = List("--levels", "pretraining levels, one experiment each (include the target level for the baseline)", "L1,L2,…");
        levels.Required = true;
        var seeds = IntList("--seeds", "seeds (default 0)");
        var name = Text("--name", "sweep name (default: the protocol's)");
        var slurm = SlurmCliOptions.Create(cpus: 1, memoryMb: 2000, gpus: 0, "the job array, then list the run folders", waitMinutes: 120);
        var command = Command("sweep", "run pretraining levels × seeds here, or submit them as a Slurm job array (--slurm)",
            [levels, seeds, name, .. slurm.All, .. options.All], parse =>
        {
            var baseConfig = options.Config(parse);
            var sweep = Sweeps.Grid(parse.GetValue(name) ?? baseConfig.Protocol, parse.GetList(levels)!, parse.GetList(seeds) ?? [0],
                (level, seed) => baseConfig with { PretrainingLevel = level, Seed = seed });
            var trainingOptions = options.Options(parse, null);
            var root = trainingOptions.RunsRoot ?? ProjectPaths.RunsRoot;
            var sweepFile = Sweeps.Write(sweep, root);
            Console.WriteLine($"sweep {sweep.Name}: {sweep.Experiments.Count} experiments → {sweepFile}");
            if (!parse.GetValue(slurm.Submit))
            {
                ConsoleProgress.Run(progress => { Sweeps.RunLocally(sweep, options.Options(parse, progress)); return 0; });
                return Report(sweep, root);
            }
            if (!Sweeps.OnPath("sbatch")) throw new InvalidOperationException("sbatch is not on PATH: start Slurm (eng/start-slurm.sh on a single machine) or run without --slurm");
            var job = Sweeps.Submit(sweep, sweepFile, root, slurm.Read(parse));
            Console.WriteLine($"submitted job array {job} ({sweep.Experiments.Count} tasks); script {Path.Combine(Path.GetDirectoryName(sweepFile)!, Sweeps.ScriptFile)}");
            if (slurm.WaitLimit(parse) is not { } limit) return 0;
            if (!Sweeps.WaitForJob(job, limit)) throw new InvalidOperationException($"job {job} still queued or running after {limit.TotalMinutes} min");
            return Report(sweep, root);
        });
        options.Validate(command);
        slurm.Validate(command);
        command.Subcommands.Add(SweepTask());
        return command;
    }

    private static int Report(SweepConfig sweep, string root)
    {
        var results = Sweeps.Results(sweep, root);
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var e = sweep.Experiments[i];
            if (r is null) { Console.WriteLine($"  task {i}: {e.PretrainingLevel} seed {e.Seed}: MISSING (no summary in {Sweeps.RunFolderOf(sweep, i, root)})"); continue; }
            Console.WriteLine($"  task {i}: {e.PretrainingLevel,-10} seed {e.Seed}: " + string.Join("  ", r.Summary.Target.Select(t => $"{t.Split} top-1 err {t.Top1Error:P2}")) + $"  {r.Folder}");
        }
        return results.All(r => r is not null) ? 0 : 1;
    }

    private static Command SweepTask()
    {
        var file = Required("--sweep", "the sweep.json", "FILE");
        var index = Int("--index", "the experiment (array task) to run", 0, 0);
        index.Required = true;
        var options = new TrainingCliOptions();
        return Command("task", "run experiment INDEX of a sweep.json (a Slurm array task)", [file, index, .. options.Common], parse =>
        {
            var sweep = Sweeps.Read(Path.GetFullPath(parse.GetValue(file)!));
            var i = parse.GetValue(index);
            var result = ConsoleProgress.Run(progress => Sweeps.RunTask(sweep, i, options.Options(parse, progress)));
            Console.WriteLine($"task {i}: {(result.FromCache ? "reused" : "finished")} {result.Folder}");
            TrainingCliOptions.Print("target", result.Summary.Target);
            return 0;
        });
    }
}

/// <summary>Slurm resources per array task, shared by the sweep commands; defaults differ per command.</summary>
internal sealed class SlurmCliOptions
{
    public required Option<bool> Submit { get; init; }
    public required Option<int> Cpus { get; init; }
    public required Option<int> Memory { get; init; }
    public required Option<string?> Time { get; init; }
    public required Option<int> Gpus { get; init; }
    public required Option<string?> Partition { get; init; }
    public required Option<string?> Cli { get; init; }
    public required Option<bool> Wait { get; init; }
    public required Option<int> WaitMinutes { get; init; }

    public Option[] All => [Submit, Cpus, Memory, Time, Gpus, Partition, Cli, Wait, WaitMinutes];

    /// <summary>The options; <paramref name="waitsFor"/> says what --wait waits for and prints, <paramref name="waitMinutes"/> is --timeout-min's default.</summary>
    public static SlurmCliOptions Create(int cpus, int memoryMb, int gpus, string waitsFor, int waitMinutes) => new()
    {
        Submit = Flag("--slurm", "write sweep.sbatch (one array task per cell) and submit it with sbatch"),
        Cpus = Int("--cpus", "Slurm: CPUs per task", cpus, 1, 1024),
        Memory = Int("--mem", "Slurm: memory per task in MB", memoryMb, 100),
        Time = Text("--time", "Slurm: time limit per task", "HH:MM:SS"),
        Gpus = Int("--gpus", "Slurm: GPUs per task", gpus, 0, 16),
        Partition = Text("--partition", "Slurm: partition"),
        Cli = Text("--cli", "how a Slurm task calls granularity (default: this command line)", "COMMAND"),
        Wait = Flag("--wait", $"with --slurm: wait for {waitsFor}"),
        WaitMinutes = Int("--timeout-min", "with --wait: minutes to wait", waitMinutes, 1),
    };

    /// <summary>Refuses --wait without --slurm.</summary>
    public void Validate(Command command) => command.Validators.Add(result =>
    {
        if (result.GetResult(Wait) is { Implicit: false } && !result.GetValue(Submit)) result.AddError("--wait needs --slurm");
    });

    /// <summary>How long --wait waits, or null when the command should not wait.</summary>
    public TimeSpan? WaitLimit(ParseResult parse) => parse.GetValue(Wait) ? TimeSpan.FromMinutes(parse.GetValue(WaitMinutes)) : null;

    public SlurmOptions Read(ParseResult parse) => new(parse.GetValue(Cpus), parse.GetValue(Memory), parse.GetValue(Time), parse.GetValue(Gpus), parse.GetValue(Partition), parse.GetValue(Cli));
}
