using Granularity.Core;
using Granularity.Runs;
using Xunit;

namespace Granularity.Tests.Robustness;

/// <summary>A damaged summary.json (still valid JSON) is caught by its SHA-256, reported as unreadable and never served.</summary>
public sealed class RunFolderDamageTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("granularity-damaged-runs-");
    public void Dispose() => root.Delete(recursive: true);

    private sealed record ToyConfig(int Seed);
    private sealed record ToySummary(double Accuracy);

    [Fact]
    public void ABitFlippedSummaryIsUnreadableNotFresh()
    {
        var store = new RunStore(root.FullName);
        var config = new ToyConfig(1);
        var made = store.GetOrRun("toy", config, "Core", _ => new ToySummary(0.75));
        Assert.True(File.Exists(made.Folder.File(RunFolder.SummaryHashFile)));
        Assert.Equal(RunState.Fresh, store.TryRead<ToyConfig, ToySummary>("toy", config, ResultVersion.OfLayer("Core")).State);

        var text = File.ReadAllText(made.Folder.SummaryPath);
        File.WriteAllText(made.Folder.SummaryPath, text.Replace("0.75", "0.95")); // still valid JSON, different result
        var lookup = store.TryRead<ToyConfig, ToySummary>("toy", config, ResultVersion.OfLayer("Core"));
        Assert.Equal(RunState.Unreadable, lookup.State);
        Assert.Null(lookup.Summary);
        Assert.Contains("damaged", lookup.Reason);
        Assert.Contains(RunFolder.SummaryFile, lookup.Reason);
        Assert.Throws<InvalidDataException>(() => store.GetOrRun("toy", config, "Core", _ => new ToySummary(0.5)));
        Assert.Equal(RunState.Unreadable, Assert.Single(store.List()).State); // `runs list` says so; `runs prune` deletes it
        Assert.Single(store.Prune());
        Assert.False(Directory.Exists(made.Folder.Path));
    }
}
