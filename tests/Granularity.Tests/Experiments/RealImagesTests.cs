using Granularity.Core;
using Granularity.Data;
using Granularity.Experiments;
using Granularity.Runs;
using Granularity.Tests.Data;
using Granularity.Tests.Training;
using Xunit;

namespace Granularity.Tests.Experiments;

/// <summary>The real-image experiment: label sets, the verdict rule on inputs with known answers, and a tiny end-to-end run.</summary>
[Collection(TrainingCollection.Name)]
public sealed class RealImagesTests
{
    private static readonly Lazy<HierarchicalImageSet> SmallSubset1 = new(() =>
        HierarchicalImageSet.FromOmniglot(Omniglot.Load([Omniglot.CommittedSmallSubsets()[0]], imageSize: 12), "omniglot-small1"));

    [Fact]
    public void LabelSetsHaveTheirDefiningProperties()
    {
        var set = SmallSubset1.Value;
        var leaf = RealImageLabelSets.Build(set, "leaf", 0);
        Assert.Equal(136, leaf.Classes);
        Assert.Equal(0, leaf.AlignmentBits, 9); // the target is a coarsening of the leaf
        var nested = RealImageLabelSets.Build(set, "rand_nested", 0);
        Assert.Equal(136, nested.Classes);
        Assert.Equal(0, nested.AlignmentBits, 9);
        Assert.NotEqual(leaf.TrainLabels, nested.TrainLabels);
        var across = RealImageLabelSets.Build(set, "rand_across", 0);
        Assert.True(across.AlignmentBits > 1.5, $"random labels across 5 alphabets leave the alphabet uncertain, got {across.AlignmentBits} bits");
        var within = RealImageLabelSets.Build(set, "kmeans_within_4", 0);
        var acrossClusters = RealImageLabelSets.Build(set, "kmeans_across_4", 0);
        Assert.Equal(within.Classes, acrossClusters.Classes);
        Assert.InRange(within.Classes, 136 / 4, 136 / 4 + 5);
        Assert.Equal(0, within.AlignmentBits, 9);
        Assert.True(acrossClusters.AlignmentBits > within.AlignmentBits);
        var drawing = RealImageLabelSets.Build(set, "drawing", 0);
        Assert.Equal(14, drawing.Classes); // drawing numbers 1–14 are the training split
        var instance = RealImageLabelSets.Build(set, "instance", 0);
        Assert.Equal(set.Train.Length, instance.Classes);
        Assert.Equal(0, instance.AlignmentBits, 9);
        Assert.NotEqual(nested.TrainLabels, RealImageLabelSets.Build(set, "rand_nested", 1).TrainLabels);
        Assert.Throws<ArgumentException>(() => RealImageLabelSets.Build(set, "species", 0));
    }

    [Fact]
    public void VerdictRuleGivesTheKnownAnswers()
    {
        var strong = new PairedTest(OnlyAWrong: 10, OnlyBWrong: 60, PValue: 1e-6, "test");
        var weak = new PairedTest(OnlyAWrong: 30, OnlyBWrong: 34, PValue: 0.7, "test");
        Estimate Interval(double low, double high) => new((low + high) / 2, low, high, 5, "test");
        Assert.Equal(Verdict.Holds, RealImagesClaims.Decide(ClaimDirection.Lower, Interval(-0.05, -0.01), strong));
        Assert.Equal(Verdict.Inconclusive, RealImagesClaims.Decide(ClaimDirection.Lower, Interval(-0.05, -0.01), weak)); // the images disagree
        Assert.Equal(Verdict.Inconclusive, RealImagesClaims.Decide(ClaimDirection.Lower, Interval(-0.02, 0.01), strong));
        Assert.Equal(Verdict.DoesNotHold, RealImagesClaims.Decide(ClaimDirection.Lower, Interval(0.0, 0.03), weak));
        Assert.Equal(Verdict.Holds, RealImagesClaims.Decide(ClaimDirection.NotLower, Interval(-0.005, 0.02), weak));
        Assert.Equal(Verdict.Inconclusive, RealImagesClaims.Decide(ClaimDirection.NotLower, Interval(-0.03, 0.02), weak));
        Assert.Equal(Verdict.DoesNotHold, RealImagesClaims.Decide(ClaimDirection.NotLower, Interval(-0.05, -0.02), strong));

        // From raw numbers: arm A is 4 points better on every seed, and better image by image.
        double[] baseline = [0.30, 0.32, 0.28, 0.31, 0.29];
        var better = baseline.Select(e => e - 0.04).ToArray();
        var difference = Statistics.PairedBootstrap(better, baseline);
        Assert.Equal(-0.04, difference.Value, 9);
        Assert.True(difference.High < 0);
        var aCorrect = Enumerable.Range(0, 500).Select(i => i % 10 != 0).ToArray();   // 10% wrong
        var bCorrect = Enumerable.Range(0, 500).Select(i => i % 5 != 0).ToArray();    // 20% wrong, a superset of A's errors
        Assert.Equal(Verdict.Holds, RealImagesClaims.Decide(ClaimDirection.Lower, difference, Statistics.McNemar(aCorrect, bCorrect)));
        // The same numbers the other way round fail.
        Assert.Equal(Verdict.DoesNotHold, RealImagesClaims.Decide(ClaimDirection.Lower, Statistics.PairedBootstrap(baseline, better), Statistics.McNemar(bCorrect, aCorrect)));
    }

