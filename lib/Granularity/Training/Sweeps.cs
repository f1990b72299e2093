using Granularity.Core;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Granularity.Runs;

namespace Granularity.Training;

/// <summary>A list of experiments (granularity levels × seeds) run one per task: locally in turn, or as a Slurm job array.</summary>
public sealed record SweepConfig(string Name, IReadOnlyList<TrainingConfig> Experiments)
{
    public SweepConfig Validated()
    {
        if (string.IsNullOrWhiteSpace(Name) || Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            throw new ArgumentException($"SweepConfig.Name must be letters, digits, '-' or '_', got '{Name}'");
        if (Experiments.Count == 0) throw new ArgumentException("SweepConfig.Experiments is empty");
        foreach (var e in Experiments) e.Validated();
        return this;
    }
}

/// <summary>Options of a Slurm submission: resources per array task and how to call the command line.</summary>
public sealed record SlurmOptions(
    int CpusPerTask = 1,
    int MemoryMegabytes = 2000,
    string? TimeLimit = null,        // sbatch --time, e.g. "02:00:00"; null = the partition's default
    int GpusPerTask = 0,             // --gres=gpu:N
    string? Partition = null,
    string? CommandLine = null);     // how a task calls `granularity`; null = this process's own CLI

/// <summary>Builds, runs, submits and reads sweeps.</summary>
public static class Sweeps
{
    public const string SweepFile = "sweep.json";
    public const string ScriptFile = "sweep.sbatch";

    /// <summary>The grid levels × seeds of one protocol (levels vary the pretraining level; the target level is fixed by <paramref name="make"/>).</summary>
    public static SweepConfig Grid(string name, IEnumerable<string> pretrainingLevels, IEnumerable<int> seeds, Func<string, int, TrainingConfig> make) =>
        new SweepConfig(name, pretrainingLevels.SelectMany(level => seeds.Select(seed => make(level, seed))).ToList()).Validated();

    /// <summary>The folder of a sweep: <c>root/sweeps/NAME-KEY</c>.</summary>
    public static string Folder(SweepConfig sweep, string? root = null) =>
        Path.Combine(root ?? ProjectPaths.RunsRoot, "sweeps", $"{sweep.Name}-{RunStore.ConfigKey("sweep", sweep)}");

    /// <summary>Writes <c>sweep.json</c> (atomically) and returns its path.</summary>
    public static string Write(SweepConfig sweep, string? root = null)
    {
        var path = Path.Combine(Folder(sweep.Validated(), root), SweepFile);
        JsonFiles.Write(path, sweep);
        return path;
    }

    public static SweepConfig Read(string path) => ConfigFile.Read<SweepConfig>(path);

    /// <summary>Runs task <paramref name="index"/> (one experiment) of a sweep.</summary>
    public static ExperimentResult RunTask(SweepConfig sweep, int index, TrainingOptions? options = null)
    {
        if (index < 0 || index >= sweep.Experiments.Count)
            throw new ArgumentException($"task index {index} is outside the sweep's {sweep.Experiments.Count} experiments [0, {sweep.Experiments.Count - 1}]");
        return TrainingEngine.Run(sweep.Experiments[index], options);
    }

    /// <summary>Runs every task in turn in this process.</summary>
    public static IReadOnlyList<ExperimentResult> RunLocally(SweepConfig sweep, TrainingOptions? options = null) =>
        Enumerable.Range(0, sweep.Validated().Experiments.Count).Select(i => RunTask(sweep, i, options)).ToList();

    /// <summary>Where experiment <paramref name="index"/> writes its run folder (computed, nothing created).</summary>
    public static string RunFolderOf(SweepConfig sweep, int index, string? root = null) =>
        Path.Combine(root ?? ProjectPaths.RunsRoot, TrainingEngine.TransferExperiment, RunStore.ConfigKey(TrainingEngine.TransferExperiment, sweep.Experiments[index]));

    /// <summary>The finished experiments of a sweep, in task order; unfinished tasks are null.</summary>
    public static IReadOnlyList<TrainingRunView?> Results(SweepConfig sweep, string? root = null) =>
        Enumerable.Range(0, sweep.Experiments.Count).Select(i =>
        {
            var folder = RunFolderOf(sweep, i, root);
            return File.Exists(Path.Combine(folder, RunFolder.SummaryFile)) ? TrainingRuns.Load(folder) : null;
        }).ToList();

    /// <summary>The sbatch script: one array task per experiment, each calling <c>granularity sweep task</c> for its index.</summary>
    public static string SlurmScript(SweepConfig sweep, string sweepFile, string runsRoot, SlurmOptions slurm) =>
        JobScript($"granularity-{sweep.Name}", Path.GetDirectoryName(Path.GetFullPath(sweepFile))!, runsRoot, slurm,
            $"sweep task --sweep {Quote(sweepFile)} --index \"$SLURM_ARRAY_TASK_ID\" --threads \"${{SLURM_CPUS_PER_TASK:-1}}\"",
            sweep.Experiments.Count, "Written by `granularity sweep --slurm`: task i runs experiment i of sweep.json; results land in run folders.");

