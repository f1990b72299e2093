using Granularity.Core;
using Granularity.Data;
using Granularity.Experiments;
using Granularity.Tests.Training;
using Granularity.Training;
using Granularity.Training.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Granularity.Tests.Experiments;

/// <summary>The Standard real-image protocol: its body, shifts, configs, readouts on a known answer, the floor and the thread check.</summary>
[Collection(TrainingCollection.Name)]
public sealed class RealImagesStandardTests
{
    private static readonly Lazy<HierarchicalImageSet> SmallSubset1 = new(() =>
        HierarchicalImageSet.FromOmniglot(Omniglot.Load([Omniglot.CommittedSmallSubsets()[0]], imageSize: 12), "omniglot-small1"));

    [Fact]
    public void ShiftsMoveEachImageByItsOwnOffsetAndFillWithZeros()
    {
        using var scope = NewDisposeScope();
        var images = zeros(2, 1, 5, 5);
        images[0, 0, 2, 2] = tensor(1f);
        images[1, 0, 0, 0] = tensor(1f);
        var shifted = RandomShift.Apply(images, 2, [(1, -2), (2, 2)]);
        Assert.Equal(1f, shifted[0, 0, 3, 0].item<float>());   // down 1, left 2
        Assert.Equal(1f, shifted[1, 0, 2, 2].item<float>());   // down 2, right 2
        Assert.Equal(2f, shifted.sum().item<float>());          // nothing else, nothing duplicated
        var gone = RandomShift.Apply(images, 2, [(-2, 0), (-1, 0)]);
        Assert.Equal(1f, gone.sum().item<float>());             // image 1's pixel left the frame; the border is zeros
        Assert.Equal(images.sum().item<float>(), RandomShift.Apply(images, 0, [(0, 0), (0, 0)]).sum().item<float>());
        var offsets = RandomShift.Offsets(1000, 2, new Random(3));
        Assert.All(offsets, o => { Assert.InRange(o.Dy, -2, 2); Assert.InRange(o.Dx, -2, 2); });
        Assert.Equal(25, offsets.Distinct().Count());           // every offset of the 5 × 5 square occurs
        Assert.Throws<ArgumentException>(() => RandomShift.Apply(images, 1, [(2, 0), (0, 0)]));
        Assert.Throws<ArgumentException>(() => RandomShift.Apply(images, 1, [(0, 0)]));
    }

    [Fact]
    public void TheConvBodyPoolsAsConfiguredAndCountsItsCost()
    {
        using var scope = NewDisposeScope();
        using var images = rand(3, 1, 28, 28);
        foreach (var (pool, features) in new[] { (FeaturePool.GlobalMax, 32), (FeaturePool.GlobalAverage, 32), (FeaturePool.Flatten, 32 * 3 * 3) })
        {
            using var body = new ConvNetBody([16, 32, 32, 32], pool, 1, 28);
            Assert.Equal(features, body.FeatureCount);
            Assert.Equal(new long[] { 3, features }, body.call(images).shape);
        }
        Assert.Equal(3, ConvNetBody.MapSize(4, 28));   // 28 → 14 → 7 → 3
        Assert.Throws<ArgumentException>(() => new ConvNetBody([8, 8, 8, 8, 8], FeaturePool.GlobalMax, 1, 8)); // below 1 px
        Assert.Equal(28L * 28 * 1 * 16 * 9 + 14L * 14 * 16 * 32 * 9, ConvNetBody.MultiplyAccumulates([16, 32], 1, 28));
    }

