using Granularity.Experiments;
using Granularity.Runs;
using Granularity.Tests.Data;
using Granularity.Training;
using Xunit;

namespace Granularity.Tests.Experiments;

/// <summary>Tiny end-to-end runs of both experiments on the stand-ins, and their tables read back from run folders.</summary>
public sealed class RealDataExperimentTests
{
    private static TrainingConfig TinyTemplate(string dataset, string target) => new(
        Protocol: "realdata-test",
        Dataset: new DatasetConfig(dataset, ImageSize: 16),
        Model: new ModelConfig(Architecture.SmallCnn, ImageSize: 16, SmallCnnWidth: 16),
        PretrainingLevel: "x", TargetLevel: target,
        Pretraining: new StageConfig(1, 16, OptimizerKind.Adam, 2e-3, LearningRateSchedule.Constant),
        Transfer: new StageConfig(1, 16, OptimizerKind.Adam, 1e-3, LearningRateSchedule.Constant),
        Baseline: new StageConfig(2, 16, OptimizerKind.Adam, 2e-3, LearningRateSchedule.Constant),
        TransferMode: TransferMode.FullFineTuning, Seed: 0);

    [Fact]
    public void Inat2021ExperimentRunsEveryKindOfCellAndReadsItsTableBackFromRunFolders()
    {
        using var folder = new TempFolder();
        const string dataset = "inat2021-standin-e2e-test";
        RealDatasets.AddInat2021StandIn(ExperimentDatasets.All, dataset, Inat2021StandInConfig.Tiny(), folder.Combine("inat"));
        var config = new Inat2021ExperimentConfig(TinyTemplate(dataset, "supercategory"), ["order", "species"], "genus", true, true, true, "baseline", [0]);
        var options = new TrainingOptions { RunsRoot = folder.Combine("runs"), TensorBoard = false };
        var table = Inat2021Experiment.Run(config, options);

        Assert.Equal([Inat2021Experiment.Baseline, Inat2021Experiment.Taxonomy, Inat2021Experiment.Taxonomy, Inat2021Experiment.Random,
            Inat2021Experiment.ClustersWithin, Inat2021Experiment.ClustersAcross, Inat2021Experiment.OnePerImage], table.Select(r => r.Kind));
        Assert.All(table, r => Assert.Equal(0, r.MissingSeeds));
        Assert.All(table, r => Assert.InRange(r.MedianError, 0, 1));
        Assert.Equal(0.0, table[0].RelativeImprovement!.Value, 12);
        using (var data = Inat2021Experiment.OpenData(config, 0))
        {
            Assert.Equal(data.ClassCountOf("species"), table.Single(r => r.PretrainingLevel == "species").Classes);
            Assert.Equal(data.ClassCountOf("genus"), table.Single(r => r.Kind == Inat2021Experiment.ClustersWithin).Classes);
            Assert.Equal(data.TrainImages.Count, table.Single(r => r.Kind == Inat2021Experiment.OnePerImage).Classes);
            // Our embeddings were written in the documented format, one row per training image.
            var embeddings = EmbeddingFile.Read(Path.Combine(data.EmbeddingsFolder, Inat2021Experiment.EmbeddingId(config) + ".npy"), data.TrainingFileNames());
            Assert.Equal(16, embeddings.Dimension);
        }

        // The table is rebuilt from the run folders alone, and each error is the one in the run's summary.
        var reread = Inat2021Experiment.Table(config, options.RunsRoot);
        Assert.Equal(table.Select(r => r.MedianError), reread.Select(r => r.MedianError));
        var species = TrainingRuns.LoadAll(options.RunsRoot).Single(r => r.Config.PretrainingLevel == "species");
        Assert.Equal(species.Summary.TargetSplit("val").Top1Error, reread.Single(r => r.PretrainingLevel == "species").MedianError);
        var baseline = reread[0].MedianError;
        Assert.Equal((baseline - reread[1].MedianError) / baseline, reread[1].RelativeImprovement!.Value, 12);

        // A cell whose run folder is gone is reported missing, not retrained.
        Directory.Delete(species.Folder.Path, recursive: true);
        var partial = Inat2021Experiment.Table(config, options.RunsRoot);
        Assert.Equal(1, partial.Single(r => r.PretrainingLevel == "species").MissingSeeds);
        Assert.True(double.IsNaN(partial.Single(r => r.PretrainingLevel == "species").MedianError));
        var comparison = Inat2021Experiment.PaperComparison(partial, standIn: true);
        Assert.Contains("8.76%", comparison[0].Paper);
        Assert.Contains("(stand-in)", comparison[1].Ours);
    }

    [Fact]
    public void ImageNetExperimentPretrainsOnImageNet21kLevelsAndFineTunesOnImageNet1k()
    {
        using var folder = new TempFolder();
        const string dataset = "imagenet-standin-e2e-test";
        RealDatasets.AddImageNetStandIn(ExperimentDatasets.All, dataset, ImageNetStandInConfig.Tiny(), folder.Combine("imagenet"));
        var config = new ImageNetExperimentConfig(TinyTemplate(dataset, "imagenet1k"), ["imagenet21k-leaf", "imagenet21k-up:3"], [0]);
        var levels = ImageNetExperiment.DatasetLevels(config);
        Assert.Equal(4, levels.Single(l => l.Level == "imagenet1k").Classes);
        Assert.Equal(8, levels.Single(l => l.Level == "imagenet21k-leaf").Classes);
        Assert.InRange(levels.Single(l => l.Level == "imagenet21k-up:3").Classes, 1, 8);

        var options = new TrainingOptions { RunsRoot = folder.Combine("runs"), TensorBoard = false };
        var rows = ImageNetExperiment.Run(config, options);
        Assert.Equal(["imagenet1k", "imagenet21k-leaf", "imagenet21k-up:3"], rows.Select(r => r.PretrainingLevel));
        Assert.True(rows[0].IsBaseline);
        Assert.All(rows, r => Assert.InRange(r.MedianTop1, 0, 100));
        var leaf = TrainingRuns.LoadAll(options.RunsRoot).Single(r => r.Config.PretrainingLevel == "imagenet21k-leaf");
        Assert.Equal(8, leaf.Summary.PretrainingClasses);
        Assert.Equal(4, leaf.Summary.TargetClasses);
        Assert.Equal("heldout", Assert.Single(leaf.Summary.PretrainedOwnLevel).Split);
        Assert.Equal(4 * ImageNetStandInConfig.Tiny().Val1kPerClass, leaf.Summary.TargetSplit("val").Count);
        Assert.Equal(rows.Select(r => r.MedianTop1), ImageNetExperiment.Table(config, options.RunsRoot).Select(r => r.MedianTop1));
    }

    [Fact]
    public void ImageNetLevelRulesNeverGiveThePapersThirtyEightClassesAtLevelNine()
    {
        var rows = ImageNetExperiment.LevelRules();
        Assert.Equal(21_843, rows[0].Classes);
        var level9 = rows.Where(r => r.Level.EndsWith("up:9")).ToList();
        Assert.Equal(3, level9.Count); // nltk-first-hypernym, pointer-order, shortest-path
        Assert.All(level9, r => Assert.NotEqual(38, r.Classes));
        Assert.Contains(ImageNetExperiment.PaperTable, p => p.Classes == 38 && p.Top1 == 72.75);
    }
}
