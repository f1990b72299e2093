using Granularity.Core;
using Granularity.Runs;
using Granularity.Training;
using Xunit;

namespace Granularity.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class TrainingBadInputTests
{
    [Fact]
    public void ALevelTheHierarchyLacksIsAClearErrorAndWritesNothing()
    {
        var root = TrainingFixtures.TemporaryRoot();
        var error = Assert.Throws<ArgumentException>(() => TrainingEngine.Run(TrainingFixtures.Tiny("genus"), TrainingFixtures.Options(root)));
        Assert.Contains("'genus'", error.Message);
        Assert.Contains("coarse, mid, leaf", error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(root));
    }

    [Fact]
    public void ConfigValidationNamesTheField()
    {
        var error = Assert.Throws<ArgumentException>(() => (TrainingFixtures.Tiny() with { Transfer = new StageConfig(2, 32, OptimizerKind.Sgd, -1) }).Validated());
        Assert.Contains("Transfer.LearningRate", error.Message);
    }

    [Fact]
    public void TruncatedDamagedOrForeignCheckpointsAreClearErrors()
    {
        var root = TrainingFixtures.TemporaryRoot();
        var result = TrainingEngine.Pretrain(TrainingFixtures.Tiny(epochs: 1).PretrainingPart(), TrainingFixtures.Options(root));
        var good = File.ReadAllBytes(result.Folder.File(TrainingEngine.CheckpointFile));

        var truncated = Path.Combine(root, "truncated.ckpt");
        File.WriteAllBytes(truncated, good[..(good.Length / 2)]);
        Assert.Contains("truncated or damaged", Assert.Throws<InvalidDataException>(() => Checkpoint.Read(truncated)).Message);

        var damaged = Path.Combine(root, "damaged.ckpt");
        var flipped = (byte[])good.Clone();
        flipped[good.Length / 2] ^= 0xFF;
        File.WriteAllBytes(damaged, flipped);
        Assert.Contains("checksum", Assert.Throws<InvalidDataException>(() => Checkpoint.Read(damaged)).Message);

        var foreign = Path.Combine(root, "foreign.ckpt");
        File.WriteAllText(foreign, "not a checkpoint at all, just some text that is long enough to pass the length check");
        Assert.Contains("not a Granularity checkpoint", Assert.Throws<InvalidDataException>(() => Checkpoint.Read(foreign)).Message);

        var newer = Path.Combine(root, "newer.ckpt");
        var versioned = (byte[])good.Clone();
        BitConverter.GetBytes(Checkpoint.FormatVersion + 1).CopyTo(versioned, 8);
        File.WriteAllBytes(newer, versioned);
        Assert.Contains($"format {Checkpoint.FormatVersion + 1}", Assert.Throws<InvalidDataException>(() => Checkpoint.Read(newer)).Message);

        Assert.IsType<FileNotFoundException>(Assert.ThrowsAny<IOException>(() => Checkpoint.Read(Path.Combine(root, "missing.ckpt"))));
    }

    [Fact]
    public void ALabelMapThatDoesNotFitTheHeadIsAClearError()
    {
        var root = TrainingFixtures.TemporaryRoot();
        var config = TrainingFixtures.Tiny(epochs: 1);
        var result = TrainingEngine.Pretrain(config.PretrainingPart(), TrainingFixtures.Options(root));
        var checkpoint = result.Folder.File(TrainingEngine.CheckpointFile);
        var error = Assert.Throws<InvalidDataException>(() => TrainingEngine.Evaluate(checkpoint, config.Dataset, "mid", config.Seed));
        Assert.Contains("16 outputs for level 'leaf'", error.Message);
        Assert.Contains("'mid' with 8 classes", error.Message);
        var shuffled = Checkpoint.Read(checkpoint);
        var map = Granularity.Hierarchy.LabelMap.Numbered("leaf", Enumerable.Range(0, 16).Reverse().ToArray(), 16);
        Assert.Contains("maps leaves to classes differently", Assert.Throws<InvalidDataException>(() => shuffled.RequireLabels(map)).Message);
        // The matching level evaluates.
        Assert.Equal(2, TrainingEngine.Evaluate(checkpoint, config.Dataset, "leaf", config.Seed).Count);
    }

    [Fact]
    public void ARunFolderFromAnIncompatibleVersionIsAClearErrorAndIsNotOverwritten()
    {
        var root = TrainingFixtures.TemporaryRoot();
        var config = TrainingFixtures.Tiny(epochs: 1).PretrainingPart();
        var key = RunStore.ConfigKey(TrainingEngine.PretrainingExperiment, config);
        var folder = Path.Combine(root, TrainingEngine.PretrainingExperiment, key);
        JsonFiles.Write(Path.Combine(folder, RunFolder.ManifestFile), new RunManifest(TrainingEngine.PretrainingExperiment, key, TrainingEngine.Version, TrainingEngine.VersionLayers.ToArray(), RunFolder.FormatVersion + 7, typeof(PretrainingConfig).FullName!));
        File.WriteAllText(Path.Combine(folder, TrainingEngine.CheckpointFile), "old");
        var before = TrainingFixtures.Snapshot(root);
        var error = Assert.Throws<InvalidDataException>(() => TrainingEngine.Pretrain(config, TrainingFixtures.Options(root)));
        Assert.Contains($"format {RunFolder.FormatVersion + 7}", error.Message);
        var after = TrainingFixtures.Snapshot(root);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (file, bytes) in before) Assert.Equal(bytes, after[file]);
    }

    [Fact]
    public void ACheckpointOfAnotherConfigIsNotResumedOrOverwritten()
    {
        var root = TrainingFixtures.TemporaryRoot();
        var first = TrainingEngine.Pretrain(TrainingFixtures.Tiny(epochs: 1).PretrainingPart(), TrainingFixtures.Options(root));
        var other = TrainingFixtures.Tiny(epochs: 2).PretrainingPart();
        var otherFolder = new RunStore(root).Open(TrainingEngine.PretrainingExperiment, other, TrainingEngine.Version, TrainingEngine.VersionLayers);
        File.Copy(first.Folder.File(TrainingEngine.CheckpointFile), otherFolder.File(TrainingEngine.CheckpointFile));
        var before = File.ReadAllBytes(otherFolder.File(TrainingEngine.CheckpointFile));
        var error = Assert.Throws<InvalidDataException>(() => TrainingEngine.Pretrain(other, TrainingFixtures.Options(root)));
        Assert.Contains("another configuration", error.Message);
        Assert.Equal(before, File.ReadAllBytes(otherFolder.File(TrainingEngine.CheckpointFile)));
    }
}