    [Fact]
    public void StandardAndQuickShareOneProtocolAndBadFieldsAreNamed()
    {
        var standard = RealImagesConfig.Standard().Validated();
        var quick = RealImagesConfig.Quick().Validated();
        Assert.Equal(0.16, standard.CompetenceFloor);
        Assert.Equal(standard.Network().Channels, quick.Network().Channels);
        Assert.Equal((standard.Network().Pool, standard.Network().ShiftPixels), (quick.Network().Pool, quick.Network().ShiftPixels));
        Assert.Equal((standard.ImageSize, standard.TransferEpochs, standard.TransferLearningRateFactor, standard.ProbeThenFineTuningEpochs, standard.ProbeThenFineTuningLearningRateFactor),
            (quick.ImageSize, quick.TransferEpochs, quick.TransferLearningRateFactor, quick.ProbeThenFineTuningEpochs, quick.ProbeThenFineTuningLearningRateFactor));
        Assert.All(quick.Schedules, s => Assert.Equal(standard.ScheduleOf(s.LabelSet), s));
        Assert.True(quick.LabelSets.All(standard.LabelSets.Contains) && quick.Seeds.All(standard.Seeds.Contains));
        Assert.Contains(Readout.ProbeThenFineTuning, quick.Readouts);
        Assert.Equal(1, RealImagesConfig.StandardOneThread().Threads);
        Assert.NotEqual(Granularity.Runs.RunStore.ConfigKey("x", standard), Granularity.Runs.RunStore.ConfigKey("x", RealImagesConfig.StandardOneThread()));

        void Bad(RealImagesConfig config, string field) => Assert.Contains($"RealImagesConfig.{field}", Assert.Throws<ArgumentException>(() => config.Validated()).Message);
        Bad(standard with { Width = standard.Width + 1 }, nameof(RealImagesConfig.Channels)); // the last block's width and Width disagree
        Bad(standard with { ShiftPixels = standard.ImageSize }, nameof(RealImagesConfig.ShiftPixels));
        Bad(standard with { CompetenceFloor = 1.5 }, nameof(RealImagesConfig.CompetenceFloor));
        Bad(standard with { ProbeThenFineTuningEpochs = 1000 }, nameof(RealImagesConfig.ProbeThenFineTuningEpochs));
        Bad(standard with { Threads = -1 }, nameof(RealImagesConfig.Threads));

        void BadStudy(ProtocolStudyConfig config, string field) => Assert.Contains($"ProtocolStudyConfig.{field}", Assert.Throws<ArgumentException>(() => config.Validated()).Message);
        var study = ProtocolStudyConfig.Default().Validated();
        BadStudy(study with { Widths = [32, 64] }, nameof(ProtocolStudyConfig.Widths));              // no interior: every choice is on the edge
        BadStudy(study with { LearningRates = [4e-3, 2e-3, 1e-3] }, nameof(ProtocolStudyConfig.LearningRates));
        BadStudy(study with { MaxEpochs = 5 }, nameof(ProtocolStudyConfig.MaxEpochs));
    }

    /// <summary>A body whose features are the one-hot character of each image (looked up among every image of the set).</summary>
    private sealed class OneHotCharacterBody : nn.Module<Tensor, Tensor>, IFeatureBody
    {
        private readonly Tensor keys;
        private readonly Tensor oneHot;

        public OneHotCharacterBody(HierarchicalImageSet set) : base(nameof(OneHotCharacterBody))
        {
            var all = Enumerable.Range(0, set.Count).ToArray();
            keys = tensor(set.Gather(all), new long[] { set.Count, set.PixelsPerImage }).DetachFromDisposeScope();
            oneHot = nn.functional.one_hot(tensor(set.Leaf.Select(l => (long)l).ToArray()), set.LeafClasses).to(ScalarType.Float32).DetachFromDisposeScope();
            FeatureCount = set.LeafClasses;
        }

        public int FeatureCount { get; }

