using System.CommandLine;
using System.Diagnostics;
using Granularity.Core;
using Granularity.Data;
using Granularity.Training;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>`granularity data verify | prepare | index`: downloaded archives checked, extracted safely and indexed, resumably.</summary>
public static class DataCommands
{
    public static IEnumerable<Command> Build() => [Group("data", "datasets: verify downloads, prepare splits, build indexes, remove duplicates of a target's evaluation images", Verify(), Prepare(), Index(), Dedup(), BenchCommands.Data())];

    private static Option<string> Dataset() =>
        Required("--dataset", "manifest name in data-manifests/ (inat2021, imagenet1k, imagenet21k) or a path to a manifest .json", "NAME");

    private static Command Verify()
    {
        var dataset = Dataset();
        var archives = Required("--archives", "the folder holding the downloaded archives", "DIR");
        var files = List("--files", "only these archives (each must be present)", "A,B,…");
        var all = Flag("--all", "every archive of the manifest must be present (default: check those present, list the rest)");
        return Command("verify", "check downloaded archives' sizes and md5 against data-manifests (resumable: verified files are remembered in DIR/.granularity-verified.json by size and mtime)",
            [dataset, archives, files, all], parse =>
        {
            var manifest = DatasetManifest.Load(parse.GetValue(dataset)!);
            var only = parse.GetList(files);
            foreach (var file in only ?? [])
                if (manifest.Files.All(f => f.Name != file)) throw new CliUsageException($"--files: '{file}' is not an archive of {manifest.Name}; archives: {string.Join(", ", manifest.Files.Select(f => f.Name))}");
            var results = ConsoleProgress.Run(progress => ArchiveVerifier.Verify(manifest, parse.GetValue(archives)!, only, progress, requireAll: parse.GetValue(all)));
            foreach (var result in results)
                Console.WriteLine($"  {result.Name,-32} {result.Status,-32} {ProgressUpdate.Amount(result.Bytes, "B"),10} {result.Md5 ?? ""} {result.Detail}");
            int present = results.Count(r => r.Status != "missing");
            Console.WriteLine($"{present} verified, {results.Count - present} not present");
            return 0;
        });
    }

    private static Option<bool> Strict() => Flag("--strict", "refuse a per-class tar read in place that holds hostile entries (paths leaving it, links, devices) instead of skipping them with a warning");

    private static Command Prepare()
    {
        var dataset = Dataset();
        var archives = Required("--archives", "the folder holding the downloaded archives", "DIR");
        var splits = List("--splits", "splits to prepare, e.g. train_mini,val (see data-manifests/NAME.md)", "A,B,…");
        splits.Required = true;
        var output = Text("--out", "prepared root (default: $GRANULARITY_DATA/NAME, see ProjectPaths.DataRoot)", "DIR");
        var strict = Strict();
        return Command("prepare", "verify, safely extract and index dataset splits (resumable: a rerun skips archives already verified and extracted)",
            [dataset, archives, splits, output, strict], parse =>
        {
            var manifest = DatasetManifest.Load(parse.GetValue(dataset)!);
            var chosen = parse.GetList(splits)!;
            foreach (var split in chosen)
                if (manifest.Splits.All(s => s.Name != split)) throw new CliUsageException($"--splits: '{split}' is not a split of {manifest.Name}; splits: {string.Join(", ", manifest.Splits.Select(s => s.Name))}");
            var root = parse.GetValue(output) ?? Path.Combine(ProjectPaths.DataRoot, manifest.Name);
            var indexes = ConsoleProgress.Run(progress => DatasetPreparation.Prepare(manifest, parse.GetValue(archives)!, root, chosen, progress, Console.WriteLine, parse.GetValue(strict)));
            Console.WriteLine($"prepared {string.Join(", ", chosen)} under {root}; indexes: {string.Join(", ", indexes)}");
            return 0;
        });
    }

