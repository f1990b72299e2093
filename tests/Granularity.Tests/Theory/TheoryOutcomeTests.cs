using Granularity.Theory;
using Xunit;
using static Granularity.Tests.Theory.TheoryTestSupport;

namespace Granularity.Tests.Theory;

/// <summary>The theorems' qualitative outcome, end to end, on a Quick-sized configuration over several seeds.</summary>
public sealed class TheoryOutcomeTests
{
    public TheoryOutcomeTests() => EnsureNatives();

    [Fact]
    public void CoarseTrainingFailsOnHardSamplesWhereFineTrainingSucceeds()
    {
        var root = TemporaryFolder();
        var runs = new[] { 0, 1, 2 }
            .Select(seed => TheoryExperiment.GetOrRun(TheoryConfig.Quick() with { Steps = 300, EvalEvery = 100, Seed = seed }, root))
            .ToList();
        foreach (var run in runs)
        {
            var (coarse, fine, transfer) = (run.Summary.Coarse, run.Summary.Fine!, run.Summary.Transfer!);
            // Theorem 1: coarse training reaches ~0 error on easy samples …
            Assert.True(coarse.EasyAccuracy >= 0.98, $"{run.Config.Label}: coarse easy {coarse.EasyAccuracy}");
            // … but a constant error on hard samples.
            Assert.InRange(coarse.HardAccuracy, 0.5, 0.85);
            // Theorem 2: fine training gets ~0 error on both, through the superclass of its predicted subclass.
            Assert.True(fine.EasyAccuracy >= 0.98, $"{run.Config.Label}: fine easy {fine.EasyAccuracy}");
            Assert.True(fine.HardAccuracy >= 0.95, $"{run.Config.Label}: fine hard {fine.HardAccuracy}");
            Assert.True(fine.HardAccuracy - coarse.HardAccuracy >= 0.15);
            // The mechanism: the fine model's neurons align with the fine features, the coarse model's hardly.
            Assert.True(fine.FineAlignment > 3 * coarse.FineAlignment);
            // Transfer (Theorem 2): a coarse head on the fine model's frozen features, trained on easy samples only,
            // and fine-tuning the first layer with it, keep the hard-sample advantage on the large final test set.
            Assert.True(transfer.LinearProbe.HardError < run.Summary.CoarseErrors.HardError - 0.1, $"probe {transfer.LinearProbe.HardError} vs coarse {run.Summary.CoarseErrors.HardError}");
            Assert.True(transfer.FineTuned.HardError < run.Summary.CoarseErrors.HardError - 0.1, $"fine-tuned {transfer.FineTuned.HardError} vs coarse {run.Summary.CoarseErrors.HardError}");
            Assert.True(transfer.LinearProbe.EasyError < 0.05 && transfer.FineTuned.EasyError < 0.05);
            // The network's own coarse form of the fine model, before and after coarse SGD on easy samples, keeps it too.
            foreach (var (name, errors) in transfer.Named)
            {
                Assert.True(errors.HardError < run.Summary.CoarseErrors.HardError - 0.1, $"{name} {errors.HardError} vs coarse {run.Summary.CoarseErrors.HardError}");
                Assert.True(errors.EasyError < 0.05, $"{name} easy {errors.EasyError}");
            }
        }
    }
}
