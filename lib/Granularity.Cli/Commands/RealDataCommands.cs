using System.CommandLine;
using Granularity.Core;
using Granularity.Experiments;
using Granularity.Runs;
using Granularity.Training;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>
/// `granularity experiment inat2021 | imagenet …` (notebooks 04 and 05) and `granularity standin generate`: the
/// real-data experiments, run here, as a sweep file or as a Slurm job array, Quick on stand-ins in the real formats.
/// </summary>
public static class RealDataCommands
{
    /// <summary>`standin generate`; the experiment commands are listed in the `experiment` group (ExperimentCommands.cs).</summary>
    public static IEnumerable<Command> Build() => [Group("standin", "stand-in datasets in the real on-disk formats", StandInGenerate())];

    /// <summary>Mode, seeds, run-or-sweep and Slurm resources shared by the real-data experiment commands.</summary>
    private sealed class SweepOptions
    {
        public readonly Option<bool> Full = Flag("--full", "the real dataset and the paper's protocol (GPU machine); default: Quick on the stand-in");
        public readonly Option<int[]?> Seeds = IntList("--seeds", "seeds (default: the config's)");
        public readonly Option<bool> Table = Flag("--table", "only print the table from existing run folders (train nothing)");
        public readonly Option<bool> Sweep = Flag("--sweep", "write sweep.json and run its tasks here in turn");
        public readonly SlurmCliOptions Slurm = SlurmCliOptions.Create(cpus: 8, memoryMb: 64000, gpus: 1, "the job array to finish", waitMinutes: 24 * 60);
        public readonly TrainingCliOptions Training = new();

        public Option[] All => [Full, Seeds, Table, Sweep, .. Slurm.All, .. Training.Common];

        public void Validate(Command command)
        {
            AtMostOneOf(command, Table, Sweep, Slurm.Submit);
            Slurm.Validate(command);
        }

        public int SubmitOrRun(ParseResult parse, SweepConfig sweep)
        {
            var options = Training.Options(parse, null);
            var root = options.RunsRoot ?? ProjectPaths.RunsRoot;
            var file = Sweeps.Write(sweep, root);
            Console.WriteLine($"sweep {sweep.Name}: {sweep.Experiments.Count} cells → {file}");
            if (parse.GetValue(Slurm.Submit))
            {
                if (!Sweeps.OnPath("sbatch")) throw new InvalidOperationException("sbatch is not on PATH: run on the cluster's login node (or eng/start-slurm.sh on one machine), or drop --slurm");
                var job = Sweeps.Submit(sweep, file, root, Slurm.Read(parse));
                Console.WriteLine($"submitted job array {job} ({sweep.Experiments.Count} tasks); when it is done, rerun this command with --table");
                if (Slurm.WaitLimit(parse) is not { } limit) return 0;
                if (!Sweeps.WaitForJob(job, limit)) throw new InvalidOperationException($"job {job} still queued or running after {limit.TotalMinutes} min");
                Console.WriteLine($"job array {job} finished");
                return 0;
            }
            ConsoleProgress.Run(progress => { Sweeps.RunLocally(sweep, Training.Options(parse, progress)); return 0; });
            return 0;
        }
    }