    /// <summary>
    /// A Slurm batch script that runs <c>granularity ARGUMENTS</c> with the runs root exported; with
    /// <paramref name="arrayTasks"/>, an array of that many tasks (<c>$SLURM_ARRAY_TASK_ID</c> may appear in the arguments).
    /// Each task's output goes to <c>FOLDER/slurm-JOB_TASK.out</c>.
    /// </summary>
    public static string JobScript(string jobName, string folder, string runsRoot, SlurmOptions slurm, string arguments, int? arrayTasks, string comment)
    {
        var text = new StringBuilder();
        text.AppendLine("#!/bin/bash");
        text.AppendLine($"#SBATCH --job-name={jobName}");
        if (arrayTasks is { } count) text.AppendLine($"#SBATCH --array=0-{count - 1}");
        text.AppendLine($"#SBATCH --cpus-per-task={slurm.CpusPerTask}");
        text.AppendLine($"#SBATCH --mem={slurm.MemoryMegabytes}M");
        text.AppendLine(arrayTasks is null ? $"#SBATCH --output={folder}/slurm-%j.out" : $"#SBATCH --output={folder}/slurm-%A_%a.out");
        if (slurm.TimeLimit is not null) text.AppendLine($"#SBATCH --time={slurm.TimeLimit}");
        if (slurm.GpusPerTask > 0) text.AppendLine($"#SBATCH --gres=gpu:{slurm.GpusPerTask}");
        if (slurm.Partition is not null) text.AppendLine($"#SBATCH --partition={slurm.Partition}");
        text.AppendLine($"# {comment}");
        text.AppendLine("set -euo pipefail");
        text.AppendLine($"export GRANULARITY_RUNS={Quote(runsRoot)}");
        text.AppendLine($"exec {slurm.CommandLine ?? OwnCommandLine()} {arguments}");
        return text.ToString();
    }

    /// <summary>Writes the script next to the sweep file and submits it with sbatch; returns the job id.</summary>
    public static string Submit(SweepConfig sweep, string sweepFile, string runsRoot, SlurmOptions slurm)
    {
        var script = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(sweepFile))!, ScriptFile);
        AtomicFile.WriteAllText(script, SlurmScript(sweep, sweepFile, runsRoot, slurm));
        return SubmitScript(script);
    }

    /// <summary>Submits <paramref name="script"/> with sbatch, to start once job <paramref name="afterOk"/> (if any) has succeeded; returns the job id.</summary>
    public static string SubmitScript(string script, string? afterOk = null)
    {
        string[] arguments = afterOk is null ? ["--parsable", script] : ["--parsable", $"--dependency=afterok:{afterOk}", "--kill-on-invalid-dep=yes", script];
        var (code, output, error) = Execute("sbatch", arguments);
        if (code != 0) throw new InvalidOperationException($"sbatch {script} failed (exit {code}): {error.Trim()} {output.Trim()}");
        return output.Trim().Split(';')[0];
    }

    /// <summary>Polls squeue until job <paramref name="jobId"/> has left the queue, or the time runs out.</summary>
    public static bool WaitForJob(string jobId, TimeSpan timeout, Action<string>? onPoll = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var (code, output, _) = Execute("squeue", ["-h", "-j", jobId, "-o", "%i %T"]);
            if (code == 0 && string.IsNullOrWhiteSpace(output)) return true;
            // squeue exits non-zero once the id has been purged from the controller: the job is done.
            if (code != 0) return true;
            onPoll?.Invoke(output.Trim());
            Thread.Sleep(1000);
        }
        return false;
    }

    /// <summary>True when <paramref name="program"/> is on PATH.</summary>
    public static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, program)));

    /// <summary>How to call this command line from a script: the apphost, or `dotnet Granularity.Cli.dll`.</summary>
    public static string OwnCommandLine()
    {
        var processPath = Environment.ProcessPath ?? "";
        if (Path.GetFileName(processPath) == "Granularity.Cli") return Quote(processPath);
        var dll = Path.Combine(AppContext.BaseDirectory, "Granularity.Cli.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"cannot find Granularity.Cli.dll next to {AppContext.BaseDirectory}; pass the command line explicitly (--cli)");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (string.IsNullOrEmpty(dotnet) || !File.Exists(dotnet)) dotnet = Path.GetFileName(processPath) == "dotnet" ? processPath : "dotnet";
        return $"{Quote(dotnet)} {Quote(dll)}";
    }

    /// <summary>A single-quoted shell word.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''") + "'";

    private static (int Code, string Output, string Error) Execute(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }
}
