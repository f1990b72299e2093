using Granularity.Data;
using Granularity.Core;
using Granularity.Runs;
using Granularity.Training;
using Granularity.Training.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Granularity.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class TrainingEngineTests
{
    [Fact]
    public void LossFallsOnATinyDataset()
    {
        var root = TrainingFixtures.TemporaryRoot();
        var config = TrainingFixtures.Tiny(epochs: 4).PretrainingPart();
        var result = TrainingEngine.Pretrain(config, TrainingFixtures.Options(root));
        var losses = result.Folder.ReadMetrics().Column("train_loss");
        Assert.Equal(4, losses.Length);
        Assert.True(losses[^1] < 0.8 * losses[0], $"training loss should fall: {string.Join(", ", losses)}");
        Assert.All(result.Summary.OwnLevel, e => Assert.InRange(e.Top1Error, 0, 1));
        Assert.True(Directory.GetFiles(result.Folder.File("tensorboard")).Length > 0, "TensorBoard event file expected");
        // A second call reuses the finished run.
        Assert.True(TrainingEngine.Pretrain(config, TrainingFixtures.Options(root)).FromCache);
    }

    [Fact]
    public void TransferReplacesTheHeadAndKeepsTheBody()
    {
        TorchRuntimeSeed(1);
        using var pretrained = new ModelConfig(Architecture.SmallCnn, ImageSize: 16, SmallCnnWidth: 32).Create(16);
        var transferred = pretrained.WithNewHead(4);
        Assert.Equal(4, transferred.ClassCount);
        Assert.Equal(new long[] { 4, 32 }, transferred.Head.weight!.shape);
        var before = pretrained.Body.state_dict();
        var after = transferred.Body.state_dict();
        Assert.Equal(before.Keys, after.Keys);
        foreach (var key in before.Keys) Assert.True(before[key].eq(after[key]).all().item<bool>(), $"body tensor {key} changed");

        // Through the engine: a linear probe leaves every body weight of the pretrained checkpoint untouched.
        var root = TrainingFixtures.TemporaryRoot();
        var config = TrainingFixtures.Tiny() with { TransferMode = TransferMode.LinearProbe, Transfer = new StageConfig(3, 32, OptimizerKind.Adam, 1e-2, LearningRateSchedule.Constant) };
        var result = TrainingEngine.Run(config, TrainingFixtures.Options(root));
        using var source = Checkpoint.Read(Path.Combine(result.Folder.Path, result.Summary.PretrainingRun, TrainingEngine.CheckpointFile)).CreateClassifier();
        using var final = Checkpoint.Read(result.Folder.File(TrainingEngine.ModelFile)).CreateClassifier();
        Assert.Equal(16, source.ClassCount);
        Assert.Equal(4, final.ClassCount);
        var sourceBody = source.Body.state_dict();
        foreach (var (key, value) in final.Body.state_dict()) Assert.True(value.eq(sourceBody[key]).all().item<bool>(), $"linear probe changed body tensor {key}");
    }

    [Fact]
    public void TheReadoutsOfOnePretrainedBodyComputeItsProbeFeaturesOnceWithTheSameResults()
    {
        var probe = new StageConfig(3, 32, OptimizerKind.Adam, 1e-2, LearningRateSchedule.Constant);
        var linearProbe = TrainingFixtures.Tiny() with { TransferMode = TransferMode.LinearProbe, Transfer = probe };
        var probeThenFineTune = TrainingFixtures.Tiny() with { TransferMode = TransferMode.LinearProbeThenFineTuning, Probe = probe };
        using var shared = DatasetRegistry.Synthetic().Open(linearProbe.Dataset, linearProbe.Seed);
        var root = TrainingFixtures.TemporaryRoot();
        TrainingEngine.Run(linearProbe, TrainingFixtures.Options(root), shared);
        var withKeptFeatures = TrainingEngine.Run(probeThenFineTune, TrainingFixtures.Options(root), shared);
        Assert.Equal(1, ProbeFeatureCache.Computations(shared));

        // The same LP-then-FT on its own (a new dataset instance: nothing kept) gives the same result to the last bit.
        using var alone = DatasetRegistry.Synthetic().Open(linearProbe.Dataset, linearProbe.Seed);
        var fresh = TrainingEngine.Run(probeThenFineTune, TrainingFixtures.Options(TrainingFixtures.TemporaryRoot()), alone);
        Assert.Equal(1, ProbeFeatureCache.Computations(alone));
        Assert.Equal(fresh.Summary.Target, withKeptFeatures.Summary.Target);

        // Another pretrained body on the same instance computes its own.
        TrainingEngine.Run(linearProbe with { PretrainingLevel = "mid" }, TrainingFixtures.Options(root), shared);
        Assert.Equal(2, ProbeFeatureCache.Computations(shared));

        // Released on demand (not left to finalizers): the next readout computes them again.
        ProbeFeatureCache.Forget(shared);
        TrainingEngine.Run(probeThenFineTune with { PretrainingLevel = "mid" }, TrainingFixtures.Options(root), shared);
        Assert.Equal(3, ProbeFeatureCache.Computations(shared));
    }

    [Fact]
    public void AnInterruptedRunResumesToTheSameMetrics()
    {
        var config = TrainingFixtures.Tiny(epochs: 3);
        var straight = TrainingEngine.Run(config, TrainingFixtures.Options(TrainingFixtures.TemporaryRoot()));

        var root = TrainingFixtures.TemporaryRoot();
        var interruptions = 0;
        ExperimentResult? resumed = null;
        while (resumed is null)
        {
            try { resumed = TrainingEngine.Run(config, TrainingFixtures.Options(root, stopAfter: 1)); }
            catch (TrainingInterruptedException) { interruptions++; }
            Assert.True(interruptions < 10, "the run never finished");
        }
        Assert.Equal(4, interruptions); // 2 in pretraining, 2 in fine-tuning (3 epochs each, stop after every epoch)
        Assert.Equal(straight.Summary.Target, resumed.Summary.Target);
        Assert.Equal(straight.Summary.PretrainedOwnLevel, resumed.Summary.PretrainedOwnLevel);
        var a = straight.Folder.ReadMetrics();
        var b = resumed.Folder.ReadMetrics();
        foreach (var column in a.Columns.Where(c => c is not ("seconds" or "samples_per_second")))
            Assert.Equal(a.Column(column), b.Column(column));
        Assert.Equal(File.ReadAllText(straight.Folder.File(TrainingRuns.SamplesFile("hard"))), File.ReadAllText(resumed.Folder.File(TrainingRuns.SamplesFile("hard"))));
    }

    [Fact]
    public void NaNLossStopsTheRunAndKeepsTheLastGoodCheckpoint()
    {
        var root = TrainingFixtures.TemporaryRoot();
        var config = TrainingFixtures.Tiny(epochs: 3).PretrainingPart();
        using var data = new PoisonedData(SyntheticHierarchyData.Create(config.Dataset, config.Seed), poisonFrom: 1);
        var error = Assert.Throws<TrainingDivergedException>(() => TrainingEngine.Pretrain(config, TrainingFixtures.Options(root), data));
        Assert.Contains("NaN", error.Message);
        Assert.Contains("epoch 2", error.Message);
        var folder = Directory.GetDirectories(Path.Combine(root, TrainingEngine.PretrainingExperiment)).Single();
        Assert.False(File.Exists(Path.Combine(folder, RunFolder.SummaryFile)));
        var kept = Checkpoint.Read(Path.Combine(folder, TrainingEngine.CheckpointFile));
        Assert.Equal(1, kept.Header.EpochsCompleted);
        Assert.All(kept.Header.MetricsRows.SelectMany(r => r), v => Assert.False(double.IsNaN(v)));
    }

    [Fact]
    public void LiveTensorsStayFlatAcrossSteps()
    {
        TorchRuntimeSeed(2);
        using var model = new ModelConfig(Architecture.SmallCnn, ImageSize: 16, SmallCnnWidth: 32).Create(4);
        var stage = new StageConfig(1, 16, OptimizerKind.Sgd, 0.01, GradientClipNorm: 1, LabelSmoothing: 0.1);
        using var optimizer = StageTrainerAccess.Optimizer(model, stage);
        var step = new TrainingStep(model, optimizer, stage);
        using var images = rand(16, 3, 16, 16);
        using var labels = randint(0, 4, 16, ScalarType.Int64);
        for (int i = 0; i < 5; i++) step.Run(images, labels, 0.01, CPU);
        // Tensor.TotalCount is process-wide: this holds while no other test runs TorchSharp in parallel (the Training collection, and the lead's global setting).
        // Finalizers of earlier tests' undisposed tensors would otherwise lower the count mid-measurement.
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        var live = torch.Tensor.TotalCount;
        for (int i = 0; i < 50; i++) step.Run(images, labels, 0.01, CPU);
        var after = torch.Tensor.TotalCount;
        Assert.True(after <= live, $"live tensors grew from {live} to {after} over 50 steps");
    }

    internal static void TorchRuntimeSeed(int seed) => Granularity.Core.TorchRuntime.Seed(seed);
}

internal static class StageTrainerAccess
{
    public static optim.Optimizer Optimizer(Classifier model, StageConfig stage) => StageTrainer.CreateOptimizer(model.parameters(), stage);
}