    [Fact]
    public void ConfigsValidateAndBadFieldsAreNamed()
    {
        RealImagesConfig.Quick().Validated();
        RealImagesConfig.Full().Validated();
        RealImagesConfig.FullCifar100().Validated();
        Assert.True(RealImagesConfig.Standard().Seeds.Count >= 5 && RealImagesConfig.Quick().Seeds.Count >= 3);
        void Bad(RealImagesConfig config, string field) => Assert.Contains($"RealImagesConfig.{field}", Assert.Throws<ArgumentException>(() => config.Validated()).Message);
        Bad(RealImagesConfig.Quick() with { Seeds = [0, 100] }, nameof(RealImagesConfig.ReferenceSeed));
        Bad(RealImagesConfig.FullCifar100() with { LabelSets = ["drawing"] }, nameof(RealImagesConfig.LabelSets));
        Bad(RealImagesConfig.Quick() with { LabelSets = ["target"] }, nameof(RealImagesConfig.LabelSets));
        Bad(RealImagesConfig.Quick() with { Readouts = [Readout.LinearProbe] }, nameof(RealImagesConfig.Readouts)); // the claims' readout is missing
    }

    [Fact]
    public void TinyRunSearchesTrainsEvaluatesAndResumes()
    {
        using var folder = new TempFolder();
        var config = new RealImagesConfig(
            Name: "tiny", Dataset: RealImageDataset.OmniglotSmall, Seeds: [0, 1],
            LabelSets: ["leaf", "kmeans_within_4", "kmeans_across_4", "rand_nested", "drawing", "instance"],
            Readouts: [Readout.LinearProbe, Readout.FineTuning, Readout.ProbeThenFineTuning],
            Schedules: [], ScheduleProvenance: "searched", Search: new ScheduleSearch([3], [3e-3], Seed: 7),
            ImageSize: 12, Width: 8, BatchSize: 128, TransferEpochs: 1, ProbeEpochs: 2,
            Channels: [8, 8, 8], Pool: Granularity.Training.Models.FeaturePool.Flatten, ShiftPixels: 1, ProbeThenFineTuningEpochs: 2);
        // 3 alphabets × 4 characters × 20 generated drawings: every code path in seconds.
        var zip = RealImageReaderTests.WriteZip(folder, "images_background_small1.zip",
            RealImageReaderTests.Drawings("Alpha", 4).Concat(RealImageReaderTests.Drawings("Beta", 4)).Concat(RealImageReaderTests.Drawings("Gamma", 4)));
        var set = HierarchicalImageSet.FromOmniglot(Omniglot.Load([zip], imageSize: 12), "tiny");
        var result = RealImages.Run(config, folder.Path, data: set);
        Assert.False(result.FromCache);
        Assert.Equal(7, result.Config.Schedules.Count);
        var searchCsv = result.Config.ScheduleProvenance.Split(": ")[1].Replace(" under the runs root", "");
        Assert.True(File.Exists(Path.Combine(folder.Path, searchCsv)), result.Config.ScheduleProvenance);
        // Per seed: the baseline, then per label set the mapped-up prediction and three readouts.
        Assert.Equal(2 * (1 + 6 * 4), result.Rows.Count);
        Assert.All(result.Rows, r =>
        {
            Assert.InRange(r.TestError, 0, 1);
            Assert.Equal(set.Test.Length, r.Correct.Length);
            Assert.Equal(r.TestError, r.Correct.Count(c => c == '0') / (double)r.Correct.Length, 9);
        });
        var hard = JsonFiles.Read<bool[]>(Path.Combine(result.Folder, "hardness-test.json"));
        Assert.Equal(set.Test.Length, hard.Length);
        Assert.InRange(hard.Count(h => h), 1, hard.Length - 1); // the lowest 20% by target probability (ties may add some)
        Assert.All(result.Rows, r => Assert.False(double.IsNaN(r.HardError) || double.IsNaN(r.EasyError)));
        var claims = RealImagesClaims.Claims(result);
        Assert.Equal(RealImagesClaims.Specs.Count, claims.Count);
        Assert.Equal(Verdict.NotTested, claims.Single(c => c.Id == "real.random-across-no-gain").Verdict); // rand_across did not run
        Assert.All(claims.Where(c => c.Id != "real.random-across-no-gain"), c => Assert.NotEqual(Verdict.NotTested, c.Verdict));
        Assert.Contains("| leaf | fine-tuning |", RealImagesTables.ArmsMarkdown(result));
        // The baseline's interval is a shaded band (an edge filled to the one before it), not two dotted lines.
        var chart = Plotly.NET.GenericChart.toChartHTML(Granularity.Plots.RealImagesCharts.ErrorVsClasses(result));
        Assert.Contains("\"fill\":\"tonexty\"", chart);
        Assert.Contains("baseline 95% interval", chart);
        Assert.DoesNotContain("\"dash\":\"dot\"", chart);

        // A second call reads the finished folder; a killed run resumes from the arms already saved.
        Assert.True(RealImages.Run(config, folder.Path, data: set).FromCache);
        var resumedConfig = config with { Name = "tiny-resume", Seeds = [0] };
        var first = RealImages.Run(resumedConfig with { Schedules = result.Config.Schedules }, folder.Path, data: set);
        File.Delete(Path.Combine(first.Folder, "summary.json"));
        File.Delete(Path.Combine(first.Folder, "arm-0-instance.json"));
        var resumed = RealImages.Run(resumedConfig with { Schedules = result.Config.Schedules }, folder.Path, data: set);
        // The killed arm, trained again, gives the same numbers image by image, and so does every arm read back.
        Assert.Equal(first.Rows.Select(r => (r.LabelSet, r.Readout, r.Correct)), resumed.Rows.Select(r => (r.LabelSet, r.Readout, r.Correct)));
    }
}

