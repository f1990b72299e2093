using Granularity.Core;
using System.Diagnostics;
using System.Globalization;
using Granularity.Notebook;
using Granularity.Training;
using Granularity.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Cli.Commands;

/// <summary>
/// `granularity train bench`: the CPU training step of ResNet-18 against PyTorch (eng/bench/train_step_torch.py) on the
/// same shapes, optimiser and thread count, interleaved round by round; the step fed by a batch source against a
/// preloaded batch; and live tensors across many steps.
/// </summary>
public sealed class TrainingBenchCommand : ICliCommand
{
    public string Name => "train bench";
    public string Summary => "benchmark the ResNet-18 training step on CPU against PyTorch (interleaved, medians, ratios)";
    public string Usage => """
        usage: granularity train bench [--threads N] [--rounds N] [--steps N] [--warmup N] [--python PATH] [--live-steps N]
          --threads     torch threads for both sides (default 2)
          --rounds      interleaved rounds per shape (default 3)
          --steps       timed steps per round (default 5), after --warmup steps (default 2)
          --python      the peer's interpreter (default /usr/bin/python3, Debian's python3-torch); 'none' skips the peer
          --live-steps  steps of the live-tensor check (default 1000)
        """;

    public int Run(CliArguments arguments)
    {
        var threads = arguments.Int("threads", 2, 1, 256);
        var rounds = arguments.Int("rounds", 3, 1, 100);
        var steps = arguments.Int("steps", 5, 1, 10_000);
        var warmup = arguments.Int("warmup", 2, 0, 1000);
        var python = arguments.String("python", "/usr/bin/python3");
        var liveSteps = arguments.Int("live-steps", 1000, 0);
        arguments.RejectUnknown();
        TorchRuntime.EnsureNativesLoaded();
        set_num_threads(threads);
        var script = Path.Combine(Core.ProjectPaths.RepositoryRoot, "eng", "bench", "train_step_torch.py");
        var peer = python != "none" && File.Exists(python) && File.Exists(script);
        Console.WriteLine($"ResNet-18 training step, SGD momentum 0.9, CPU, {threads} threads, {rounds} rounds × {steps} steps (+{warmup} warm-up); peer: {(peer ? $"PyTorch via {python}" : "none")}");
        Console.WriteLine($"{"shape",-16} {"ours ms",9} {"peer ms",9} {"ours/peer",9} {"ours+source ms",15} {"source/preloaded",17}");
        foreach (var (batch, size) in new[] { (64, 32), (32, 112) })
        {
            var ours = new List<double>(); var theirs = new List<double>(); var fed = new List<double>();
            for (int round = 0; round < rounds; round++)
            {
                ours.Add(OurStep(batch, size, steps, warmup, fromSource: false));
                if (peer) theirs.Add(PeerStep(python, script, batch, size, steps, warmup, threads));
                fed.Add(OurStep(batch, size, steps, warmup, fromSource: true));
            }
            var (o, p, f) = (Median(ours), peer ? Median(theirs) : double.NaN, Median(fed));
            Console.WriteLine($"{$"{batch}×3×{size}×{size}",-16} {o,9:0.0} {p,9:0.0} {o / p,9:0.00} {f,15:0.0} {f / o,17:0.00}");
            Console.WriteLine($"    rounds ours: {string.Join(" ", ours.Select(v => v.ToString("0", CultureInfo.InvariantCulture)))}  peer: {string.Join(" ", theirs.Select(v => v.ToString("0", CultureInfo.InvariantCulture)))}  source: {string.Join(" ", fed.Select(v => v.ToString("0", CultureInfo.InvariantCulture)))}");
        }
        if (liveSteps > 0) LiveTensors(liveSteps);
        return 0;
    }

    /// <summary>Median step time in ms; the batch is either one preloaded tensor or drawn from an in-memory source (index_select per batch).</summary>
    private static double OurStep(int batch, int size, int steps, int warmup, bool fromSource)
    {
        manual_seed(0);
        using var model = ResNet18(size);
        var stage = new StageConfig(1, batch, OptimizerKind.Sgd, 0.01, Momentum: 0.9, WeightDecay: 1e-4);
        using var optimizer = StageTrainer_Optimizer(model, stage);
        var step = new TrainingStep(model, optimizer, stage);
        model.train();
        using var images = rand(batch, 3, size, size);
        using var labels = randint(0, 100, batch, ScalarType.Int64);
        using var source = fromSource
            ? new InMemoryBatchSource(rand(batch * 4, 3, size, size), Enumerable.Range(0, batch * 4).Select(i => (long)(i % 100)).ToArray(), 100, batch, shuffle: true, seed: 1)
            : null;
        var times = new List<double>();
        var epoch = 0;
        IEnumerator<Data.Batch>? batches = null;
        for (int i = 0; i < warmup + steps; i++)
        {
            var clock = Stopwatch.StartNew();
            if (source is null) step.Run(images, labels, 0.01, CPU);
            else
            {
                if (batches is null || !batches.MoveNext()) { batches = source.Epoch(epoch++).GetEnumerator(); batches.MoveNext(); }
                using var drawn = batches.Current;
                step.Run(drawn.Images, drawn.Labels, 0.01, CPU);
            }
            if (i >= warmup) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return Median(times);
    }

    private static Classifier ResNet18(int size) => new ModelConfig(Architecture.ResNet18, ResNetStem.ImageNet, ImageSize: size).Create(100);

    private static optim.Optimizer StageTrainer_Optimizer(Classifier model, StageConfig stage) => stage.Optimizer switch
    {
        _ => optim.SGD(model.parameters(), stage.LearningRate, stage.Momentum, 0, stage.WeightDecay),
    };

    private static double PeerStep(string python, string script, int batch, int size, int steps, int warmup, int threads)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, $"{batch}", $"{size}", $"{steps}", $"{warmup}", $"{threads}" }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("median_ms=", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"the PyTorch peer failed (exit {process.ExitCode}): {error.Trim()}");
        return double.Parse(line.Split(' ')[0]["median_ms=".Length..], CultureInfo.InvariantCulture);
    }

    private static void LiveTensors(int steps)
    {
        manual_seed(0);
        using var model = new ModelConfig(Architecture.SmallCnn, ImageSize: 32).Create(16);
        var stage = new StageConfig(1, 64, OptimizerKind.Adam, 1e-3, GradientClipNorm: 1, LabelSmoothing: 0.1);
        using var optimizer = optim.Adam(model.parameters(), 1e-3);
        var step = new TrainingStep(model, optimizer, stage);
        using var source = new InMemoryBatchSource(rand(256, 3, 32, 32), Enumerable.Range(0, 256).Select(i => (long)(i % 16)).ToArray(), 16, 64, true, 3);
        long? first = null;
        var done = 0;
        var clock = Stopwatch.StartNew();
        for (int epoch = 0; done < steps; epoch++)
            foreach (var batch in source.Epoch(epoch))
            {
                using var owned = batch;
                step.Run(batch.Images, batch.Labels, 1e-3, CPU);
                if (++done == 10) first = torch.Tensor.TotalCount;
                if (done == steps) break;
            }
        Console.WriteLine($"live tensors (small CNN, batch 64 from an in-memory source, Adam, clipping): after step 10: {first}, after step {steps}: {torch.Tensor.TotalCount} ({clock.Elapsed.TotalSeconds:0.0} s)");
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
