using Granularity.Experiments;
using Granularity.Core;
using Granularity.Notebook;
using Granularity.Runs;
using Granularity.Training;
using TorchSharp;

namespace Granularity.Cli.Commands;

/// <summary>Shared option handling of the training commands: a config file or a named protocol, runs root, threads.</summary>
internal static class TrainingCli
{
    public const string ConfigUsage = """
          --config FILE             a TrainingConfig JSON (write one with --write-config), or
          --protocol NAME           quick | quick-linear-probe | inat2021-resnet34 | imagenet21k-vitb16 (default quick)
          --pretraining-level L     with --protocol: the level to pretrain on (default leaf)
          --target-level T          with --protocol: the target level (default coarse)
          --seed N                  with --protocol (default 0)
          --runs DIR                run folders root (default GRANULARITY_RUNS or artifacts/runs)
          --threads N               torch CPU threads (default: torch's own choice)
          --write-config FILE       write the resolved config as JSON and exit
        """;

    public static TrainingConfig Config(CliArguments arguments)
    {
        var file = arguments.String("config");
        var protocol = arguments.String("protocol");
        var pretrainingLevel = arguments.String("pretraining-level");
        var targetLevel = arguments.String("target-level");
        var seed = arguments.Int("seed", -1, min: 0);
        if (file is not null)
        {
            if (protocol is not null) throw new CliUsageException("give either --config or --protocol, not both");
            var config = JsonFiles.Read<TrainingConfig>(Path.GetFullPath(file));
            return (config with
            {
                PretrainingLevel = pretrainingLevel ?? config.PretrainingLevel,
                TargetLevel = targetLevel ?? config.TargetLevel,
                Seed = seed >= 0 ? seed : config.Seed,
            }).Validated();
        }
        return TrainingProtocols.Named(protocol ?? "quick", pretrainingLevel ?? "leaf", targetLevel ?? "coarse", Math.Max(seed, 0)).Validated();
    }

    public static TrainingOptions Options(CliArguments arguments)
    {
        var runs = arguments.String("runs");
        var threads = arguments.Int("threads", 0, min: 0, max: 1024);
        if (threads > 0) { TorchRuntime.EnsureNativesLoaded(); torch.set_num_threads(threads); }
        return TrainingOptions.ForConsole(runs is null ? null : Path.GetFullPath(runs)).WithDatasetsIfUnset(ExperimentDatasets.All);
    }

    /// <summary>Writes the config when --write-config is given; returns true when the command should stop there.</summary>
    public static bool WroteConfig<T>(CliArguments arguments, T config)
    {
        var path = arguments.String("write-config");
        if (path is null) return false;
        arguments.RejectUnknown();
        JsonFiles.Write(Path.GetFullPath(path), config);
        Console.WriteLine($"wrote {Path.GetFullPath(path)}");
        return true;
    }

    public static void Print(string title, IEnumerable<SplitEvaluation> evaluations)
    {
        foreach (var e in evaluations)
            Console.WriteLine($"  {title} {e.Split,-8} level {e.Level,-10} n={e.Count,-7} top-1 error {e.Top1Error:P2}  top-5 error {e.Top5Error:P2}");
    }

    public static int Guarded(Func<int> run)
    {
        try { return run(); }
        catch (TrainingDivergedException error) { Console.Error.WriteLine($"\nstopped: {error.Message}"); return 3; }
        catch (TrainingInterruptedException error) { Console.Error.WriteLine($"\n{error.Message}"); return 4; }
        catch (InvalidOperationException error) { Console.Error.WriteLine(error.Message); return 1; }
    }
}

/// <summary>`granularity train`: pretraining at one level (or the baseline at the target level).</summary>
public sealed class TrainCommand : ICliCommand
{
    public string Name => "train";
    public string Summary => "pretrain at a granularity level (resumable run folder with checkpoints)";
    public string Usage => "usage: granularity train [options]   pretrains the config's PretrainingLevel (the baseline when it equals the target)\n" + TrainingCli.ConfigUsage;

    public int Run(CliArguments arguments)
    {
        var config = TrainingCli.Config(arguments).PretrainingPart();
        if (TrainingCli.WroteConfig(arguments, config)) return 0;
        var options = TrainingCli.Options(arguments);
        arguments.RejectUnknown();
        return TrainingCli.Guarded(() =>
        {
            var result = TrainingEngine.Pretrain(config, options);
            Console.WriteLine($"{(result.FromCache ? "reused" : "trained")} {result.Folder}");
            TrainingCli.Print("own level", result.Summary.OwnLevel);
            return 0;
        });
    }
}

