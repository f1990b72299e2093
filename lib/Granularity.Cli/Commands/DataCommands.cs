using Granularity.Core;
using System.Diagnostics;
using System.Globalization;
using Granularity.Data;
using Granularity.Runs;

namespace Granularity.Cli.Commands;

/// <summary>A one-line console progress bar for long byte-counting steps (md5 of hundreds of GB, extraction).</summary>
internal sealed class ConsoleProgressBar
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private string current = "";
    private long lastDrawMs = -1000;
    private int lastDecile = -1;
    private long startDone;
    private TimeSpan startTime;

    public void Update(PreparationProgress progress)
    {
        var key = progress.Step + " " + progress.Item;
        if (key != current)
        {
            if (current.Length > 0 && !Console.IsOutputRedirected) Console.WriteLine();
            current = key;
            lastDecile = -1;
            startDone = progress.Done;
            startTime = clock.Elapsed;
        }
        bool finished = progress.Done >= progress.Total;
        double fraction = progress.Total > 0 ? Math.Min(1, (double)progress.Done / progress.Total) : 1;
        if (Console.IsOutputRedirected)
        {
            int decile = (int)(fraction * 10);
            if (decile == lastDecile) return;
            lastDecile = decile;
            Console.WriteLine($"  {progress.Step} {progress.Item}: {fraction:P0}");
            return;
        }
        if (!finished && clock.ElapsedMilliseconds - lastDrawMs < 200) return;
        lastDrawMs = clock.ElapsedMilliseconds;
        var seconds = Math.Max(1e-3, (clock.Elapsed - startTime).TotalSeconds);
        double rate = (progress.Done - startDone) / seconds;
        var eta = rate > 0 && !finished ? TimeSpan.FromSeconds((progress.Total - progress.Done) / rate).ToString(@"hh\:mm\:ss") : "";
        int width = 30, filled = (int)(fraction * width);
        var unit = progress.Step == "index" ? "" : "B";
        Console.Write($"\r  {progress.Step,-7} [{new string('#', filled)}{new string('.', width - filled)}] {fraction,6:P1} {Human(progress.Done, unit)}/{Human(progress.Total, unit)} {Human((long)rate, unit)}/s {eta} {progress.Item}   ");
        if (finished) { Console.WriteLine(); current = ""; }
    }

    public static string Human(long value, string unit)
    {
        if (unit.Length == 0) return value.ToString("N0", CultureInfo.InvariantCulture);
        string[] units = { "B", "KB", "MB", "GB", "TB" };
        double v = value;
        int u = 0;
        while (v >= 1000 && u < units.Length - 1) { v /= 1000; u++; }
        return $"{v.ToString(u == 0 ? "0" : "0.0", CultureInfo.InvariantCulture)} {units[u]}";
    }
}

/// <summary>Turns the data layer's own errors (bad archives, mismatches) into a clear message and exit code 1.</summary>
internal static class DataCommandErrors
{
    public static int Run(string name, Func<int> body)
    {
        try { return body(); }
        catch (Exception error) when (error is ChecksumMismatchException or UnsafeArchiveEntryException or BadImageException)
        {
            Console.Error.WriteLine($"granularity {name}: {error.Message}");
            return 1;
        }
    }
}

/// <summary>`granularity data verify`: sizes and md5 of downloaded archives against a manifest, remembered by size and mtime.</summary>
public sealed class DataVerifyCommand : ICliCommand
{
    public string Name => "data verify";
    public string Summary => "check downloaded archives' sizes and md5 against data-manifests (resumable)";
    public string Usage => """
        usage: granularity data verify --dataset NAME --archives FOLDER [--files A,B…] [--all]
          --dataset    manifest name in data-manifests/ (inat2021, imagenet1k, imagenet21k) or a path to a manifest .json
          --archives   the folder holding the downloaded archives
          --files      only these archives (each must be present)
          --all        every archive of the manifest must be present (default: check those present, list the rest)
        Verified files are remembered in FOLDER/.granularity-verified.json by size and modification time.
        """;

