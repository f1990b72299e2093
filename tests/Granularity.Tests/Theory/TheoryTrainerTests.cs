using Granularity.Theory;
using TorchSharp;
using Xunit;
using static Granularity.Tests.Theory.TheoryTestSupport;

namespace Granularity.Tests.Theory;

public sealed class TheoryTrainerTests
{
    public TheoryTrainerTests() => EnsureNatives();

    [Fact]
    public void TrainingLossFallsForBothModels()
    {
        using var threads = TheoryExperiment.WithThreads(1);
        using var trainer = new TheoryTrainer(Small(), torch.CPU);
        var outcome = trainer.Run();
        foreach (var level in new[] { "coarse", "fine" })
        {
            var losses = outcome.Metrics.Column($"{level}_train_loss");
            Assert.True(losses[^1] < 0.3 * losses[0], $"{level} loss {losses[0]:0.###} → {losses[^1]:0.###} did not fall enough");
            Assert.All(losses, loss => Assert.False(double.IsNaN(loss)));
        }
        Assert.Equal(new double[] { 0, 20, 40, 60 }, outcome.Metrics.Column("step"));
    }

    [Fact]
    public void CoarseTrainingAlignsWithTheCommonFeaturesAndFineTrainingWithTheFineOnes()
    {
        using var threads = TheoryExperiment.WithThreads(1);
        using var trainer = new TheoryTrainer(Small() with { Steps = 150 }, torch.CPU);
        var coarseBefore = trainer.Alignment(LabelGranularity.Coarse);
        var fineBefore = trainer.Alignment(LabelGranularity.Fine);
        for (int i = 0; i < 150; i++) trainer.Step();
        var coarse = trainer.Alignment(LabelGranularity.Coarse);
        var fine = trainer.Alignment(LabelGranularity.Fine);
        Assert.InRange(coarseBefore.Common, -0.1, 0.1);                    // init 0.01: near zero
        Assert.True(coarse.Common > 0.25, $"coarse common alignment {coarse.Common:0.###}");
        // With k = 3 each fine feature is in 1/6 of the samples, frequent enough for the coarse model to pick up a little.
        Assert.True(coarse.Common > 2 * coarse.Fine, $"coarse: common {coarse.Common:0.###} vs fine {coarse.Fine:0.###}");
        Assert.True(fine.FineMin > 0.25, $"fine model's least-learned fine feature {fine.FineMin:0.###}");
        Assert.True(fine.Fine > fineBefore.Fine + 0.2);
        Assert.True(fine.Fine > coarse.Fine + 0.2, "the fine model learns the fine features, the coarse model barely");
    }

    [Fact]
    public void LiveTensorCountStaysFlatAcrossSteps()
    {
        using var threads = TheoryExperiment.WithThreads(1);
        using var trainer = new TheoryTrainer(Small(), torch.CPU);
        for (int i = 0; i < 5; i++) trainer.Step();
        trainer.Evaluate(LabelGranularity.Fine);
        TheoryTransferTraining.Evaluate(trainer);        // first use of the transfer path outside the counted window
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
        for (int i = 0; i < 300; i++)
        {
            trainer.Step();
            if (i % 50 == 0) { trainer.Evaluate(LabelGranularity.Coarse); trainer.Alignment(LabelGranularity.Fine); }
        }
        TheoryTransferTraining.Evaluate(trainer);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(before, TorchSharp.DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void AFixedTrainingSetIsCycledThroughInEpochs()
    {
        using var threads = TheoryExperiment.WithThreads(1);
        using var trainer = new TheoryTrainer(Small() with { TrainingSetSize = 100, BatchSize = 32 }, torch.CPU);
        trainer.Step();                                  // draws the first epoch's order, which the trainer keeps
        var before = TorchSharp.DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
        for (int i = 0; i < 40; i++) trainer.Step();   // 13 more epochs of 3 batches
        Assert.Equal(before, TorchSharp.DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount);
        var evaluation = trainer.Evaluate(LabelGranularity.Fine);
        Assert.True(evaluation.EasyAccuracy > 0.8);
        Assert.NotNull(evaluation.SubclassEasyAccuracy);
        Assert.Null(trainer.Evaluate(LabelGranularity.Coarse).SubclassEasyAccuracy);
    }

    [Fact]
    public void TheSameSeedTrainsTheSameModels()
    {
        using var threads = TheoryExperiment.WithThreads(1);
        using var a = new TheoryTrainer(Small(seed: 2), torch.CPU);
        using var b = new TheoryTrainer(Small(seed: 2), torch.CPU);
        for (int i = 0; i < 10; i++) { a.Step(); b.Step(); }
        Assert.True(a.Fine.Net.Weights.equal(b.Fine.Net.Weights).all().item<bool>());
        Assert.True(a.Coarse.Net.Weights.equal(b.Coarse.Net.Weights).all().item<bool>());
    }
}