/// <summary>`granularity finetune`: the whole experiment: pretraining (reused), new head, transfer, target evaluation.</summary>
public sealed class FinetuneCommand : ICliCommand
{
    public string Name => "finetune";
    public string Summary => "pretrain (reused if done), replace the head, transfer to the target level, evaluate";
    public string Usage => "usage: granularity finetune [options]\n" + TrainingCli.ConfigUsage;

    public int Run(CliArguments arguments)
    {
        var config = TrainingCli.Config(arguments);
        if (TrainingCli.WroteConfig(arguments, config)) return 0;
        var options = TrainingCli.Options(arguments);
        arguments.RejectUnknown();
        return TrainingCli.Guarded(() =>
        {
            var result = TrainingEngine.Run(config, options);
            Console.WriteLine($"{(result.FromCache ? "reused" : "finished")} {result.Folder}");
            TrainingCli.Print("target", result.Summary.Target);
            TrainingCli.Print("pretrained", result.Summary.PretrainedOwnLevel);
            return 0;
        });
    }
}

/// <summary>`granularity evaluate`: errors of a checkpoint (or a finished run) at a level.</summary>
public sealed class EvaluateCommand : ICliCommand
{
    public string Name => "evaluate";
    public string Summary => "top-1/top-5 error of a checkpoint at a level, or the summary of a finished run";
    public string Usage => """
        usage: granularity evaluate --checkpoint FILE --level L [--seed N] [--threads N]
               granularity evaluate --run FOLDER
          --checkpoint   a model.ckpt / checkpoint.ckpt; its head must fit level L (same level and class count)
          --level        the level to evaluate at
          --seed         the dataset seed (default: the seed in the checkpoint's config)
          --run          print the summary of a finished experiment folder
        """;

    public int Run(CliArguments arguments)
    {
        var run = arguments.String("run");
        var checkpoint = arguments.String("checkpoint");
        var level = arguments.String("level");
        var seed = arguments.Int("seed", -1, min: 0);
        TrainingCli.Options(arguments);
        arguments.RejectUnknown();
        if (run is not null)
        {
            var view = TrainingRuns.Load(Path.GetFullPath(run));
            Console.WriteLine($"{view.Folder}: {view.Summary.PretrainingLevel} → {view.Summary.TargetLevel} ({view.Summary.TransferMode}, seed {view.Summary.Seed})");
            TrainingCli.Print("target", view.Summary.Target);
            return 0;
        }
        if (checkpoint is null || level is null) throw new CliUsageException("give --run FOLDER, or --checkpoint FILE with --level L");
        var header = Checkpoint.Read(Path.GetFullPath(checkpoint)).Header;
        var dataset = header.ConfigType == nameof(TrainingConfig)
            ? JsonFiles_Deserialize<TrainingConfig>(header.ConfigJson).Dataset
            : JsonFiles_Deserialize<PretrainingConfig>(header.ConfigJson).Dataset;
        var configSeed = header.ConfigType == nameof(TrainingConfig)
            ? JsonFiles_Deserialize<TrainingConfig>(header.ConfigJson).Seed
            : JsonFiles_Deserialize<PretrainingConfig>(header.ConfigJson).Seed;
        var results = TrainingEngine.Evaluate(Path.GetFullPath(checkpoint), dataset, level, seed >= 0 ? seed : configSeed, ExperimentDatasets.All);
        TrainingCli.Print("", results.Select(r => r.Summary));
        return 0;
    }

    private static T JsonFiles_Deserialize<T>(string json) =>
        System.Text.Json.JsonSerializer.Deserialize<T>(json, JsonFiles.Options) ?? throw new InvalidDataException($"the checkpoint's config is not a {typeof(T).Name}");
}