    public static Command Inat2021()
    {
        var options = new SweepOptions();
        var embeddings = Text("--embeddings", "cluster labels from an imported embedding file (default: our baseline model's features)", "ID");
        var noClusters = Flag("--no-clusters", "leave out the cluster cells (e.g. for a first Slurm sweep before embeddings exist)");
        var command = Command("inat2021",
            "iNat2021: supercategory error after pretraining on ranks, random, clusters, one label per image (Quick: stand-in). " +
            "Without --sweep/--slurm/--table every cell runs here; with them, cluster cells only when their embedding file exists",
            [.. options.All, embeddings, noClusters], parse =>
        {
            var config = parse.GetValue(options.Full) ? Inat2021ExperimentConfig.Full() : Inat2021ExperimentConfig.Quick();
            config = (config with
            {
                Seeds = parse.GetList(options.Seeds) ?? config.Seeds,
                Embeddings = parse.GetValue(embeddings) ?? config.Embeddings,
                Clusters = !parse.GetValue(noClusters),
            }).Validated();
            Console.WriteLine($"iNat2021 experiment: {(config.IsStandIn ? "Quick, generated stand-in (stand-in numbers)" : "Full, real train_mini/val")}; protocol {config.Template.Protocol}; seeds {string.Join(",", config.Seeds)}");
            if (parse.GetValue(options.Table)) return Print(config, Inat2021Experiment.Table(config, options.Training.Options(parse, null).RunsRoot));
            if (parse.GetValue(options.Sweep) || parse.GetValue(options.Slurm.Submit))
            {
                bool clustersReady = config.Clusters && EmbeddingsExist(config);
                if (config.Clusters && !clustersReady)
                    Console.WriteLine($"  cluster cells left out: embeddings '{Inat2021Experiment.EmbeddingId(config)}' do not exist yet; after the baseline finishes run `granularity experiment inat2021 embeddings{(config.IsStandIn ? "" : " --full")}`, then this command again");
                return options.SubmitOrRun(parse, Inat2021Experiment.Sweep(config, clustersReady));
            }
            return Print(config, ConsoleProgress.Run(progress => Inat2021Experiment.Run(config, options.Training.Options(parse, progress), Console.WriteLine)));
        });
        options.Validate(command);
        command.Subcommands.Add(Inat2021Embeddings());
        return command;
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

    private static Command Inat2021Embeddings()
    {
        var full = Flag("--full", "the real iNat2021 train_mini (default: the stand-in)");
        var import = Text("--import", "a .npy float32/float16 array (images × dimensions), row i = images[i] of train_mini.json (optional sidecar FILE-without-.npy.files.txt: each row's file_name); e.g. CLIP ViT-L/14 as in the paper", "FILE");
        var name = Text("--name", "with --import: the embedding id to use with `experiment inat2021 --embeddings NAME`", "NAME");
        var training = new TrainingCliOptions();
        var command = Command("embeddings", "validate and import an image-embedding file for cluster labels, or (without --import) compute it from our baseline model",
            [full, import, name, .. training.Common], parse =>
        {
            var config = parse.GetValue(full) ? Inat2021ExperimentConfig.Full() : Inat2021ExperimentConfig.Quick();
            if (parse.GetValue(import) is { } file)
            {
                var imported = Inat2021Experiment.ImportEmbeddings(config, file, parse.GetValue(name)!);
                Console.WriteLine($"imported {imported.Rows:N0} × {imported.Dimension} embeddings as '{parse.GetValue(name)}': {imported.Path}");
                return 0;
            }
            var id = ConsoleProgress.Run(progress => Inat2021Experiment.EnsureEmbeddings(config, training.Options(parse, progress)));
            Console.WriteLine($"embeddings '{id}' ready (features of our baseline model)");
            return 0;
        });
        command.Validators.Add(result =>
        {
            bool hasImport = result.GetResult(import) is not null, hasName = result.GetResult(name) is not null;
            if (hasImport && !hasName) result.AddError("--import needs --name");
            if (hasName && !hasImport) result.AddError("--name goes with --import");
        });
        return command;
    }

    public static Command ImageNet()
    {
        var options = new SweepOptions();
        var levels = List("--levels", "pretraining levels (imagenet21k-leaf, imagenet21k-up:N, imagenet21k-shortest-up:N); default: the config's", "L1,L2,…");
        var command = Command("imagenet", "ImageNet-21k → 1k: pretrain at WordNet levels, fine-tune, ImageNet-1k top-1 (Quick: stand-in)", [.. options.All, levels], parse =>
        {
            var config = parse.GetValue(options.Full) ? ImageNetExperimentConfig.Full() : ImageNetExperimentConfig.Quick();
            config = (config with { PretrainingLevels = parse.GetList(levels) ?? config.PretrainingLevels, Seeds = parse.GetList(options.Seeds) ?? config.Seeds }).Validated();
            Console.WriteLine($"ImageNet experiment: {(config.IsStandIn ? "Quick, generated stand-in (stand-in numbers)" : "Full, ImageNet-21k fall11 → ImageNet-1k")}; protocol {config.Template.Protocol}");
            if (parse.GetValue(options.Table)) return Print(ImageNetExperiment.Table(config, options.Training.Options(parse, null).RunsRoot));
            if (parse.GetValue(options.Sweep) || parse.GetValue(options.Slurm.Submit)) return options.SubmitOrRun(parse, ImageNetExperiment.Sweep(config));
            return Print(ConsoleProgress.Run(progress => ImageNetExperiment.Run(config, options.Training.Options(parse, progress), Console.WriteLine)));
        });
        options.Validate(command);
        command.Subcommands.Add(ImageNetLevels());
        return command;
    }

    private static int Print(IReadOnlyList<ImageNetRow> rows)
    {
        Console.WriteLine($"\n  {"pretraining level",-28} {"classes",8} {"IN-1k top-1",12}");
        foreach (var row in rows)
            Console.WriteLine($"  {row.PretrainingLevel + (row.IsBaseline ? " (baseline)" : ""),-28} {row.Classes,8:N0} {(double.IsNaN(row.MedianTop1) ? "missing" : row.MedianTop1.ToString("0.00") + "%"),12}");
        Console.WriteLine("  paper (Table 1): " + string.Join(" / ", ImageNetExperiment.PaperTable.Select(p => $"{p.Top1:0.00}")));
        return rows.All(r => r.MissingSeeds == 0) ? 0 : 1;
    }

    private static Command ImageNetLevels()
    {
        var max = Int("--max-steps", "the most steps up to list", 12, 1, 30);
        return Command("levels", "ImageNet-21k level rules (n steps up under each WordNet rule) and their class counts", [max], parse =>
        {
            foreach (var row in ImageNetExperiment.LevelRules(parse.GetValue(max)))
                Console.WriteLine($"  {row.Rule,-16} {row.Level,-32} {row.Classes,8:N0}  {row.Note}");
            return 0;
        });
    }

    private static Command StandInGenerate()
    {
        var dataset = OneOf(Required("--dataset", "which stand-in"), "inat2021", "imagenet");
        var seed = Int("--seed", "chooses the classes, glyphs and images (0 = what Quick mode uses)", 0, 0);
        var tiny = Flag("--tiny", "the small test-sized stand-in");
        var output = Text("--out", "folder (default artifacts/standin/KIND-KEY, where Quick looks)", "DIR");
        return Command("generate", "generate the iNat2021 or ImageNet-21k/1k stand-in in the real on-disk formats", [dataset, seed, tiny, output], parse =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var folder = parse.GetValue(output) is { } path ? Path.GetFullPath(path) : null;
            bool isTiny = parse.GetValue(tiny);
            var root = parse.GetValue(dataset) == "inat2021"
                ? StandInData.EnsureInat2021((isTiny ? Inat2021StandInConfig.Tiny() : Inat2021StandInConfig.Quick()) with { Seed = parse.GetValue(seed) }, folder)
                : StandInData.EnsureImageNet((isTiny ? ImageNetStandInConfig.Tiny() : ImageNetStandInConfig.Quick()) with { Seed = parse.GetValue(seed) }, folder);
            var manifest = StandInData.ReadManifest(root);
            Console.WriteLine($"{root}: {manifest.Classes.Count} classes in {manifest.Groups.Count} groups; images " +
                string.Join(", ", manifest.HardBySplit.Select(s => $"{s.Key} {s.Value.Length:N0} ({s.Value.Count(h => h)} hard)")) + $"; {clock.Elapsed.TotalSeconds:0.0} s");
            return 0;
        });
    }
}