    public int Run(CliArguments arguments)
    {
        var manifest = DatasetManifest.Load(arguments.RequiredString("dataset"));
        var folder = arguments.RequiredString("archives");
        var files = arguments.String("files")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var all = arguments.Flag("all");
        arguments.RejectUnknown();
        if (files is not null)
            foreach (var file in files)
                if (manifest.Files.All(f => f.Name != file)) throw new CliUsageException($"--files: '{file}' is not an archive of {manifest.Name}; archives: {string.Join(", ", manifest.Files.Select(f => f.Name))}");
        return DataCommandErrors.Run(Name, () =>
        {
            var bar = new ConsoleProgressBar();
            var results = ArchiveVerifier.Verify(manifest, folder, files, bar.Update, requireAll: all);
            foreach (var result in results)
                Console.WriteLine($"  {result.Name,-32} {result.Status,-32} {ConsoleProgressBar.Human(result.Bytes, "B"),10} {result.Md5 ?? ""} {result.Detail}");
            int present = results.Count(r => r.Status != "missing");
            Console.WriteLine($"{present} verified, {results.Count - present} not present");
            return 0;
        });
    }
}

/// <summary>`granularity data prepare`: verify, extract safely, index; resumable.</summary>
public sealed class DataPrepareCommand : ICliCommand
{
    public string Name => "data prepare";
    public string Summary => "verify, safely extract and index dataset splits (resumable)";
    public string Usage => """
        usage: granularity data prepare --dataset NAME --archives FOLDER --splits A[,B…] [--out FOLDER] [--strict]
          --dataset    manifest name (inat2021, imagenet1k, imagenet21k) or a manifest .json path
          --archives   the folder holding the downloaded archives
          --splits     splits to prepare, e.g. train_mini,val (see data-manifests/NAME.md)
          --out        prepared root (default: $GRANULARITY_DATA/NAME, see ProjectPaths.DataRoot)
          --strict     refuse per-class tars read in place that hold hostile entries, instead of skipping those entries
        A rerun skips archives already verified and extracted; per-class tars are kept and read in place.
        """;

    public int Run(CliArguments arguments)
    {
        var manifest = DatasetManifest.Load(arguments.RequiredString("dataset"));
        var archives = arguments.RequiredString("archives");
        var splits = arguments.RequiredString("splits").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var output = arguments.String("out", Path.Combine(ProjectPaths.DataRoot, manifest.Name));
        var strict = arguments.Flag("strict");
        arguments.RejectUnknown();
        foreach (var split in splits)
            if (manifest.Splits.All(s => s.Name != split)) throw new CliUsageException($"--splits: '{split}' is not a split of {manifest.Name}; splits: {string.Join(", ", manifest.Splits.Select(s => s.Name))}");
        return DataCommandErrors.Run(Name, () =>
        {
            var bar = new ConsoleProgressBar();
            var indexes = DatasetPreparation.Prepare(manifest, archives, output, splits, bar.Update, Console.WriteLine, strict);
            Console.WriteLine($"prepared {string.Join(", ", splits)} under {output}; indexes: {string.Join(", ", indexes)}");
            return 0;
        });
    }
}

/// <summary>`granularity data index`: (re)build a split's compact index from a prepared or hand-made folder.</summary>
public sealed class DataIndexCommand : ICliCommand
{
    public string Name => "data index";
    public string Summary => "build the compact image index of a prepared split";
    public string Usage => """
        usage: granularity data index --dataset NAME --split SPLIT --root FOLDER [--labels FILE] [--out FILE] [--strict]
          --root     the prepared root (iNat2021: holds SPLIT.json; ImageNet-1k: holds train/ val/;
                     class-folder splits: the manifest's imageRoot under it, or --labels with ROOT holding WNID/ or WNID.tar)
          --labels   class-order file overriding the manifest's (class-folder datasets), e.g. data-manifests/labels/imagenet21k_p_winter21_synsets.txt
          --out      index path (default ROOT/index/SPLIT.gidx)
          --strict   refuse a tar holding hostile entries (paths leaving it, links, devices) instead of skipping them
        """;

