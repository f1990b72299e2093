using Granularity.Core;
using Granularity.Data;
using Granularity.Training;
using Granularity.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Experiments;

/// <summary>The network and augmentation of the real-image protocol: conv channels per block, the feature pooling, training-time random shifts (px).</summary>
public sealed record RealImageNetwork(IReadOnlyList<int> Channels, FeaturePool Pool, int ShiftPixels);

/// <summary>
/// The real-image experiment's training in memory: the small CNN, Adam at a constant rate, batches from
/// <see cref="InMemoryBatchSource"/> and the engine's <see cref="TrainingStep"/>. No checkpoints: every arm takes seconds,
/// and the experiment resumes per arm instead.
/// </summary>
public sealed class RealImageTrainer : IDisposable
{
    private readonly Tensor trainImages;
    private readonly Dictionary<string, Tensor> evaluationImages = new(StringComparer.Ordinal);

    private readonly Func<nn.Module<Tensor, Tensor>>? bodyFactory;

    /// <summary>A trainer over <paramref name="set"/>; <c>body</c>, when given, makes every model's body instead of the network's conv body (tests with known answers).</summary>
    public RealImageTrainer(HierarchicalImageSet set, RealImageNetwork network, int batchSize, Func<nn.Module<Tensor, Tensor>>? body = null)
    {
        Set = set;
        Network = network;
        bodyFactory = body;
        BatchSize = batchSize;
        trainImages = ImagesOf(set.Train);
    }

    public HierarchicalImageSet Set { get; }
    public RealImageNetwork Network { get; }
    public int BatchSize { get; }

    // Kept for the trainer's lifetime even when first asked for inside a caller's dispose scope.
    private Tensor ImagesOf(int[] indices) =>
        tensor(Set.Gather(indices), new long[] { indices.Length, Set.Channels, Set.ImageSize, Set.ImageSize }).DetachFromDisposeScope();

    /// <summary>The images of an evaluation split ("val" or "test"), built once.</summary>
    private Tensor Evaluation(string split)
    {
        if (!evaluationImages.TryGetValue(split, out var images))
        {
            images = ImagesOf(Indices(split));
            evaluationImages[split] = images;
        }
        return images;
    }

    public int[] Indices(string split) => split switch
    {
        "val" => Set.Validation,
        "test" => Set.Test,
        _ => throw new ArgumentException($"unknown evaluation split '{split}' (val, test)"),
    };

    /// <summary>The target label of every image of <paramref name="split"/>.</summary>
    public int[] TargetLabels(string split) => Indices(split).Select(i => Set.Target[i]).ToArray();

    /// <summary>A freshly initialised classifier (the init follows <paramref name="seed"/>).</summary>
    public Classifier NewModel(int classes, int seed)
    {
        TorchRuntime.Seed(SeedMix.Combine(seed, "init"));
        var model = new Classifier(bodyFactory?.Invoke() ?? new ConvNetBody(Network.Channels, Network.Pool, Set.Channels, Set.ImageSize), classes);
        model.to(TorchRuntime.Device);
        return model;
    }

    /// <summary>Trains every weight of <paramref name="model"/> on the training images with <paramref name="labels"/> for <paramref name="epochs"/> epochs.</summary>
    /// <remarks>
    /// With <paramref name="optimizer"/> and <paramref name="firstEpoch"/> a stage continues where an earlier call stopped:
    /// at a constant rate, training 4 epochs and then 4 more is the same as training 8 (the schedule search relies on it).
    /// <c>afterEpoch</c> is called after each epoch with the number of epochs done so far (<paramref name="firstEpoch"/> included).
    /// </remarks>
    public void Train(Classifier model, int[] labels, int epochs, double learningRate, int seed, string stage, int firstEpoch = 0, optim.Optimizer? optimizer = null,
        Action<int>? afterEpoch = null)
    {
        if (epochs <= 0) return;
        var stageConfig = new StageConfig(epochs, BatchSize, OptimizerKind.Adam, learningRate, LearningRateSchedule.Constant).Validated(stage);
        using var source = new InMemoryBatchSource(trainImages, labels.Select(l => (long)l).ToArray(), model.ClassCount, BatchSize, shuffle: true, SeedMix.Combine(seed, stage));
        var owned = optimizer is null;
        optimizer ??= optim.Adam(model.parameters(), learningRate);
        try
        {
            TrainEpochs(model, optimizer, stageConfig, source, firstEpoch, firstEpoch + epochs, learningRate, seed, stage, Network.ShiftPixels, afterEpoch);
        }
        finally
        {
            if (owned) optimizer.Dispose();
        }
    }

