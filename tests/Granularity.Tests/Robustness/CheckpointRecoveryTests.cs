using Granularity.Core;
using Granularity.Runs;
using Granularity.Tests.Training;
using Granularity.Training;
using TorchSharp;
using Xunit;

namespace Granularity.Tests.Robustness;

/// <summary>A tiny valid checkpoint for the parser properties.</summary>
internal static class CheckpointFixtures
{
    public static void WriteTiny(string path)
    {
        var model = new ModelConfig(Architecture.SmallCnn, ImageSize: 16, SmallCnnWidth: 4);
        using var classifier = model.Create(3);
        using var optimizer = torch.optim.SGD(classifier.parameters(), 0.1, 0.9);
        Checkpoint.Write(path, new CheckpointHeader(Checkpoint.FormatVersion, BuildInfo.LibraryVersion, nameof(TrainingConfig), "{}", model, false,
            classifier.FeatureCount, 3, new CheckpointLabels("leaf", 3, null), "pretraining", 1, 2, ["epoch", "train_loss"], [[1, 0.5]]), classifier, optimizer);
    }
}

/// <summary>A corrupt checkpoint (truncated, bit-flipped, another format version) is reported, never loaded; a resume falls back to the last good one.</summary>
public sealed class CheckpointRecoveryTests
{
    public static readonly TheoryData<string> Damages = new() { "truncated", "bit-flipped", "format-version" };

    private static void Damage(string path, string how)
    {
        var bytes = File.ReadAllBytes(path);
        switch (how)
        {
            case "truncated": bytes = bytes[..(bytes.Length * 2 / 3)]; break;
            case "bit-flipped": bytes[bytes.Length / 2] ^= 0x10; break;
            default: BitConverter.GetBytes(Checkpoint.FormatVersion + 1).CopyTo(bytes, 8); break;
        }
        File.WriteAllBytes(path, bytes);
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public void ADamagedNewestCheckpointIsSetAsideAndTheStageResumesFromThePreviousOne(string how)
    {
        var config = TrainingFixtures.Tiny(epochs: 3).PretrainingPart();
        var straight = TrainingEngine.Pretrain(config, TrainingFixtures.Options(TrainingFixtures.TemporaryRoot()));

        var root = TrainingFixtures.TemporaryRoot();
        var warnings = new List<string>();
        TrainingOptions Options(int? stop) => new() { RunsRoot = root, StopAfterEpochs = stop, TensorBoard = false, Warn = warnings.Add };
        Assert.Throws<TrainingInterruptedException>(() => TrainingEngine.Pretrain(config, Options(2))); // epochs 1 and 2 done
        var checkpoint = Directory.GetFiles(root, TrainingEngine.CheckpointFile, SearchOption.AllDirectories).Single();
        var previous = checkpoint + ".previous";
        Assert.True(File.Exists(previous), "the previous epoch's checkpoint is kept while the stage runs");
        Assert.Equal(2, Checkpoint.Read(checkpoint).Header.EpochsCompleted);
        Assert.Equal(1, Checkpoint.Read(previous).Header.EpochsCompleted);
        Damage(checkpoint, how);
        Assert.Throws<InvalidDataException>(() => Checkpoint.Read(checkpoint));

        var resumed = TrainingEngine.Pretrain(config, Options(null));
        var warning = Assert.Single(warnings);
        Assert.Contains(checkpoint, warning);
        Assert.Contains("resuming from the previous epoch's checkpoint", warning);
        Assert.True(File.Exists(checkpoint + ".corrupt"));
        Assert.False(File.Exists(previous));
        var a = straight.Folder.ReadMetrics();
        var b = resumed.Folder.ReadMetrics();
        foreach (var column in a.Columns.Where(c => c is not ("seconds" or "samples_per_second")))
            Assert.Equal(a.Column(column), b.Column(column));
    }

    [Fact]
    public void WithNoGoodCheckpointLeftTheStageRestartsAndSaysSo()
    {
        var config = TrainingFixtures.Tiny(epochs: 2).PretrainingPart();
        var root = TrainingFixtures.TemporaryRoot();
        var warnings = new List<string>();
        TrainingOptions Options(int? stop) => new() { RunsRoot = root, StopAfterEpochs = stop, TensorBoard = false, Warn = warnings.Add };
        Assert.Throws<TrainingInterruptedException>(() => TrainingEngine.Pretrain(config, Options(1)));
        var checkpoint = Directory.GetFiles(root, TrainingEngine.CheckpointFile, SearchOption.AllDirectories).Single();
        Assert.False(File.Exists(checkpoint + ".previous"));
        Damage(checkpoint, "bit-flipped");
        TrainingEngine.Pretrain(config, Options(null));
        Assert.Contains("no good checkpoint left, the stage restarts", Assert.Single(warnings));
    }
}