    public int Run(CliArguments arguments)
    {
        var manifest = DatasetManifest.Load(arguments.RequiredString("dataset"));
        var split = arguments.RequiredString("split");
        var root = arguments.RequiredString("root");
        var labels = arguments.String("labels");
        var output = arguments.String("out", ImageIndex.DefaultPath(root, split));
        var hostile = new HostileEntries(arguments.Flag("strict"));
        arguments.RejectUnknown();
        if (manifest.Splits.All(s => s.Name != split)) throw new CliUsageException($"--split: '{split}' is not a split of {manifest.Name}; splits: {string.Join(", ", manifest.Splits.Select(s => s.Name))}");
        return DataCommandErrors.Run(Name, () =>
        {
            var bar = new ConsoleProgressBar();
            var clock = Stopwatch.StartNew();
            ImageDataset dataset;
            if (labels is not null)
            {
                var (loaded, missing) = ImageNet21k.Load(root, labels, $"{manifest.Name}/{split}", (done, total) => bar.Update(new PreparationProgress("index", split, done, total)), hostile);
                if (missing.Count > 0) Console.WriteLine($"  {missing.Count:N0} classes of {labels} have no images here (first: {missing[0]})");
                dataset = loaded;
            }
            else dataset = DatasetPreparation.BuildIndex(manifest, root, split, bar.Update, hostile);
            if (hostile.Summary is { } skipped) Console.Error.WriteLine($"warning: {skipped}");
            ImageIndex.Write(dataset, output);
            Console.WriteLine($"{output}: {dataset.Count:N0} images, {dataset.Categories.Distinct().Count():N0} of {dataset.CategoryCount:N0} categories, {ConsoleProgressBar.Human(new FileInfo(output).Length, "B")}, {clock.Elapsed.TotalSeconds:0.0} s");
            return 0;
        });
    }
}

/// <summary>`granularity data bench`: loader throughput on realistic JPEGs, 1 and 2 threads, interleaved with torchvision + PIL.</summary>
public sealed class DataBenchCommand : ICliCommand
{
    public string Name => "data bench";
    public string Summary => "images/s of decode + random-resized crop + flip + normalise vs torchvision/PIL; memory bound";
    public string Usage => """
        usage: granularity data bench [--images N] [--rounds R] [--threads 1,2] [--batch B] [--sets inat,full] [--peer auto|none] [--python PATH] [--memory] [--dir FOLDER] [--out FILE]
          --images   images per set (default 320; generated once, cached in --dir, default artifacts/bench-images)
          --rounds   interleaved rounds; medians are reported (default 3)
          --threads  loader threads to measure (default 1,2)
          --batch    batch size (default 32)
          --sets     inat (longest side 500 px) and/or full (ImageNet-like originals, longest side 1024–1600 px)
          --peer     auto: run eng/bench/torchvision_loader_bench.py when python is available; none: ours only
          --python   the interpreter with torchvision and PIL (default /usr/bin/python3, Debian's python3-torchvision)
          --memory   also measure resident-memory growth against the prefetch depth (slow consumer)
          --out      write the figures as JSON (default artifacts/bench/data-bench.json)
        """;