    private static void TrainEpochs(Classifier model, optim.Optimizer optimizer, StageConfig stageConfig, InMemoryBatchSource source, int from, int to, double learningRate, int seed, string stage,
        int shift, Action<int>? afterEpoch)
    {
        var step = new TrainingStep(model, optimizer, stageConfig);
        for (int epoch = from; epoch < to; epoch++)
        {
            model.train();
            TorchRuntime.Seed(SeedMix.Combine(seed, stage, epoch));
            var shifts = new Random(SeedMix.Combine(seed, stage + "/shift", epoch));
            foreach (var batch in source.Epoch(epoch))
            {
                using var owned = batch;
                using var shifted = shift > 0 ? RandomShift.Apply(batch.Images, shift, RandomShift.Offsets((int)batch.Images.shape[0], shift, shifts)) : null;
                var (loss, _) = step.Run(shifted ?? batch.Images, batch.Labels, learningRate, TorchRuntime.Device);
                if (!float.IsFinite(loss))
                    throw new TrainingDivergedException($"{stage}: the loss became {loss} at epoch {epoch + 1} (learning rate {learningRate:g3}); lower the learning rate");
            }
            afterEpoch?.Invoke(epoch + 1);
        }
    }

    /// <summary>The body's features of <paramref name="images"/> (eval mode, no gradients), on the CPU.</summary>
    private Tensor Features(Classifier model, Tensor images)
    {
        model.eval();
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += 512)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(512, images.shape[0] - start);
            parts.Add(model.Features(images.narrow(0, start, length).to(TorchRuntime.Device)).cpu().MoveToOuterDisposeScope());
        }
        var all = cat(parts, 0);
        foreach (var part in parts) part.Dispose();
        return all;
    }

    /// <summary>Predicted class of every image of <paramref name="split"/>.</summary>
    public int[] Predict(Classifier model, string split)
    {
        using var features = Features(model, Evaluation(split));
        return PredictHead(model.Head, features);
    }

    /// <summary>Softmax probability of each image's own target class (the hardness score of notebook 06), for a target-level model.</summary>
    public double[] TargetProbability(Classifier model, string split)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var features = Features(model, Evaluation(split));
        var probabilities = model.Head.call(features.to(TorchRuntime.Device)).softmax(1).cpu();
        var target = tensor(TargetLabels(split).Select(l => (long)l).ToArray(), ScalarType.Int64);
        return probabilities.gather(1, target.unsqueeze(1)).squeeze(1).to(ScalarType.Float64).data<double>().ToArray();
    }

    private static int[] PredictHead(nn.Module<Tensor, Tensor> head, Tensor features)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return head.call(features.to(TorchRuntime.Device)).argmax(1).cpu().to(ScalarType.Int32).data<int>().ToArray();
    }

    /// <summary>
    /// Fits a new linear head on the frozen training features (Adam, mini-batches) and sets it as <paramref name="model"/>'s
    /// head weights. Returns the model with the fitted head: a new classifier sharing the body, so callers dispose only its
    /// <c>Head</c>, never the classifier (that would dispose the shared body).
    /// </summary>
    public Classifier Probe(Classifier model, int[] labels, int classes, int epochs, double learningRate, int seed)
    {
        using var features = Features(model, trainImages);
        TorchRuntime.Seed(SeedMix.Combine(seed, "probe"));
        var withHead = model.WithNewHead(classes);
        withHead.to(TorchRuntime.Device);
        using var optimizer = optim.Adam(withHead.Head.parameters(), learningRate);
        using var targets = tensor(labels.Select(l => (long)l).ToArray(), ScalarType.Int64);
        var random = new Random(SeedMix.Combine(seed, "probe-order"));
        int n = labels.Length;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).Select(i => (long)i).ToArray();
            for (int start = 0; start < n; start += 256)
            {
                using var scope = NewDisposeScope();
                var index = tensor(order[start..Math.Min(n, start + 256)], ScalarType.Int64);
                var logits = withHead.Head.call(features.index_select(0, index).to(TorchRuntime.Device));
                var loss = nn.functional.cross_entropy(logits, targets.index_select(0, index).to(TorchRuntime.Device));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
        }
        return withHead;
    }

    /// <summary>A copy of every parameter and buffer, to restore a pretrained body before the next readout.</summary>
    public static Dictionary<string, Tensor> Snapshot(nn.Module module) =>
        module.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());

    public static void Restore(nn.Module module, Dictionary<string, Tensor> snapshot)
    {
        using var noGrad = no_grad();
        foreach (var (name, value) in module.state_dict()) value.copy_(snapshot[name]);
    }

    public void Dispose()
    {
        trainImages.Dispose();
        foreach (var images in evaluationImages.Values) images.Dispose();
    }
}
