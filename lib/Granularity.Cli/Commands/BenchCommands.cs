using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Granularity.Bench;
using Granularity.Core;
using Granularity.Data;
using Granularity.Hierarchy;
using Granularity.Theory;
using TorchSharp;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>
/// `granularity theory bench | hierarchy bench | data bench | train bench`: the benchmarks of docs/benchmarks.md. The
/// measuring code lives in lib/Granularity.Bench (not shipped with the library); these commands choose, run and print.
/// </summary>
public static class BenchCommands
{
    public static Command Theory()
    {
        var steps = Int("--steps", "steps per timed repeat", 200, 1);
        var repeats = Int("--repeats", "interleaved repeats of the vectorised step and the per-patch-loop peer", 3, 1);
        var liveSteps = Int("--live-steps", "steps over which the live tensor count must stay flat", 1000, 1);
        var only = OptionalChoice("--only", "benchmark only the quick, the paper (d=1000) or the d=4000 configuration", "quick", "paper", "d4000");
        var threads = Int("--threads", "torch intra-op threads while training (as in runs)", TheoryExperiment.Threads, 1, 256);
        var python = Text("--python", "interpreter for the PyTorch peer eng/bench/theory_step_torch.py, run between our repeats ('none' skips it)", "/usr/bin/python3", "PATH");
        return Command("bench", "benchmark theory SGD steps/s (Quick, Paper, d=4000) against a per-patch loop and a PyTorch peer, live tensors, peak memory; exit 1 on a leak",
            [steps, repeats, liveSteps, only, threads, python], parse =>
        {
            var interpreter = parse.GetValue(python)!;
            var script = Path.Combine(ProjectPaths.RepositoryRoot, "eng", "bench", "theory_step_torch.py");
            var peer = interpreter != "none" && File.Exists(interpreter) && File.Exists(script);
            TheoryExperiment.Threads = parse.GetValue(threads);
            var chosen = parse.GetValue(only);
            TorchRuntime.EnsureNativesLoaded();
            Console.WriteLine($"theory bench on {TorchRuntime.Device.type.ToString().ToLowerInvariant()}, {Environment.ProcessorCount} logical CPUs, training with {TheoryExperiment.Threads} torch thread(s), products via {Sgemm.Backend}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; PyTorch peer: {(peer ? interpreter : "none")}");
            var configs = new List<(string Name, TheoryConfig Config)>();
            if (chosen is null or "quick") configs.Add(("Quick", TheoryConfig.Quick()));
            if (chosen is null or "paper") configs.Add(("Paper", TheoryConfig.Full()));
            if (chosen is null or "d4000") configs.Add(("d=4000", TheoryConfig.Full() with { Dimension = 4000 }));
            var leaked = false;
            foreach (var (name, config) in configs)
            {
                var peerSteps = Math.Max(20, parse.GetValue(steps) * 1000 / config.Dimension);
                var peerBlas = "";
                Func<double>? externalPeer = peer ? () => PyTorchTheoryPeer(interpreter, script, config, peerSteps, TheoryExperiment.Threads, out peerBlas) : null;
                var result = TheoryBenchmark.Run(config, parse.GetValue(steps), parse.GetValue(repeats), parse.GetValue(liveSteps), progress: line => Console.WriteLine("  " + line), externalPeer);
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
        });
    }

    /// <summary>Runs the PyTorch theory peer once (its own warm-up excluded from its timing); returns its steps per second.</summary>
    private static double PyTorchTheoryPeer(string python, string script, TheoryConfig config, int steps, int threads, out string blas)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        Sgemm.UseSameKernelIn(start);   // OpenBLAS 0.3.21 misreads recent Intel cores; the peer gets the kernel our products run
        foreach (var argument in new object[] { script, config.Dimension, config.SubclassesPerSuperclass, steps, 10, threads, config.Patches, config.NeuronsPerOutput, config.BatchSize })
            start.ArgumentList.Add(Convert.ToString(argument, CultureInfo.InvariantCulture)!);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("steps_per_second=", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"the PyTorch peer {script} failed (exit {process.ExitCode}): {error.Trim()}");
        var fields = line.Split(' ').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1]);
        blas = fields.GetValueOrDefault("blas", "?");
        return double.Parse(fields["steps_per_second"], CultureInfo.InvariantCulture);
    }

    public static Command Hierarchy()
    {
        var repetitions = Int("--repetitions", "interleaved repetitions", 7, 1, 1000);
        var images = Int("--images", "images to label", 1_000_000, 1);
        var json = Flag("--json", "machine-readable output");
        return Command("bench", "time loading the full hierarchies with every level cut, and labelling 1M images (run under `taskset -c 0` for one-core figures)",
            [repetitions, images, json], parse =>
        {
            var figures = HierarchyBenchmark.Run(parse.GetValue(repetitions), parse.GetValue(images));
            if (parse.GetValue(json)) { Console.WriteLine(JsonFiles.Serialize(figures)); return 0; }
            Console.WriteLine($"{Environment.ProcessorCount} logical processors visible; medians of {parse.GetValue(repetitions)} interleaved repetitions");
            foreach (var f in figures) Console.WriteLine($"{f.MedianMs,9:N1} ms  (min {f.MinMs:N1}, max {f.MaxMs:N1})  {f.Task} — {f.Detail}");
            return 0;
        });
    }

    public static Command Training()
    {
        var threads = Int("--threads", "torch threads for both sides", 2, 1, 256);
        var rounds = Int("--rounds", "interleaved rounds per shape", 3, 1, 100);
        var steps = Int("--steps", "timed steps per round", 5, 1, 10_000);
        var warmup = Int("--warmup", "untimed steps before them", 2, 0, 1000);
        var python = Text("--python", "the peer's interpreter (Debian's python3-torch); 'none' skips the peer", "/usr/bin/python3", "PATH");
        var liveSteps = Int("--live-steps", "steps of the live-tensor check", 1000, 0);
        var phases = Flag("--phases", "also time the step's phases (forward + loss, backward, optimizer update) on both sides");
        var cpuClock = Flag("--cpu-time", "measure process CPU time instead of wall-clock time on both sides (steadier on a loaded, shared machine)");
        var shapes = Choice("--shapes", "which input shapes", "both", "both", "small", "large");
        var torchSharpSgd = Flag("--torchsharp-sgd", "ours with TorchSharp's own optim.SGD instead of the trainer's FusedSgd (to show the difference)");
        return Command("bench", "benchmark the ResNet-18 training step on CPU against PyTorch (interleaved, medians, ratios)",
            [threads, rounds, steps, warmup, python, liveSteps, phases, cpuClock, shapes, torchSharpSgd], parse =>
        {
            bool cpu = parse.GetValue(cpuClock), plainSgd = parse.GetValue(torchSharpSgd);
            (int Batch, int Size)[] chosenShapes = parse.GetValue(shapes) switch { "small" => [(64, 32)], "large" => [(32, 112)], _ => [(64, 32), (32, 112)] };
            int threadCount = parse.GetValue(threads), roundCount = parse.GetValue(rounds), stepCount = parse.GetValue(steps), warm = parse.GetValue(warmup);
            var interpreter = parse.GetValue(python)!;
            TorchRuntime.EnsureNativesLoaded();
            torch.set_num_threads(threadCount);
            var script = Path.Combine(ProjectPaths.RepositoryRoot, TrainingBenchmark.PeerScript);
            var peer = interpreter != "none" && File.Exists(interpreter) && File.Exists(script);
            Console.WriteLine($"ResNet-18 training step, SGD momentum 0.9, CPU, {threadCount} threads, {roundCount} rounds × {stepCount} steps (+{warm} warm-up); peer: {(peer ? $"PyTorch via {interpreter}" : "none")}; {(cpu ? "process CPU time" : "wall-clock time")}; ours with {(plainSgd ? "TorchSharp's optim.SGD" : "FusedSgd")}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            Console.WriteLine($"{"shape",-16} {"ours ms",9} {"peer ms",9} {"ours/peer",9} {"ours+source ms",15} {"source/preloaded",17}");
            foreach (var (batch, size) in chosenShapes)
            {
                var ours = new List<double>(); var theirs = new List<double>(); var fed = new List<double>(); var ratios = new List<double>();
                for (int round = 0; round < roundCount; round++)
                {
                    ours.Add(TrainingBenchmark.OurStep(batch, size, stepCount, warm, fromSource: false, cpu, plainSgd));
                    if (peer) { theirs.Add(TrainingBenchmark.PeerStep(interpreter, script, batch, size, stepCount, warm, threadCount, cpu)); ratios.Add(ours[^1] / theirs[^1]); }
                    fed.Add(TrainingBenchmark.OurStep(batch, size, stepCount, warm, fromSource: true, cpu, plainSgd));
                }
                double o = Statistics.Median(ours), p = peer ? Statistics.Median(theirs) : double.NaN, f = Statistics.Median(fed);
                double ratio = peer ? Statistics.Median(ratios) : double.NaN;
                Console.WriteLine($"{$"{batch}×3×{size}×{size}",-16} {o,9:0.0} {p,9:0.0} {ratio,9:0.00} {f,15:0.0} {f / o,17:0.00}");
                Console.WriteLine($"    rounds ours: {Join(ours)}  peer: {Join(theirs)}  source: {Join(fed)}  (ours/peer = median of per-round ratios)");
            }
            if (parse.GetValue(phases))
            {
                Console.WriteLine($"\nphases, ms (median of {roundCount} rounds of per-round medians): forward+loss / backward / update");
                foreach (var (batch, size) in chosenShapes)
                {
                    var ours = new List<(double, double, double)>(); var theirs = new List<(double, double, double)>();
                    for (int round = 0; round < roundCount; round++)
                    {
                        ours.Add(TrainingBenchmark.OurPhases(batch, size, stepCount, warm, cpu, plainSgd));
                        if (peer) theirs.Add(TrainingBenchmark.PeerPhases(interpreter, script, batch, size, stepCount, warm, threadCount, cpu));
                    }
                    string Row(List<(double F, double B, double U)> r) => r.Count == 0 ? "–" : string.Create(CultureInfo.InvariantCulture,
                        $"{Statistics.Median(r.Select(x => x.F)),7:0.0} {Statistics.Median(r.Select(x => x.B)),7:0.0} {Statistics.Median(r.Select(x => x.U)),7:0.0}");
                    Console.WriteLine($"{$"{batch}×3×{size}×{size}",-16} ours {Row(ours)}   peer {Row(theirs)}");
                }
            }
            if (parse.GetValue(liveSteps) is > 0 and var live)
            {
                var (afterTen, afterAll, elapsed) = TrainingBenchmark.LiveTensors(live);
                Console.WriteLine($"live tensors (small CNN, batch 64 from an in-memory source, Adam, clipping): after step 10: {afterTen}, after step {live}: {afterAll} ({elapsed.TotalSeconds:0.0} s)");
            }
            return 0;
        });
    }

    private static double MedianOrNaN(IEnumerable<double> values) => values.Any() ? Statistics.Median(values) : double.NaN;

    private static string Join(IEnumerable<double> values) => string.Join(" ", values.Select(v => v.ToString("0", CultureInfo.InvariantCulture)));

    public static Command Data()
    {
        var images = Int("--images", "images per set (generated once, cached in --dir)", 320, 8);
        var rounds = Int("--rounds", "interleaved rounds; medians are reported", 3, 1);
        var threadList = IntList("--threads", "loader threads to measure (default 1,2)", min: 1);
        var batchSize = Int("--batch", "batch size", 32, 1);
        var setList = List("--sets", "inat (longest side 500 px) and/or full (ImageNet-like originals, longest side 1024–1600 px); default inat,full", "inat,full");
        var peerMode = Choice("--peer", "auto: run eng/bench/torchvision_loader_bench.py when python is available; none: ours only", "auto", "auto", "none");
        var pythonPath = Text("--python", "the interpreter with torchvision and PIL (Debian's python3-torchvision)", File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", "PATH");
        var memoryFlag = Flag("--memory", "also measure resident-memory growth against the prefetch depth (slow consumer)");
        var probeSpec = Text("--memory-probe", "internal: SET,THREADS,PREFETCH,BATCH measured in a fresh process");
        probeSpec.Hidden = true;
        var dir = Text("--dir", "where the generated images are cached", Path.Combine(ProjectPaths.ArtifactsRoot, "bench-images"), "DIR");
        var outFile = Text("--out", "write the figures as JSON", Path.Combine(ProjectPaths.ArtifactsRoot, "bench", "data-bench.json"), "FILE");
        return Command("bench", "images/s of decode + random-resized crop + flip + normalise vs torchvision/PIL; memory bound",
            [images, rounds, threadList, batchSize, setList, peerMode, pythonPath, memoryFlag, probeSpec, dir, outFile], parse =>
        {
            int count = parse.GetValue(images), batch = parse.GetValue(batchSize);
            var directory = parse.GetValue(dir)!;
            if (parse.GetValue(probeSpec) is { } probe) return MemoryProbe(probe, directory, count);
            int roundCount = parse.GetValue(rounds);
            var threads = parse.GetList(threadList) ?? [1, 2];
            var python = parse.GetValue(pythonPath)!;
            bool memory = parse.GetValue(memoryFlag);
            var output = parse.GetValue(outFile)!;
            var peer = parse.GetValue(peerMode);
            var kinds = (parse.GetList(setList) ?? ["inat", "full"]).Select(s => s switch
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
                for (int round = 0; round < roundCount; round++)
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
                    double o = MedianOrNaN(ours[t]), p = MedianOrNaN(theirs[t]);
                    double ratio = MedianOrNaN(ours[t].Zip(theirs[t], (a, b) => a / b));
                    double scaling = o / MedianOrNaN(ours[threads[0]]);
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
                    double peerScaling = MedianOrNaN(theirs[threads[^1]]) / MedianOrNaN(theirs[threads[0]]);
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
        });
    }

    /// <summary>Each memory measurement runs in a fresh process, so memory kept by earlier runs cannot hide growth.</summary>
    private static (long Growth, long BatchBytes, int Ahead) RunProbe(string spec, string directory, int count)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(BenchCommands).Assembly.Location);
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
