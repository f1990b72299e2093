using Granularity.Core;
using Granularity.Runs;
using Xunit;

namespace Granularity.Tests.Foundation;

public sealed class RunFolderTests : IDisposable
{
    private readonly DirectoryInfo root = Directory.CreateTempSubdirectory("granularity-runs-");
    public void Dispose() => root.Delete(recursive: true);

    private sealed record ToyConfig(int Seed, double LearningRate);
    private sealed record ToySummary(double Accuracy);

    [Fact]
    public void GetOrRunRunsOnceThenReadsTheCachedSummary()
    {
        var calls = 0;
        ToySummary Run(RunFolder folder)
        {
            calls++;
            var metrics = new MetricsTable(new[] { "step", "loss" });
            metrics.Add(0, 1.5);
            metrics.Add(1, 0.25);
            folder.WriteMetrics(metrics);
            return new ToySummary(0.75);
        }
        var config = new ToyConfig(3, 0.1);
        var first = RunCache.GetOrRun(root.FullName, "toy", config, Run);
        var second = RunCache.GetOrRun(root.FullName, "toy", config, Run);
        Assert.Equal(1, calls);
        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(0.75, second.Summary.Accuracy);
        Assert.Equal(first.Folder.Path, second.Folder.Path);
        Assert.Equal(new[] { 1.5, 0.25 }, second.Folder.ReadMetrics().Column("loss"));
        Assert.Equal(config, second.Folder.ReadConfig<ToyConfig>());
        Assert.Equal(RunCache.LibraryVersion, second.Folder.ReadManifest().LibraryVersion);

        var other = RunCache.GetOrRun(root.FullName, "toy", config with { Seed = 4 }, Run);
        Assert.Equal(2, calls);
        Assert.NotEqual(first.Folder.Path, other.Folder.Path);
    }

    [Fact]
    public void ARunKilledBeforeItsSummaryIsNotCompleteAndReruns()
    {
        var config = new ToyConfig(1, 0.1);
        Assert.Throws<InvalidOperationException>(() =>
            RunCache.GetOrRun<ToyConfig, ToySummary>(root.FullName, "toy", config, _ => throw new InvalidOperationException("killed")));
        var folder = RunFolder.For(root.FullName, "toy", config);
        Assert.False(folder.IsComplete);
        var rerun = RunCache.GetOrRun(root.FullName, "toy", config, _ => new ToySummary(0.5));
        Assert.False(rerun.FromCache);
        Assert.True(rerun.Folder.IsComplete);
    }

    [Fact]
    public void AFolderOfAnotherFormatVersionIsRefusedNotOverwritten()
    {
        var config = new ToyConfig(2, 0.1);
        var folder = RunFolder.For(root.FullName, "toy", config);
        var manifestPath = folder.File(RunFolder.ManifestFile);
        var manifest = folder.ReadManifest() with { FormatVersion = RunFolder.FormatVersion + 1 };
        JsonFiles.Write(manifestPath, manifest);
        var error = Assert.Throws<InvalidDataException>(() => RunFolder.For(root.FullName, "toy", config));
        Assert.Contains(manifestPath, error.Message);
        Assert.Equal(manifest, folder.ReadManifest());
    }

    [Fact]
    public void AtomicWritesLeaveNoTemporaryFilesAndReplaceContent()
    {
        var path = Path.Combine(root.FullName, "a", "file.txt");
        AtomicFile.WriteAllText(path, "first");
        AtomicFile.WriteAllText(path, "second");
        Assert.Equal("second", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
        Assert.Throws<IOException>(() => AtomicFile.Write(path, _ => throw new IOException("disk full")));
        Assert.Equal("second", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void MalformedMetricsAndJsonNameFileAndLine()
    {
        var csv = Path.Combine(root.FullName, "metrics.csv");
        File.WriteAllText(csv, "step,loss\n0,1.0\n1,abc\n");
        var error = Assert.Throws<InvalidDataException>(() => MetricsTable.Load(csv));
        Assert.Contains($"{csv}: line 3", error.Message);
        Assert.Contains("loss", error.Message);

        File.WriteAllText(csv, "step,loss\n0,1.0,2.0\n");
        Assert.Contains("line 2: expected 2 values, found 3", Assert.Throws<InvalidDataException>(() => MetricsTable.Load(csv)).Message);

        var json = Path.Combine(root.FullName, "summary.json");
        File.WriteAllText(json, "{\n \"accuracy\": 0.5,\n oops\n}");
        var jsonError = Assert.Throws<InvalidDataException>(() => JsonFiles.Read<ToySummary>(json));
        Assert.Contains(json, jsonError.Message);
        Assert.Contains("line 3", jsonError.Message);
    }

    [Fact]
    public void MetricsRowsMustMatchTheColumns()
    {
        var table = new MetricsTable(new[] { "a", "b" });
        Assert.Contains("needs 2 values", Assert.Throws<ArgumentException>(() => table.Add(1)).Message);
        Assert.Throws<ArgumentException>(() => new MetricsTable(new[] { "a", "a" }));
        Assert.Throws<KeyNotFoundException>(() => table.Column("c"));
    }
}