    public int Run(CliArguments arguments)
    {
        int count = arguments.Int("images", 320, min: 8);
        int rounds = arguments.Int("rounds", 3, min: 1);
        var threads = arguments.IntList("threads", min: 1) ?? new[] { 1, 2 };
        int batch = arguments.Int("batch", 32, min: 1);
        var sets = (arguments.String("sets") ?? "inat,full").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var peer = arguments.String("peer", "auto");
        var python = arguments.String("python", File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
        bool memory = arguments.Flag("memory");
        var probe = arguments.String("memory-probe"); // internal: "SET,THREADS,PREFETCH,BATCH" measured in a fresh process
        var directory = arguments.String("dir", Path.Combine(ProjectPaths.RepositoryRoot, "artifacts", "bench-images"));
        var output = arguments.String("out", Path.Combine(ProjectPaths.RepositoryRoot, "artifacts", "bench", "data-bench.json"));
        arguments.RejectUnknown();
        if (probe is not null) return MemoryProbe(probe, directory, count);
        if (peer is not ("auto" or "none")) throw new CliUsageException($"--peer must be auto or none, got '{peer}'");
        var kinds = sets.Select(s => s switch
        {
            "inat" => BenchmarkImageKind.INatSized,
            "full" => BenchmarkImageKind.FullSize,
            _ => throw new CliUsageException($"--sets: expected inat and/or full, got '{s}'"),
        }).ToList();
        var script = Path.Combine(ProjectPaths.RepositoryRoot, "eng", "bench", "torchvision_loader_bench.py");
        bool usePeer = peer == "auto" && File.Exists(script);

        Console.WriteLine($"machine: {Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; .NET {Environment.Version}; SkiaSharp 2.88.9");
        var results = new List<Dictionary<string, object>>();
        foreach (var kind in kinds)
        {
            var paths = LoaderBenchmark.EnsureImages(Path.Combine(directory, kind.ToString()), kind, count);
            var dataset = LoaderBenchmark.DatasetOf(paths, kind.ToString());
            var sizes = paths.Select(p => new FileInfo(p).Length).ToArray();
            var list = Path.Combine(directory, kind + ".txt");
            File.WriteAllLines(list, paths);
            Console.WriteLine($"\n{kind}: {paths.Count} JPEGs, mean {sizes.Average() / 1000:0} KB ({Path.Combine(directory, kind.ToString())})");
            var ours = threads.ToDictionary(t => t, _ => new List<double>());
            var theirs = threads.ToDictionary(t => t, _ => new List<double>());
            LoaderBenchmark.MeasureOurs(dataset, 1, batch, 0, 99); // warm the page cache and the JIT
            for (int round = 0; round < rounds; round++)
                foreach (var t in threads)
                {
                    ours[t].Add(LoaderBenchmark.MeasureOurs(dataset, t, batch, round, round));
                    if (usePeer)
                    {
                        var measured = LoaderBenchmark.MeasurePeer(script, list, t, batch, round, python);
                        if (measured is null) { usePeer = false; Console.WriteLine("  (python3 not found: peer skipped)"); }
                        else theirs[t].Add(measured.Value);
                    }
                    Console.WriteLine($"  round {round + 1} threads {t}: ours {ours[t][^1],7:0.0} img/s" + (usePeer && theirs[t].Count > 0 ? $"   torchvision+PIL {theirs[t][^1],7:0.0} img/s" : ""));
                }
            Console.WriteLine($"  {"threads",7} {"ours img/s",11} {"per core",9} {"peer img/s",11} {"per core",9} {"ours/peer",9} {"scaling",8}   (medians; ours/peer = median of per-round ratios)");
            foreach (var t in threads)
            {
                double o = LoaderBenchmark.Median(ours[t]), p = LoaderBenchmark.Median(theirs[t]);
                double ratio = LoaderBenchmark.Median(ours[t].Zip(theirs[t], (a, b) => a / b));
                double scaling = o / LoaderBenchmark.Median(ours[threads[0]]);
                Console.WriteLine($"  {t,7} {o,11:0.0} {o / t,9:0.0} {(double.IsNaN(p) ? "—" : p.ToString("0.0")),11} {(double.IsNaN(p) ? "—" : (p / t).ToString("0.0")),9} {(double.IsNaN(ratio) ? "—" : ratio.ToString("0.00") + "×"),9} {scaling,7:0.00}×");
                results.Add(new Dictionary<string, object>
                {
                    ["set"] = kind.ToString(), ["threads"] = t, ["images"] = paths.Count, ["meanKB"] = sizes.Average() / 1000,
                    ["oursMedian"] = o, ["ours"] = ours[t], ["peerMedian"] = double.IsNaN(p) ? -1 : p, ["peer"] = theirs[t],
                    ["medianRatio"] = double.IsNaN(ratio) ? -1 : ratio,
                });
            }
            if (usePeer && threads.Length > 1)
            {
                double peerScaling = LoaderBenchmark.Median(theirs[threads[^1]]) / LoaderBenchmark.Median(theirs[threads[0]]);
                Console.WriteLine($"  peer scaling {threads[0]}→{threads[^1]} threads: {peerScaling:0.00}×");
            }
            if (memory && kind == kinds[0])
            {
                const int memoryBatch = 16;
                Console.WriteLine($"\n  memory: a slow consumer (300 ms per batch) so the loader runs ahead as far as allowed; batch {memoryBatch}, 224 px, {threads.Max()} threads, 480 images; each probe in a fresh process:");
                foreach (var prefetch in new[] { 1, 4, 16 })
                {
                    var (growth, batchBytes, ahead) = RunProbe($"{kind},{threads.Max()},{prefetch},{memoryBatch}", directory, count);
                    Console.WriteLine($"    prefetch {prefetch,2}: peak resident growth {growth / 1e6,6:0.0} MB = {(double)growth / batchBytes,4:0.0} batches of {batchBytes / 1e6:0.0} MB; at most {ahead} batches ahead");
                    results.Add(new Dictionary<string, object> { ["set"] = kind.ToString(), ["memoryPrefetch"] = prefetch, ["peakGrowthBytes"] = growth, ["batchBytes"] = batchBytes, ["peakBatchesAhead"] = ahead });
                }
            }
        }
        var synthetic = Stopwatch.StartNew();
        var world = SyntheticWorld.Create(SyntheticHierarchyConfig.Default(), seed: 0);
        var (train, easy, hard) = world.StandardSplits();
        synthetic.Stop();
        Console.WriteLine($"\nsynthetic hierarchy: {train.Count + easy.Count + hard.Count:N0} images of 32×32 (train + easy test + hard test) in {synthetic.Elapsed.TotalSeconds:0.00} s");
        results.Add(new Dictionary<string, object> { ["set"] = "synthetic", ["images"] = train.Count + easy.Count + hard.Count, ["seconds"] = synthetic.Elapsed.TotalSeconds });
        JsonFiles.Write(output, results);
        Console.WriteLine($"\nfigures: {output}");
        return 0;
    }

    /// <summary>Each memory measurement runs in a fresh process, so memory kept by earlier runs cannot hide growth.</summary>
    private static (long Growth, long BatchBytes, int Ahead) RunProbe(string spec, string directory, int count)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(DataBenchCommand).Assembly.Location);
        foreach (var word in new[] { "data", "bench", "--memory-probe", spec, "--dir", directory, "--images", count.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(word);
        using var process = Process.Start(start)!;
        var line = process.StandardOutput.ReadToEnd().Trim().Split('\n').Last();
        process.WaitForExit();
        var parts = line.Split(' ');
        if (process.ExitCode != 0 || parts.Length != 3) throw new InvalidOperationException($"memory probe failed: '{line}'");
        return (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    private static int MemoryProbe(string spec, string directory, int count)
    {
        var parts = spec.Split(',');
        var kind = Enum.Parse<BenchmarkImageKind>(parts[0]);
        var paths = LoaderBenchmark.EnsureImages(Path.Combine(directory, kind.ToString()), kind, count);
        var (growth, batchBytes, ahead) = LoaderBenchmark.MeasureMemory(LoaderBenchmark.DatasetOf(paths.Take(480).ToList(), kind.ToString(), repeat: Math.Max(1, (480 + paths.Count - 1) / paths.Count)),
            int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture), int.Parse(parts[3], CultureInfo.InvariantCulture), TimeSpan.FromMilliseconds(300));
        Console.WriteLine($"{growth} {batchBytes} {ahead}");
        return 0;
    }
}