/// <summary>`granularity sweep`: levels × seeds, run here in turn or submitted as a Slurm job array.</summary>
public sealed class SweepCommand : ICliCommand
{
    public string Name => "sweep";
    public string Summary => "run pretraining levels × seeds here, or submit them as a Slurm job array (--slurm)";
    public string Usage => """
        usage: granularity sweep --levels L1,L2,… [--seeds 0,1,2] [--name NAME] [--slurm [--wait] …] [config options]
          --levels        pretraining levels, one experiment each (include the target level for the baseline)
          --seeds         seeds (default 0)
          --name          sweep name (default: the protocol's)
          --slurm         write sweep.sbatch (one array task per level × seed) and submit it with sbatch
          --wait          with --slurm: wait for the job array, then list the run folders
          --cpus N --mem MB --time HH:MM:SS --gpus N --partition P   Slurm resources per task (defaults 1, 2000, -, 0, -)
          --cli "COMMAND" how a task calls granularity (default: this command line)
          --timeout-min N with --wait (default 120)
        """ + "\n" + TrainingCli.ConfigUsage;

    public int Run(CliArguments arguments)
    {
        var levels = (arguments.String("levels") ?? throw new CliUsageException("--levels is required"))
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var seeds = arguments.IntList("seeds", min: 0) ?? [0];
        var slurm = arguments.Flag("slurm");
        var wait = arguments.Flag("wait");
        var slurmOptions = new SlurmOptions(arguments.Int("cpus", 1, 1, 1024), arguments.Int("mem", 2000, 100), arguments.String("time"),
            arguments.Int("gpus", 0, 0, 16), arguments.String("partition"), arguments.String("cli"));
        var timeout = TimeSpan.FromMinutes(arguments.Int("timeout-min", 120, 1));
        var baseConfig = TrainingCli.Config(arguments);
        var name = arguments.String("name", baseConfig.Protocol);
        var options = TrainingCli.Options(arguments);
        arguments.RejectUnknown();
        if (wait && !slurm) throw new CliUsageException("--wait needs --slurm");
        var sweep = Sweeps.Grid(name, levels, seeds, (level, seed) => baseConfig with { PretrainingLevel = level, Seed = seed });
        var root = options.RunsRoot ?? ProjectPaths.RunsRoot;
        var sweepFile = Sweeps.Write(sweep, root);
        Console.WriteLine($"sweep {sweep.Name}: {sweep.Experiments.Count} experiments → {sweepFile}");
        if (!slurm)
        {
            return TrainingCli.Guarded(() =>
            {
                Sweeps.RunLocally(sweep, options);
                return Report(sweep, root);
            });
        }
        if (!Sweeps.OnPath("sbatch")) { Console.Error.WriteLine("sbatch is not on PATH: start Slurm (eng/start-slurm.sh on a single machine) or run without --slurm"); return 1; }
        return TrainingCli.Guarded(() => Submit(sweep, sweepFile, root, slurmOptions, wait, timeout));
    }

    private static int Submit(SweepConfig sweep, string sweepFile, string root, SlurmOptions slurmOptions, bool wait, TimeSpan timeout)
    {
        var job = Sweeps.Submit(sweep, sweepFile, root, slurmOptions);
        Console.WriteLine($"submitted job array {job} ({sweep.Experiments.Count} tasks); script {Path.Combine(Path.GetDirectoryName(sweepFile)!, Sweeps.ScriptFile)}");
        if (!wait) return 0;
        if (!Sweeps.WaitForJob(job, timeout)) { Console.Error.WriteLine($"job {job} still queued or running after {timeout.TotalMinutes} min"); return 1; }
        return Report(sweep, root);
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
}

/// <summary>`granularity sweep task`: one array task of a sweep (what sweep.sbatch runs).</summary>
public sealed class SweepTaskCommand : ICliCommand
{
    public string Name => "sweep task";
    public string Summary => "run experiment INDEX of a sweep.json (a Slurm array task)";
    public string Usage => "usage: granularity sweep task --sweep FILE --index N [--runs DIR] [--threads N]";

    public int Run(CliArguments arguments)
    {
        var file = arguments.RequiredString("sweep");
        var index = arguments.Int("index", -1, min: 0);
        if (index < 0) throw new CliUsageException("--index is required");
        var options = TrainingCli.Options(arguments);
        arguments.RejectUnknown();
        var sweep = Sweeps.Read(Path.GetFullPath(file));
        return TrainingCli.Guarded(() =>
        {
            var result = Sweeps.RunTask(sweep, index, options);
            Console.WriteLine($"task {index}: {(result.FromCache ? "reused" : "finished")} {result.Folder}");
            TrainingCli.Print("target", result.Summary.Target);
            return 0;
        });
    }
}
