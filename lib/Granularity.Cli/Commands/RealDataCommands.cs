using Granularity.Core;
using Granularity.Experiments;
using Granularity.Runs;
using Granularity.Training;

namespace Granularity.Cli.Commands;

/// <summary>Options shared by the real-data experiment commands: mode, seeds, run-or-sweep, Slurm resources.</summary>
internal static class RealDataCli
{
    public const string SweepUsage = """
          --full                    the real dataset and the paper's protocol (GPU machine); default: Quick on the stand-in
          --seeds 0,1,2             seeds (default 0)
          --table                   only print the table from existing run folders (train nothing)
          --sweep                   write sweep.json and run its tasks here in turn (same as without, but through the sweep file)
          --slurm                   write sweep.sbatch (one array task per cell) and submit it with sbatch
          --cpus N --mem MB --time HH:MM:SS --gpus N --partition P   Slurm resources per task (defaults 8, 64000, -, 1, -)
          --cli "COMMAND"           how a Slurm task calls granularity (default: this command line)
          --runs DIR                run folders root (default GRANULARITY_RUNS or artifacts/runs)
          --threads N               torch CPU threads
        """;

    public static SlurmOptions Slurm(CliArguments arguments) => new(arguments.Int("cpus", 8, 1, 1024), arguments.Int("mem", 64000, 100), arguments.String("time"),
        arguments.Int("gpus", 1, 0, 16), arguments.String("partition"), arguments.String("cli"));

    public static int SubmitOrRun(SweepConfig sweep, bool slurm, SlurmOptions slurmOptions, TrainingOptions options)
    {
        var root = options.RunsRoot ?? ProjectPaths.RunsRoot;
        var file = Sweeps.Write(sweep, root);
        Console.WriteLine($"sweep {sweep.Name}: {sweep.Experiments.Count} cells → {file}");
        if (slurm)
        {
            if (!Sweeps.OnPath("sbatch")) { Console.Error.WriteLine("sbatch is not on PATH: run on the cluster's login node (or eng/start-slurm.sh on one machine), or drop --slurm"); return 1; }
            var job = Sweeps.Submit(sweep, file, root, slurmOptions);
            Console.WriteLine($"submitted job array {job} ({sweep.Experiments.Count} tasks); when it is done, rerun this command with --table");
            return 0;
        }
        return TrainingCli.Guarded(() => { Sweeps.RunLocally(sweep, options); return 0; });
    }
}

/// <summary>`granularity experiment inat2021`: the iNat2021 fine-to-coarse experiment (notebook 04).</summary>
public sealed class Inat2021ExperimentCommand : ICliCommand
{
    public string Name => "experiment inat2021";
    public string Summary => "iNat2021: supercategory error after pretraining on ranks, random, clusters, one label per image (Quick: stand-in)";
    public string Usage => """
        usage: granularity experiment inat2021 [--full] [--seeds 0,1,2] [--embeddings ID] [--table | --sweep | --slurm …]
          --embeddings ID           cluster labels from an imported embedding file (default: our baseline model's features)
          --no-clusters             leave out the cluster cells (e.g. for a first Slurm sweep before embeddings exist)
        Without --sweep/--slurm/--table every cell runs here in order, embeddings are computed after the baseline, then the cluster cells run.
        With --sweep/--slurm the cluster cells are included only when their embedding file exists.
        """ + "\n" + RealDataCli.SweepUsage;

    public int Run(CliArguments arguments)
    {
        var full = arguments.Flag("full");
        var config = full ? Inat2021ExperimentConfig.Full() : Inat2021ExperimentConfig.Quick();
        var seeds = arguments.IntList("seeds", min: 0);
        var embeddings = arguments.String("embeddings");
        bool noClusters = arguments.Flag("no-clusters"), tableOnly = arguments.Flag("table"), sweep = arguments.Flag("sweep"), slurm = arguments.Flag("slurm");
        var slurmOptions = RealDataCli.Slurm(arguments);
        var options = TrainingCli.Options(arguments);
        arguments.RejectUnknown();
        config = (config with { Seeds = seeds ?? config.Seeds, Embeddings = embeddings ?? config.Embeddings, Clusters = !noClusters }).Validated();
        Console.WriteLine($"iNat2021 experiment: {(config.IsStandIn ? "Quick, generated stand-in (stand-in numbers)" : "Full, real train_mini/val")}; protocol {config.Template.Protocol}; seeds {string.Join(",", config.Seeds)}");
        if (tableOnly) return Print(config, Inat2021Experiment.Table(config, options.RunsRoot));
        if (sweep || slurm)
        {
            bool clustersReady = config.Clusters && EmbeddingsExist(config);
            if (config.Clusters && !clustersReady)
                Console.WriteLine($"  cluster cells left out: embeddings '{Inat2021Experiment.EmbeddingId(config)}' do not exist yet; after the baseline finishes run `granularity experiment inat2021 embeddings{(config.IsStandIn ? "" : " --full")}`, then this command again");
            return RealDataCli.SubmitOrRun(Inat2021Experiment.Sweep(config, clustersReady), slurm, slurmOptions, options);
        }
        return TrainingCli.Guarded(() => Print(config, Inat2021Experiment.Run(config, options, Console.WriteLine)));
    }

