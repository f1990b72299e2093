using System.Diagnostics;
using System.Globalization;
using Granularity.Training;
using Granularity.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Bench;

/// <summary>
/// The CPU training step of ResNet-18 against PyTorch (eng/bench/train_step_torch.py) on the same shapes, optimiser and
/// thread count; the step fed by a batch source against a preloaded batch; and live tensors across many steps.
/// </summary>
public static class TrainingBenchmark
{
    /// <summary>The peer script, relative to the repository root.</summary>
    public const string PeerScript = "eng/bench/train_step_torch.py";

    /// <summary>Milliseconds since an arbitrary origin: wall-clock, or this process's CPU time (all threads; far less disturbed by other processes on a shared machine).</summary>
    public static Func<double> Clock(bool cpuTime)
    {
        if (!cpuTime) { var wall = Stopwatch.StartNew(); return () => wall.Elapsed.TotalMilliseconds; }
        var process = Process.GetCurrentProcess();
        return () => { process.Refresh(); return process.TotalProcessorTime.TotalMilliseconds; };
    }

    /// <summary>Median step time in ms; the batch is either one preloaded tensor or drawn from an in-memory source (index_select per batch).</summary>
    public static double OurStep(int batch, int size, int steps, int warmup, bool fromSource, bool cpuTime = false, bool torchSharpSgd = false)
    {
        var now = Clock(cpuTime);
        manual_seed(0);
        using var model = ResNet18(size);
        var stage = new StageConfig(1, batch, OptimizerKind.Sgd, 0.01, Momentum: 0.9, WeightDecay: 1e-4);
        using var optimizer = Optimizer(model, stage, torchSharpSgd);
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
            var start = now();
            if (source is null) step.Run(images, labels, 0.01, CPU);
            else
            {
                if (batches is null || !batches.MoveNext()) { batches = source.Epoch(epoch++).GetEnumerator(); batches.MoveNext(); }
                using var drawn = batches.Current;
                step.Run(drawn.Images, drawn.Labels, 0.01, CPU);
            }
            if (i >= warmup) times.Add(now() - start);
        }
        return Core.Statistics.Median(times);
    }

    /// <summary>Median ms of the step's phases: forward with the loss, zero_grad with backward, and the optimizer update.</summary>
    public static (double Forward, double Backward, double Update) OurPhases(int batch, int size, int steps, int warmup, bool cpuTime = false, bool torchSharpSgd = false)
    {
        var now = Clock(cpuTime);
        manual_seed(0);
        using var model = ResNet18(size);
        using var optimizer = Optimizer(model, new StageConfig(1, batch, OptimizerKind.Sgd, 0.01, Momentum: 0.9, WeightDecay: 1e-4), torchSharpSgd);
        model.train();
        using var images = rand(batch, 3, size, size);
        using var labels = randint(0, 100, batch, ScalarType.Int64);
        List<double> forward = [], backward = [], update = [];
        for (int i = 0; i < warmup + steps; i++)
        {
            var start = now();
            using (NewDisposeScope())
            {
                var loss = nn.functional.cross_entropy(model.call(images), labels);
                loss.item<float>();
                var afterForward = now();
                optimizer.zero_grad();
                loss.backward();
                var afterBackward = now();
                if (i >= warmup) { forward.Add(afterForward - start); backward.Add(afterBackward - afterForward); }
            }
            var beforeUpdate = now();
            optimizer.step();
            if (i >= warmup) update.Add(now() - beforeUpdate);
        }
        return (Core.Statistics.Median(forward), Core.Statistics.Median(backward), Core.Statistics.Median(update));
    }

    /// <summary>The same phases of the PyTorch peer.</summary>
    public static (double Forward, double Backward, double Update) PeerPhases(string python, string script, int batch, int size, int steps, int warmup, int threads, bool cpuTime = false)
    {
        var line = RunPeer(python, script, [$"{batch}", $"{size}", $"{steps}", $"{warmup}", $"{threads}", "phases", .. cpuTime ? ["cpu"] : Array.Empty<string>()], "phases_ms=");
        var parts = line["phases_ms=".Length..].Split(',').Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        return (parts[0], parts[1], parts[2]);
    }

    /// <summary>The trainer's optimiser for the stage (<see cref="FusedSgd"/> for SGD), or TorchSharp's own SGD for comparison.</summary>
    private static optim.Optimizer Optimizer(Classifier model, StageConfig stage, bool torchSharpSgd) => torchSharpSgd
        ? optim.SGD(model.parameters(), stage.LearningRate, stage.Momentum, 0, stage.WeightDecay)
        : StageTrainer.CreateOptimizer(model.parameters(), stage);

    private static Classifier ResNet18(int size) => new ModelConfig(Architecture.ResNet18, ResNetStem.ImageNet, ImageSize: size).Create(100);

    /// <summary>Median step time in ms of the PyTorch peer, in a fresh process.</summary>
    public static double PeerStep(string python, string script, int batch, int size, int steps, int warmup, int threads, bool cpuTime = false)
    {
        var line = RunPeer(python, script, [$"{batch}", $"{size}", $"{steps}", $"{warmup}", $"{threads}", .. cpuTime ? ["cpu"] : Array.Empty<string>()], "median_ms=");
        return double.Parse(line.Split(' ')[0]["median_ms=".Length..], CultureInfo.InvariantCulture);
    }

    private static string RunPeer(string python, string script, string[] arguments, string prefix)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments.Prepend(script)) start.ArgumentList.Add(a);
        Granularity.Theory.Sgemm.UseSameKernelIn(start);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"the PyTorch peer failed (exit {process.ExitCode}): {error.Result.Trim()}");
    }

    /// <summary>Live tensors after step 10 and after <paramref name="steps"/> steps of a small CNN with Adam and clipping; equal when nothing leaks.</summary>
    public static (long AfterTen, long AfterAll, TimeSpan Elapsed) LiveTensors(int steps)
    {
        manual_seed(0);
        using var model = new ModelConfig(Architecture.SmallCnn, ImageSize: 32).Create(16);
        var stage = new StageConfig(1, 64, OptimizerKind.Adam, 1e-3, GradientClipNorm: 1, LabelSmoothing: 0.1);
        using var optimizer = optim.Adam(model.parameters(), 1e-3);
        var step = new TrainingStep(model, optimizer, stage);
        using var source = new InMemoryBatchSource(rand(256, 3, 32, 32), Enumerable.Range(0, 256).Select(i => (long)(i % 16)).ToArray(), 16, 64, true, 3);
        long first = 0;
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
        return (first, torch.Tensor.TotalCount, clock.Elapsed);
    }
}
