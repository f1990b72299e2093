using Granularity.Core;
using Granularity.Runs;
using Granularity.Theory;
using Xunit;
using static Granularity.Tests.Theory.TheoryTestSupport;

namespace Granularity.Tests.Theory;

public sealed class TheoryRunFolderTests
{
    public TheoryRunFolderTests() => EnsureNatives();

    [Fact]
    public void ARunIsWrittenOnceAndReadBackFromItsFolder()
    {
        var root = TemporaryFolder();
        var config = Small() with { Steps = 20, EvalEvery = 10 };
        var first = TheoryExperiment.GetOrRun(config, root);
        Assert.False(first.FromCache);
        foreach (var file in new[] { RunFolder.ConfigFile, RunFolder.MetricsFile, RunFolder.SummaryFile, TheoryExperiment.CoarseAlignmentFile, TheoryExperiment.FineAlignmentFile })
            Assert.True(File.Exists(first.Folder.File(file)), $"{file} missing");
        Assert.Empty(Directory.GetFiles(first.Folder.Path, "*.tmp"));

        var second = TheoryExperiment.GetOrRun(config, root);
        Assert.True(second.FromCache);
        Assert.Equal(first.Folder.Path, second.Folder.Path);
        Assert.Equal(first.Summary.Coarse, second.Summary.Coarse);
        Assert.Equal(first.Summary.Fine, second.Summary.Fine);

        var loaded = TheoryExperiment.Load(first.Folder.Path);
        Assert.Equal(config, loaded.Config);
        Assert.Equal(TheoryTrainer.MetricColumns, loaded.Metrics.Columns);
        Assert.Equal(3, loaded.Metrics.Rows.Count);
        var (features, values) = TheoryExperiment.ReadAlignment(loaded.Folder, LabelGranularity.Fine);
        Assert.Equal(config.FeatureCount, features.Count);
        Assert.Equal(config.Subclasses, values.GetLength(0));
        Assert.Equal(first.Summary.Fine!.FineAlignment,
            Enumerable.Range(0, config.Subclasses).Average(s => values[s, HierarchicalMultiViewData.FineFeatureRow(s)]), 5);

        var other = TheoryExperiment.GetOrRun(config with { Seed = 1 }, root);
        Assert.NotEqual(first.Folder.Path, other.Folder.Path);
    }

    [Fact]
    public void AnInterruptedRunIsNotReadAsFinishedAndIsRerun()
    {
        var root = TemporaryFolder();
        var config = Small() with { Steps = 10, EvalEvery = 5 };
        // What a killed run leaves: the manifest and config (written first), maybe metrics, never the summary.
        var folder = new RunStore(root).Open(TheoryExperiment.ExperimentName, config, ResultVersion.OfLayer("Theory"), Layers.Closure("Theory"));
        File.WriteAllText(folder.MetricsPath, "step,coarse_train_loss\n0,0.7\n");
        var error = Assert.Throws<InvalidDataException>(() => TheoryExperiment.Load(folder.Path));
        Assert.Contains("not a finished run", error.Message);

        var run = TheoryExperiment.GetOrRun(config, root);
        Assert.False(run.FromCache);
        Assert.Equal(TheoryTrainer.MetricColumns, run.Metrics.Columns);
    }

    [Fact]
    public void SweepsListEachConfigurationOnceAndSelectAxes()
    {
        var quick = TheorySweep.Quick();
        var configs = quick.Configs;
        Assert.Equal(configs.Count, configs.Distinct().Count());
        Assert.Equal(3 * 4 + 2 + 2 + 2, configs.Count);
        var full = TheorySweep.Full();
        Assert.All(full.Configs, c => Assert.True(c.Dimension >= 500));
        Assert.True(full.Seeds.Count >= 5);
        Assert.Contains(full.Configs, c => c.Dimension >= 1000 && c.SubclassesPerSuperclass == 16);

        var runs = configs.Select(c => new TheoryRun(new RunFolder("unused"), c, null!, true)).ToList();
        var alongK = TheorySweep.Along(runs, quick.Base, SweepAxis.Subclasses);
        Assert.Equal(12, alongK.Count);
        var alongNoise = TheorySweep.Along(runs, quick.Base, SweepAxis.Noise);
        Assert.Equal(new[] { 0.75, 1.5, 1.5, 1.5, 3.0 }, alongNoise.Select(r => r.Config.EffectiveNoiseNorm).OrderBy(n => n));
    }
}