    private static bool EmbeddingsExist(Inat2021ExperimentConfig config)
    {
        using var data = Inat2021Experiment.OpenData(config, config.Seeds[0]);
        return File.Exists(Path.Combine(data.EmbeddingsFolder, Inat2021Experiment.EmbeddingId(config) + ".npy"));
    }

    private static int Print(Inat2021ExperimentConfig config, IReadOnlyList<Inat2021Row> table)
    {
        Console.WriteLine($"\n{Inat2021Experiment.RelativeImprovementFormula}; paper: {Inat2021Experiment.PaperRelativeImprovement:P2}{(config.IsStandIn ? "; ours below are STAND-IN numbers" : "")}");
        Console.WriteLine($"  {"kind",-24} {"labelling",-40} {"classes",8} {"val error",10} {"range",17} {"rel. impr.",10}");
        foreach (var row in table)
            Console.WriteLine($"  {row.Kind,-24} {row.Labelling,-40} {row.Classes,8:N0} {(double.IsNaN(row.MedianError) ? "missing" : row.MedianError.ToString("P2")),10} {(row.Errors.Count > 1 ? $"{row.MinError:P1}–{row.MaxError:P1}" : ""),17} {(row.RelativeImprovement is { } r ? r.ToString("+0.00%;−0.00%") : ""),10}{(row.MissingSeeds > 0 ? $"  ({row.MissingSeeds} seed(s) not run)" : "")}");
        return table.All(r => r.MissingSeeds == 0) ? 0 : 1;
    }
}

/// <summary>`granularity experiment inat2021 embeddings`: import a user embedding file, or compute ours from the baseline.</summary>
public sealed class Inat2021EmbeddingsCommand : ICliCommand
{
    public string Name => "experiment inat2021 embeddings";
    public string Summary => "validate and import an image-embedding file for cluster labels, or compute it from our baseline model";
    public string Usage => """
        usage: granularity experiment inat2021 embeddings [--full] [--import FILE --name NAME]
          --import FILE   a .npy float32/float16 array (images × dimensions), row i = images[i] of train_mini.json
                          (optional sidecar FILE-without-.npy.files.txt: each row's file_name); e.g. CLIP ViT-L/14 as in the paper
          --name NAME     the embedding id to use with `experiment inat2021 --embeddings NAME`
        Without --import: the features of our baseline model (trained first if needed) become embedding 'baseline-…'.
        """;

    public int Run(CliArguments arguments)
    {
        var config = arguments.Flag("full") ? Inat2021ExperimentConfig.Full() : Inat2021ExperimentConfig.Quick();
        var file = arguments.String("import");
        var name = arguments.String("name");
        var options = TrainingCli.Options(arguments);
        arguments.RejectUnknown();
        if (file is not null)
        {
            if (name is null) throw new CliUsageException("--import needs --name");
            var imported = Inat2021Experiment.ImportEmbeddings(config, file, name);
            Console.WriteLine($"imported {imported.Rows:N0} × {imported.Dimension} embeddings as '{name}': {imported.Path}");
            return 0;
        }
        if (name is not null) throw new CliUsageException("--name goes with --import");
        return TrainingCli.Guarded(() =>
        {
            var id = Inat2021Experiment.EnsureEmbeddings(config, options);
            Console.WriteLine($"embeddings '{id}' ready (features of our baseline model)");
            return 0;
        });
    }
}

/// <summary>`granularity experiment imagenet`: ImageNet-21k → ImageNet-1k (notebook 05).</summary>
public sealed class ImageNetExperimentCommand : ICliCommand
{
    public string Name => "experiment imagenet";
    public string Summary => "ImageNet-21k → 1k: pretrain at WordNet levels, fine-tune, ImageNet-1k top-1 (Quick: stand-in)";
    public string Usage => """
        usage: granularity experiment imagenet [--full] [--levels L1,L2,…] [--seeds 0,1] [--table | --sweep | --slurm …]
          --levels   pretraining levels (imagenet21k-leaf, imagenet21k-up:N, imagenet21k-shortest-up:N); default: the config's
        """ + "\n" + RealDataCli.SweepUsage;

