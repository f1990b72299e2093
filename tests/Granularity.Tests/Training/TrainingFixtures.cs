using Granularity.Hierarchy;
using Granularity.Data;
using Granularity.Training;
using Xunit;

namespace Granularity.Tests.Training;

/// <summary>Tiny configs and folders shared by the training tests.</summary>
internal static class TrainingFixtures
{
    /// <summary>A Quick experiment shrunk to seconds: 256 training images at 16 px, a 32-channel small CNN, 2+2 epochs.</summary>
    public static TrainingConfig Tiny(string pretrainingLevel = "leaf", int seed = 0, int epochs = 2) =>
        TrainingProtocols.Quick(pretrainingLevel, "coarse", seed) with
        {
            Dataset = new DatasetConfig(SyntheticHierarchyData.DatasetName, TrainSamples: 256, EvaluationSamples: 128, ImageSize: 16),
            Model = new ModelConfig(Architecture.SmallCnn, ImageSize: 16, SmallCnnWidth: 32),
            Pretraining = new StageConfig(epochs, 32, OptimizerKind.Adam, 2e-3, LearningRateSchedule.Cosine, WarmupEpochs: 0.5),
            Transfer = new StageConfig(epochs, 32, OptimizerKind.Sgd, 1e-2, LearningRateSchedule.Cosine, Momentum: 0.9, WeightDecay: 1e-4, LabelSmoothing: 0.1, GradientClipNorm: 5),
            Baseline = new StageConfig(2 * epochs, 32, OptimizerKind.AdamW, 2e-3, WeightDecay: 0.01),
        };

    public static string TemporaryRoot() => TempFolder.Create("training");

    public static TrainingOptions Options(string root, int? stopAfter = null) => new() { RunsRoot = root, StopAfterEpochs = stopAfter, TensorBoard = true };

    /// <summary>Every file under a folder with its bytes, to show that a failed call changed nothing.</summary>
    public static Dictionary<string, byte[]> Snapshot(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
}

/// <summary>Wraps a dataset so that training batches from epoch <c>poisonFrom</c> on carry NaN pixels.</summary>
internal sealed class PoisonedData(ITrainingData inner, int poisonFrom) : ITrainingData
{
    public IReadOnlyList<string> Levels => inner.Levels;
    public LabelMap Labels(string level) => inner.Labels(level);
    public IBatchSource Training(string level, int batchSize, int seed) => new Poisoned(inner.Training(level, batchSize, seed), poisonFrom);
    public IBatchSource TrainingForFeatures(string level, int batchSize) => inner.TrainingForFeatures(level, batchSize);
    public IReadOnlyList<(string Split, IBatchSource Source)> Evaluation(string level, int batchSize) => inner.Evaluation(level, batchSize);
    public void Dispose() => inner.Dispose();

    private sealed class Poisoned(IBatchSource inner, int poisonFrom) : IBatchSource
    {
        public int Count => inner.Count;
        public int ClassCount => inner.ClassCount;
        public IEnumerable<Batch> Epoch(int epoch)
        {
            foreach (var batch in inner.Epoch(epoch))
            {
                if (epoch < poisonFrom) { yield return batch; continue; }
                var images = batch.Images.mul(float.NaN);
                batch.Images.Dispose();
                yield return new Batch(images, batch.Labels, batch.Indices);
            }
        }
    }
}

/// <summary>The training tests share TorchSharp's process-wide state (seeds, live-tensor counts), so they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection
{
    public const string Name = "Training (TorchSharp, serial)";
}