    private static Command Dedup()
    {
        var root = Required("--root", "prepared root of the pretraining set (holds index/SPLIT.gidx), e.g. DATA/imagenet21k", "DIR");
        var split = Text("--split", "its split", "fall11", "SPLIT");
        var referenceRoot = Required("--reference-root", "prepared root of the evaluation set whose images must not be pretrained on, e.g. DATA/imagenet1k", "DIR");
        var referenceSplit = Text("--reference-split", "its split", "val", "SPLIT");
        var referenceName = Text("--reference-name", "name of the reference in the list's file name (the de-duplication step's name in DatasetConfig.Deduplication)", DatasetConfig.ImageNet1kValidationDuplicates, "NAME");
        var maxDistance = Int("--max-distance", "near-duplicate threshold: perceptual-hash bits (of 64) that may differ", ImageDeduplication.DefaultMaxDistance, 0, 64);
        var threads = Int("--threads", "decoding threads (0 = one per core)", 0, 0);
        var output = Text("--out", "the de-duplication list (default ROOT/index/SPLIT.duplicates-of-NAME.tsv, where the ImageNet Full run reads it)", "FILE");
        return Command("dedup", "list the images of a prepared split that duplicate a reference split's images (exact SHA-256 or perceptual hash within --max-distance); the reference hashes are cached in REFERENCE_ROOT/index/SPLIT.hashes.tsv",
            [root, split, referenceRoot, referenceSplit, referenceName, maxDistance, threads, output], parse =>
        {
            ImageDataset Open(string folder, string name)
            {
                var index = ImageIndex.DefaultPath(folder, name);
                if (!File.Exists(index)) throw new FileNotFoundException($"{index}: no index of split '{name}' (run `granularity data prepare` or `data index` first)", index);
                return ImageIndex.Read(index);
            }
            var candidates = Open(parse.GetValue(root)!, parse.GetValue(split)!);
            var references = Open(parse.GetValue(referenceRoot)!, parse.GetValue(referenceSplit)!);
            var listPath = parse.GetValue(output) ?? ImageDeduplication.ListPath(parse.GetValue(root)!, parse.GetValue(split)!, parse.GetValue(referenceName)!);
            var clock = Stopwatch.StartNew();
            var report = ConsoleProgress.Run(progress => ImageDeduplication.Run(candidates, references, ImageDeduplication.HashPath(parse.GetValue(referenceRoot)!, parse.GetValue(referenceSplit)!),
                listPath, parse.GetValue(maxDistance), progress, parse.GetValue(threads), Console.WriteLine));
            Console.WriteLine($"{report.Describe(candidates.Name, references.Name)}; list {listPath} ({clock.Elapsed.TotalSeconds:0.0} s)");
            return 0;
        });
    }

    private static Command Index()
    {
        var dataset = Dataset();
        var split = Required("--split", "the split to index", "SPLIT");
        var root = Required("--root", "the prepared root (iNat2021: holds SPLIT.json; ImageNet-1k: holds train/ val/; class-folder splits: the manifest's imageRoot under it, or --labels with ROOT holding WNID/ or WNID.tar)", "DIR");
        var labels = Text("--labels", "class-order file overriding the manifest's (class-folder datasets), e.g. data-manifests/hierarchies/imagenet21k-p-winter21-classes.txt", "FILE");
        var output = Text("--out", "index path (default ROOT/index/SPLIT.gidx)", "FILE");
        var strict = Strict();
        return Command("index", "build the compact image index of a prepared split", [dataset, split, root, labels, output, strict], parse =>
        {
            var manifest = DatasetManifest.Load(parse.GetValue(dataset)!);
            var splitName = parse.GetValue(split)!;
            var folder = parse.GetValue(root)!;
            if (manifest.Splits.All(s => s.Name != splitName)) throw new CliUsageException($"--split: '{splitName}' is not a split of {manifest.Name}; splits: {string.Join(", ", manifest.Splits.Select(s => s.Name))}");
            var path = parse.GetValue(output) ?? ImageIndex.DefaultPath(folder, splitName);
            var clock = Stopwatch.StartNew();
            var hostile = new HostileEntries(parse.GetValue(strict));
            var indexed = ConsoleProgress.Run(progress =>
            {
                if (parse.GetValue(labels) is not { } labelFile) return DatasetPreparation.BuildIndex(manifest, folder, splitName, progress, hostile);
                ProgressTask? task = null;
                var (loaded, missing) = ImageNet21k.Load(folder, labelFile, $"{manifest.Name}/{splitName}",
                    (done, total) => (task ??= new ProgressTask(progress, "index", total, "classes")).Report(done, splitName), hostile);
                if (missing.Count > 0) Console.WriteLine($"  {missing.Count:N0} classes of {labelFile} have no images here (first: {missing[0]})");
                return loaded;
            });
            if (hostile.Summary is { } skipped) Console.Error.WriteLine($"warning: {skipped}");
            ImageIndex.Write(indexed, path);
            Console.WriteLine($"{path}: {indexed.Count:N0} images, {indexed.Categories.Distinct().Count():N0} of {indexed.CategoryCount:N0} categories, {ProgressUpdate.Amount(new FileInfo(path).Length, "B")}, {clock.Elapsed.TotalSeconds:0.0} s");
            return 0;
        });
    }
}