public class RealImagesSplitRunTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static RealImagesConfig Tiny(RealImageDataset dataset) => new(
        Name: "tiny-split", Dataset: dataset, Seeds: [0, 1], LabelSets: ["leaf", "rand_nested"],
        Readouts: [Readout.FineTuning], Schedules: [], ScheduleProvenance: "searched", Search: new ScheduleSearch([2], [3e-3], Seed: 7),
        ImageSize: 12, Width: 8, BatchSize: 128, TransferEpochs: 1, ProbeEpochs: 2);

    /// <summary>3 alphabets × 3 characters × 20 generated drawings in the official layout, as the two full-set zips.</summary>
    private static string WriteFullOmniglot(TempFolder folder)
    {
        Directory.CreateDirectory(folder.Combine("zips"));
        RealImageReaderTests.WriteZip(folder, Path.Combine("zips", Omniglot.Background), RealImageReaderTests.Drawings("Alpha", 3).Concat(RealImageReaderTests.Drawings("Beta", 3)));
        RealImageReaderTests.WriteZip(folder, Path.Combine("zips", Omniglot.Evaluation), RealImageReaderTests.Drawings("Gamma", 3));
        return folder.Path;
    }

    [Fact]
    public void ASplitRunPreparesTrainsSeedBySeedAndFinishesWithoutRetraining()
    {
        using var runs = new TempFolder("runs");
        using var data = new TempFolder("data");
        var dataRoot = WriteFullOmniglot(data);
        var config = Tiny(RealImageDataset.Omniglot);
        var early = Assert.Throws<InvalidOperationException>(() => RealImages.RunSeed(config, 0, runs.Path, dataRoot));
        Assert.Contains("--prepare", early.Message);

        var prepared = RealImages.Prepare(config, runs.Path, dataRoot);
        Assert.Equal(3, prepared.Schedules.Count);
        Assert.Throws<ArgumentException>(() => RealImages.RunSeed(config, 5, runs.Path, dataRoot));
        foreach (var seed in config.Seeds) RealImages.RunSeed(config, seed, runs.Path, dataRoot);
        var folder = new RunStore(runs.Path).FolderOf(RealImages.ExperimentName, prepared).Path;
        var arms = Directory.GetFiles(folder, "arm-*.json").ToDictionary(f => f, File.GetLastWriteTimeUtc);
        Assert.Equal(2 * 3, arms.Count);

        var result = RealImages.Run(config, runs.Path, dataRoot);
        Assert.False(result.FromCache);
        Assert.Equal(folder, result.Folder);
        Assert.All(arms, arm => Assert.Equal(arm.Value, File.GetLastWriteTimeUtc(arm.Key))); // read, not retrained
        Assert.Equal(2 * (1 + 2 * 2), result.Rows.Count); // per seed: the baseline; per label set mapped-up and fine-tuning
        Assert.True(RealImages.Run(config, runs.Path, dataRoot).FromCache);
    }

    [Fact]
    public void Cifar100RunsFromOneCommandOnFilesInTheOfficialBinaryLayout()
    {
        using var runs = new TempFolder("runs");
        using var data = new TempFolder("cifar");
        var tree = Cifar100.Tree();
        // Full-size train.bin (50,000) and test.bin (10,000), random pixels: the reader checks the official counts.
        var (coarse, fine, pixels) = RealImageReaderTests.CifarRecords(tree, perClass: 500, seed: 3);
        Cifar100.Write(data.Combine("train.bin"), coarse, fine, pixels);
        (coarse, fine, pixels) = RealImageReaderTests.CifarRecords(tree, perClass: 100, seed: 4);
        Cifar100.Write(data.Combine("test.bin"), coarse, fine, pixels);
        var configFile = runs.Combine("tiny-cifar.json");
        JsonFiles.Write(configFile, Tiny(RealImageDataset.Cifar100) with { Name = "tiny-cifar", Seeds = [0], LabelSets = ["leaf"], ImageSize = Cifar100.ImageSize, CifarTrainPerClass = 5 });
        var (code, printed, errors) = Cli.CliRunner.Run("experiment", "real-images", "--config", configFile, "--data", data.Path, "--runs", runs.Path);
        output.WriteLine(printed + errors);
        Assert.Equal(0, code);
        Assert.Contains("| leaf | fine-tuning |", printed);
        Assert.Contains("20", printed); // the superclass target
    }

    [SlurmFact]
    [Trait("Category", "Slurm")]
    public void ASlurmChainPreparesTrainsOneSeedPerTaskAndFinishes()
    {
        using var runs = new TempFolder("runs");
        using var data = new TempFolder("data");
        var dataRoot = WriteFullOmniglot(data);
        var configFile = runs.Combine("tiny.json");
        JsonFiles.Write(configFile, Tiny(RealImageDataset.Omniglot));
        var (code, printed, errors) = Cli.CliRunner.Run("experiment", "real-images", "--config", configFile, "--data", dataRoot, "--runs", runs.Path,
            "--slurm", "--cpus", "1", "--mem", "1500", "--wait", "--timeout-min", "10");
        output.WriteLine(printed + errors);
        Assert.Equal(0, code);
        var chain = Directory.GetDirectories(Path.Combine(runs.Path, "sweeps")).Single();
        Assert.Equal(["finish.sbatch", "prepare.sbatch", "seeds.sbatch"], Directory.GetFiles(chain, "*.sbatch").Select(Path.GetFileName).Order());
        Assert.Equal(1 + 2 + 1, Directory.GetFiles(chain, "slurm-*.out").Length);
        Assert.Contains("#SBATCH --array=0-1", File.ReadAllText(Path.Combine(chain, "seeds.sbatch")));
        Assert.Contains("| leaf | fine-tuning |", printed);
        Assert.NotNull(RealImages.TryLoad(Tiny(RealImageDataset.Omniglot), runs.Path));
    }
}