    public int Run(CliArguments arguments)
    {
        var full = arguments.Flag("full");
        var config = full ? ImageNetExperimentConfig.Full() : ImageNetExperimentConfig.Quick();
        var levels = arguments.String("levels")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var seeds = arguments.IntList("seeds", min: 0);
        bool tableOnly = arguments.Flag("table"), sweep = arguments.Flag("sweep"), slurm = arguments.Flag("slurm");
        var slurmOptions = RealDataCli.Slurm(arguments);
        var options = TrainingCli.Options(arguments);
        arguments.RejectUnknown();
        config = (config with { PretrainingLevels = levels ?? config.PretrainingLevels, Seeds = seeds ?? config.Seeds }).Validated();
        Console.WriteLine($"ImageNet experiment: {(config.IsStandIn ? "Quick, generated stand-in (stand-in numbers)" : "Full, ImageNet-21k fall11 → ImageNet-1k")}; protocol {config.Template.Protocol}");
        if (tableOnly) return Print(ImageNetExperiment.Table(config, options.RunsRoot));
        if (sweep || slurm) return RealDataCli.SubmitOrRun(ImageNetExperiment.Sweep(config), slurm, slurmOptions, options);
        return TrainingCli.Guarded(() => Print(ImageNetExperiment.Run(config, options, Console.WriteLine)));
    }

    private static int Print(IReadOnlyList<ImageNetRow> rows)
    {
        Console.WriteLine($"\n  {"pretraining level",-28} {"classes",8} {"IN-1k top-1",12}");
        foreach (var row in rows)
            Console.WriteLine($"  {row.PretrainingLevel + (row.IsBaseline ? " (baseline)" : ""),-28} {row.Classes,8:N0} {(double.IsNaN(row.MedianTop1) ? "missing" : row.MedianTop1.ToString("0.00") + "%"),12}");
        Console.WriteLine("  paper (Table 1): " + string.Join(" / ", ImageNetExperiment.PaperTable.Select(p => $"{p.Top1:0.00}")));
        return rows.All(r => r.MissingSeeds == 0) ? 0 : 1;
    }
}

/// <summary>`granularity experiment imagenet levels`: the WordNet level rules and their class counts.</summary>
public sealed class ImageNetLevelsCommand : ICliCommand
{
    public string Name => "experiment imagenet levels";
    public string Summary => "ImageNet-21k level rules (n steps up, first hypernym / shortest path) and their class counts";
    public string Usage => "usage: granularity experiment imagenet levels [--max-steps N]";

    public int Run(CliArguments arguments)
    {
        var max = arguments.Int("max-steps", 12, 1, 30);
        arguments.RejectUnknown();
        foreach (var row in ImageNetExperiment.LevelRules(max))
            Console.WriteLine($"  {row.Rule,-16} {row.Level,-32} {row.Classes,8:N0}  {row.Note}");
        return 0;
    }
}

/// <summary>`granularity standin generate`: writes a stand-in in the real format (deterministic per seed).</summary>
public sealed class StandInGenerateCommand : ICliCommand
{
    public string Name => "standin generate";
    public string Summary => "generate the iNat2021 or ImageNet-21k/1k stand-in in the real on-disk formats";
    public string Usage => """
        usage: granularity standin generate --dataset inat2021|imagenet [--seed N] [--tiny] [--out DIR]
          --seed   chooses the classes, glyphs and images (default 0 = what Quick mode uses)
          --tiny   the small test-sized stand-in
          --out    folder (default artifacts/standin/KIND-KEY, where Quick looks)
        """;

    public int Run(CliArguments arguments)
    {
        var dataset = arguments.RequiredString("dataset");
        var seed = arguments.Int("seed", 0, 0);
        var tiny = arguments.Flag("tiny");
        var output = arguments.String("out");
        arguments.RejectUnknown();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string root = dataset switch
        {
            "inat2021" => StandInData.EnsureInat2021((tiny ? Inat2021StandInConfig.Tiny() : Inat2021StandInConfig.Quick()) with { Seed = seed }, output is null ? null : Path.GetFullPath(output)),
            "imagenet" => StandInData.EnsureImageNet((tiny ? ImageNetStandInConfig.Tiny() : ImageNetStandInConfig.Quick()) with { Seed = seed }, output is null ? null : Path.GetFullPath(output)),
            _ => throw new CliUsageException($"--dataset must be inat2021 or imagenet, got '{dataset}'"),
        };
        var manifest = StandInData.ReadManifest(root);
        Console.WriteLine($"{root}: {manifest.Classes.Count} classes in {manifest.Groups.Count} groups; images " +
            string.Join(", ", manifest.HardBySplit.Select(s => $"{s.Key} {s.Value.Length:N0} ({s.Value.Count(h => h)} hard)")) + $"; {clock.Elapsed.TotalSeconds:0.0} s");
        return 0;
    }
}