        public override Tensor forward(Tensor images)
        {
            using var scope = NewDisposeScope();
            var nearest = cdist(images.flatten(1), keys).argmin(1);
            return oneHot.index_select(0, nearest).MoveToOuterDisposeScope();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) { keys.Dispose(); oneHot.Dispose(); }
            base.Dispose(disposing);
        }
    }

    [Fact]
    public void OnOneHotCharacterFeaturesEveryReadoutFindsTheAlphabet()
    {
        // The known answer: an alphabet is a union of characters, so a linear head over one-hot characters can be exact.
        // If a readout misses here, the fault is in its code; if it only misses on learnt features, the limit is theirs.
        var set = SmallSubset1.Value;
        var config = RealImagesConfig.Quick() with { ImageSize = 12, ShiftPixels = 0, TransferEpochs = 10, TransferLearningRateFactor = 10, ProbeThenFineTuningEpochs = 1 }; // the lookup body knows unshifted images only
        using var trainer = new RealImageTrainer(set, config.Network(), config.BatchSize, body: () => new OneHotCharacterBody(set));
        using var model = trainer.NewModel(set.LeafClasses, seed: 0);
        var target = RealImageLabelSets.Build(set, RealImageLabelSets.Target, 0);
        var truth = trainer.TargetLabels("test");
        double Error(int[] predicted) => predicted.Where((p, i) => p != truth[i]).Count() / (double)truth.Length;
        foreach (var readout in new[] { Readout.LinearProbe, Readout.FineTuning, Readout.ProbeThenFineTuning })
        {
            var error = Error(RealImages.ReadOut(config, trainer, model, readout, target.TrainLabels, 2e-3, 0, "test"));
            Assert.True(error <= 0.01, $"{readout} on one-hot characters: test error {error:0.000}");
        }
        // Mapped up: the character's own alphabet, through a head that copies the one-hot feature into its logits.
        using (no_grad()) { model.Head.weight!.copy_(eye(set.LeafClasses)); model.Head.bias!.zero_(); }
        Assert.Equal(0, Error(trainer.Predict(model, "test").Select(p => set.TargetOfLeaf[p]).ToArray()));
    }

    private static RealImagesResult Result(RealImagesConfig config, double[] baseline, double[] leaf)
    {
        const int images = 100;
        string Correct(double error) => new(Enumerable.Range(0, images).Select(i => i < error * images ? '0' : '1').ToArray());
        var rows = baseline.Select((e, seed) => new RealImagesRow(seed, RealImageLabelSets.Target, ConditionGroup.Baseline, 5, 0, RealImages.BaselineReadout, e, e, e, Correct(e)))
            .Concat(leaf.Select((e, seed) => new RealImagesRow(seed, "leaf", ConditionGroup.Hierarchy, 136, 0, "fine-tuning", e, e, e, Correct(e)))).ToList();
        var summary = new RealImagesSummary(config.Name, 1000, 700, 100, images, 5, 136, 0, "test", config.Schedules, "test", 1, "test");
        return new RealImagesResult(config with { Seeds = Enumerable.Range(0, baseline.Length).ToArray(), LabelSets = ["leaf"] }, "folder", summary, rows, true);
    }

    [Fact]
    public void BelowTheCompetenceFloorNoClaimGetsAVerdict()
    {
        var config = RealImagesConfig.Standard();
        double[] strong = [0.12, 0.13, 0.14, 0.12, 0.15];
        double[] weak = [0.20, 0.22, 0.19, 0.21, 0.20];
        Claim Leaf(RealImagesResult r) => RealImagesClaims.Claims(r).Single(c => c.Id == "real.leaf-beats-baseline");
        var competent = Result(config, strong, strong.Select(e => e - 0.05).ToArray());
        Assert.Equal(Verdict.Holds, RealImagesClaims.Claims(competent).Single(c => c.Id == "real.competence-floor").Verdict);
        Assert.Equal(Verdict.Holds, Leaf(competent).Verdict);
        var incompetent = Result(config, weak, weak.Select(e => e - 0.05).ToArray());
        Assert.Equal(Verdict.DoesNotHold, RealImagesClaims.Claims(incompetent).Single(c => c.Id == "real.competence-floor").Verdict);
        Assert.Equal(Verdict.Inconclusive, Leaf(incompetent).Verdict);
        Assert.Contains("competence floor", Leaf(incompetent).Note);
        // Without a floor (Full on data of its own), the same numbers get their verdict.
        Assert.Equal(Verdict.Holds, Leaf(Result(config with { CompetenceFloor = null }, weak, weak.Select(e => e - 0.05).ToArray())).Verdict);

        // The thread check: a verdict that differs between the 1- and 2-thread runs is inconclusive.
        var flipped = Result(config, strong, strong.Select(e => e + 0.05).ToArray());
        var checkedClaims = RealImagesClaims.AcrossThreadCounts(RealImagesClaims.Claims(competent), RealImagesClaims.Claims(flipped), 2, 1);
        var leafChecked = checkedClaims.Single(c => c.Id == "real.leaf-beats-baseline");
        Assert.Equal(Verdict.Inconclusive, leafChecked.Verdict);
        Assert.Contains("with 2 threads but", leafChecked.Note);
        Assert.Equal(Verdict.Holds, checkedClaims.Single(c => c.Id == "real.competence-floor").Verdict); // the same in both: unchanged
    }

    [Fact]
    public void ATinyProtocolStudyChoosesInsideItsGridsWritesItsTablesAndResumes()
    {
        using var folder = new TempFolder("protocol");
        var config = new ProtocolStudyConfig(
            Start: new ProtocolPoint(10, 2, 6, FeaturePool.GlobalMax, 1, 3e-3),
            ImageSizes: [8, 10, 12], BlockCounts: [2, 3], Widths: [4, 6, 8], Pools: [FeaturePool.GlobalMax, FeaturePool.Flatten],
            Shifts: [0, 1, 2], LearningRates: [1e-3, 3e-3, 1e-2], Seeds: [1000], MaxEpochs: 6,
            TransferEpochGrid: [1, 2, 3], FineTuningFactors: [0.1, 0.3, 1], ProbeThenFineTuningFactors: [0.03, 0.1, 0.3], SmoothingWindow: 1, MaxExtensions: 1);
        var (summary, path) = RealImageProtocolStudy.Run(config, folder.Path);
        Assert.True(File.Exists(Path.Combine(path, "protocol-study.csv")) && File.Exists(Path.Combine(path, "readout-budgets.csv")));
        foreach (var stage in new[] { "image_size", "blocks", "width", "pool", "shift", "learning_rate" })
        {
            var cells = summary.Cells.Where(c => c.Stage == stage).ToList();
            Assert.Single(cells, c => c.Chosen);
            var chosen = cells.Single(c => c.Chosen);
            // The winner has the best score, or costs less and is within the margin of it.
            Assert.True(chosen.Score <= cells.Min(c => c.Score) + config.EquivalenceMargin, stage);
            Assert.All(cells, c => Assert.InRange(c.Score, 0, 1));
        }
        // A numeric winner on its grid's edge either extended the grid or says so.
        var width = summary.Cells.Where(c => c.Stage == "width").Select(c => c.Point.Width).Order().ToList();
        if (summary.Chosen.Width == width[0] || summary.Chosen.Width == width[^1]) Assert.Contains(summary.Notes, n => n.StartsWith("width"));
        if (width.Count > 3) Assert.Contains(summary.Notes, n => n.StartsWith("width: ") && n.Contains("extended"));
        Assert.InRange(summary.Epochs, 4, 9);
        Assert.Contains(summary.Readouts, r => r.Readout == "fine-tuning" && r.TransferEpochs == summary.FineTuningEpochs && r.LearningRateFactor == summary.FineTuningFactor);
        var standard = RealImageProtocolStudy.StandardFrom(summary.Chosen, summary.Epochs, summary.FineTuningEpochs, summary.FineTuningFactor,
            summary.ProbeThenFineTuningEpochs, summary.ProbeThenFineTuningFactor, [0]).Validated();
        Assert.Equal(summary.Chosen.Channels(), standard.Network().Channels);

        // Killed before its summary: the rerun reads every saved cell and reaches the same choice.
        File.Delete(Path.Combine(path, "summary.json"));
        var (again, againPath) = RealImageProtocolStudy.Run(config, folder.Path);
        Assert.Equal(path, againPath);
        Assert.Equal(summary.Chosen, again.Chosen);
        Assert.Equal(summary.Cells.Select(c => c.Score), again.Cells.Select(c => c.Score));
        Assert.Equal(summary.Readouts, again.Readouts);
    }
}
