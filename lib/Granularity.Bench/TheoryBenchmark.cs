using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Theory;

/// <summary>Throughput and memory of the theory trainer for one configuration.</summary>
public sealed record TheoryBenchmarkResult(
    string Config,
    int StepsPerRepeat,
    double[] VectorisedStepsPerSecond,    // one value per repeat; a step = one SGD update of the coarse and of the fine model
    double[] PerPatchLoopStepsPerSecond,  // the peer: the same step with the forward pass looping over patches
    double MedianRatio,                   // median vectorised / median per-patch-loop steps per second
    long LiveTensorsBefore,
    long LiveTensorsAfter,                // after LiveTensorSteps further steps; equal to Before when nothing leaks
    int LiveTensorSteps,
    long PeakWorkingSetBytes,             // process peak resident set after this configuration (cumulative over the process)
    double[] ExternalPeerStepsPerSecond)  // an independent peer (eng/bench/theory_step_torch.py), run between our repeats; empty when not run
{
    public double MedianExternalPeer => Median(ExternalPeerStepsPerSecond);

    public double MedianVectorised => Median(VectorisedStepsPerSecond);
    public double MedianPerPatchLoop => Median(PerPatchLoopStepsPerSecond);

    internal static double Median(double[] values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>
/// Measures SGD steps per second of <see cref="TheoryTrainer.Step"/> against a peer that computes the same forward pass
/// with a loop over patches (repeats interleaved, medians compared), the live tensor count across many steps, and the
/// process's peak memory.
/// </summary>
public static class TheoryBenchmark
{
    /// <summary>Tensors alive on this thread, as TorchSharp's dispose-scope statistics count them.</summary>
    public static long LiveTensors => DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;

    public static TheoryBenchmarkResult Run(TheoryConfig config, int steps = 200, int repeats = 3, int liveTensorSteps = 1000, Action<string>? progress = null, Func<double>? externalPeer = null)
    {
        using var threads = TheoryExperiment.WithThreads(TheoryExperiment.Threads);
        using var trainer = new TheoryTrainer(config);
        for (int i = 0; i < 20; i++) trainer.Step();   // warm-up: allocator, kernels, lazy initialisation
        using var peerGenerator = HierarchicalMultiViewData.NewGenerator(config.Seed + 1, HierarchicalMultiViewData.SeedStream.Training);
        var vectorised = new double[repeats];
        var loop = new double[repeats];
        var external = new double[externalPeer is null ? 0 : repeats];
        for (int repeat = 0; repeat < repeats; repeat++)
        {
            vectorised[repeat] = Timed(steps, trainer.Step);
            loop[repeat] = Timed(steps, () => PerPatchLoopStep(trainer, peerGenerator));
            if (externalPeer is not null) external[repeat] = externalPeer();
            progress?.Invoke(FormattableString.Invariant($"{config.Label}: repeat {repeat + 1}/{repeats}: vectorised {vectorised[repeat]:0} steps/s, per-patch loop {loop[repeat]:0} steps/s{(externalPeer is null ? "" : $", PyTorch {external[repeat]:0.0} steps/s")}"));
        }
        var before = LiveTensors;
        for (int i = 0; i < liveTensorSteps; i++) trainer.Step();
        var after = LiveTensors;
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return new TheoryBenchmarkResult(config.Label, steps, vectorised, loop,
            TheoryBenchmarkResult.Median(vectorised) / TheoryBenchmarkResult.Median(loop),
            before, after, liveTensorSteps, process.PeakWorkingSet64, external);
    }

    private static double Timed(int steps, Action step)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) step();
        return steps / clock.Elapsed.TotalSeconds;
    }

    /// <summary>The peer: the same SGD step, but the forward pass handles one patch at a time (P small matrix products).</summary>
    private static void PerPatchLoopStep(TheoryTrainer trainer, Generator generator)
    {
        using var scope = NewDisposeScope();
        var config = trainer.Config;
        var batch = trainer.Data.Sample(config.BatchSize, config.HardShareInTraining, generator);
        var inputs = batch.Inputs.to(trainer.Device);
        foreach (var model in new[] { trainer.Coarse, trainer.Fine })
        {
            var net = model.Net;
            var filters = net.Weights.view(net.Outputs * net.NeuronsPerOutput, net.Dimension);
            Tensor? pooled = null;
            for (int p = 0; p < config.Patches; p++)
            {
                var activation = inputs.select(1, p).matmul(filters.t()).relu();
                pooled = pooled is null ? activation : pooled.add(activation);
            }
            var logits = pooled!.view(batch.Count, net.Outputs, net.NeuronsPerOutput).sum(2);
            model.Optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(logits, batch.LabelsAt(model.Granularity).to(trainer.Device));
            loss.backward();
            model.Optimizer.step();
            _ = loss.item<float>();
        }
    }
}
