using Granularity.Core;
using Granularity.Runs;
using Xunit;

namespace Granularity.Tests.Runs;

public sealed class RunStoreTests : IDisposable
{
    private readonly TempFolder root = new("runs");
    public void Dispose() => root.Dispose();

    private sealed record ToyConfig(int Seed, double LearningRate);
    private sealed record ToySummary(double Accuracy);

    private static ToySummary Run(RunFolder folder)
    {
        var metrics = new MetricsTable(new[] { "step", "loss" });
        metrics.Add(0, 1.5);
        metrics.Add(1, 0.25);
        folder.WriteMetrics(metrics);
        return new ToySummary(0.75);
    }

    [Fact]
    public void GetOrRunRunsOnceThenServesTheStoredSummary()
    {
        var calls = 0;
        var store = new RunStore(root.Path);
        var config = new ToyConfig(3, 0.1);
        var first = store.GetOrRun("toy", config, "Core", f => { calls++; return Run(f); });
        var second = store.GetOrRun("toy", config, "Core", f => { calls++; return Run(f); });
        Assert.Equal(1, calls);
        Assert.False(first.FromStore);
        Assert.True(second.FromStore);
        Assert.Equal(0.75, second.Summary.Accuracy);
        Assert.Equal(first.Folder.Path, second.Folder.Path);
        Assert.Equal(new[] { 1.5, 0.25 }, second.Folder.ReadMetrics().Column("loss"));
        Assert.Equal(config, second.Folder.ReadConfig<ToyConfig>());
        Assert.Equal(ResultVersion.OfLayer("Core"), second.Folder.ReadManifest().ResultVersion);

        var other = store.GetOrRun("toy", config with { Seed = 4 }, "Core", f => { calls++; return Run(f); });
        Assert.Equal(2, calls);
        Assert.NotEqual(first.Folder.Path, other.Folder.Path);
    }

    [Fact]
    public void TryReadHasNoSideEffects()
    {
        var store = new RunStore(Path.Combine(root.Path, "never-made"));
        var lookup = store.TryRead<ToyConfig, ToySummary>("toy", new ToyConfig(1, 0.1), ResultVersion.OfLayer("Core"));
        Assert.Equal(RunState.Missing, lookup.State);
        Assert.False(Directory.Exists(store.Root));
    }

    [Fact]
    public void ARunMadeByOtherCodeIsStaleIsNeverServedAndIsReplaced()
    {
        var store = new RunStore(root.Path);
        var config = new ToyConfig(5, 0.1);
        var made = store.GetOrRun("toy", config, "Core", Run);
        var manifestPath = made.Folder.File(RunFolder.ManifestFile);
        JsonFiles.Write(manifestPath, made.Folder.ReadManifest() with { ResultVersion = "0123456789abcdef" });

        var lookup = store.TryRead<ToyConfig, ToySummary>("toy", config, ResultVersion.OfLayer("Core"));
        Assert.Equal(RunState.Stale, lookup.State);
        Assert.Null(lookup.Summary);
        Assert.Contains("0123456789abcdef", lookup.Reason);
        Assert.Contains(store.List(), r => r.Folder.Path == made.Folder.Path && r.State == RunState.Stale);
        Assert.Throws<MissingRunsException>(() => store.GetOrRun("toy", config, "Core", Run, RunPolicy.ReadOnly(root.Path)));

        var logged = new List<string>();
        var rerun = store.GetOrRun("toy", config, "Core", _ => new ToySummary(0.5), new RunPolicy(root.Path) { Log = logged.Add });
        Assert.False(rerun.FromStore);
        Assert.Equal(0.5, rerun.Summary.Accuracy);
        Assert.Contains(logged, line => line.Contains("stale"));
        Assert.False(File.Exists(rerun.Folder.MetricsPath)); // the stale run's files went with it
        Assert.Equal(RunState.Fresh, store.TryRead<ToyConfig, ToySummary>("toy", config, ResultVersion.OfLayer("Core")).State);
    }

    [Fact]
    public void PruneDeletesStaleRunsAndKeepsFreshOnes()
    {
        var store = new RunStore(root.Path);
        var fresh = store.GetOrRun("toy", new ToyConfig(1, 0.1), "Core", Run);
        var stale = store.GetOrRun("toy", new ToyConfig(2, 0.1), "Core", Run);
        JsonFiles.Write(stale.Folder.File(RunFolder.ManifestFile), stale.Folder.ReadManifest() with { ResultVersion = "stale" });
        var pruned = store.Prune();
        Assert.Equal([stale.Folder.Path], pruned.Select(p => p.Folder.Path));
        Assert.False(Directory.Exists(stale.Folder.Path));
        Assert.True(fresh.Folder.IsComplete);
    }

    [Fact]
    public void TheRunsCommandListsStaleRunsAndPrunesThem()
    {
        var store = new RunStore(root.Path);
        var fresh = store.GetOrRun("toy", new ToyConfig(1, 0.1), "Core", Run);
        var stale = store.GetOrRun("toy", new ToyConfig(2, 0.1), "Core", Run);
        JsonFiles.Write(stale.Folder.File(RunFolder.ManifestFile), stale.Folder.ReadManifest() with { ResultVersion = "older-code" });

        var (code, output, _) = Cli.CliRunner.Run("runs", "list", "--runs", root.Path);
        Assert.Equal(0, code);
        Assert.Matches(@"stale\s+toy", output);
        Assert.Matches(@"fresh\s+toy", output);
        Assert.Contains("older-code", output);

        (code, output, _) = Cli.CliRunner.Run("runs", "prune", "--runs", root.Path);
        Assert.Equal(0, code);
        Assert.Contains("1 run folder(s) deleted", output);
        Assert.False(Directory.Exists(stale.Folder.Path));
        Assert.True(fresh.Folder.IsComplete);
    }

    [Fact]
    public void ARunKilledBeforeItsSummaryIsIncompleteAndResumes()
    {
        var store = new RunStore(root.Path);
        var config = new ToyConfig(1, 0.1);
        Assert.Throws<InvalidOperationException>(() =>
            store.GetOrRun<ToyConfig, ToySummary>("toy", config, "Core", f =>
            {
                AtomicFile.WriteAllText(f.File("checkpoint.txt"), "epoch 3");
                throw new InvalidOperationException("killed");
            }));
        Assert.Equal(RunState.Incomplete, store.TryRead<ToyConfig, ToySummary>("toy", config, ResultVersion.OfLayer("Core")).State);
        var rerun = store.GetOrRun("toy", config, "Core", f => new ToySummary(File.ReadAllText(f.File("checkpoint.txt")) == "epoch 3" ? 0.5 : 0));
        Assert.False(rerun.FromStore);
        Assert.Equal(0.5, rerun.Summary.Accuracy);
    }

    [Fact]
    public void AFolderOfAnotherFormatIsReportedAndNotOverwritten()
    {
        var store = new RunStore(root.Path);
        var config = new ToyConfig(2, 0.1);
        var folder = store.Open("toy", config, ResultVersion.OfLayer("Core"), Layers.Closure("Core"));
        var manifestPath = folder.File(RunFolder.ManifestFile);
        var manifest = folder.ReadManifest() with { FormatVersion = RunFolder.FormatVersion + 1 };
        JsonFiles.Write(manifestPath, manifest);
        Assert.Equal(RunState.Unreadable, store.TryRead<ToyConfig, ToySummary>("toy", config, ResultVersion.OfLayer("Core")).State);
        var error = Assert.Throws<InvalidDataException>(() => store.GetOrRun("toy", config, "Core", Run));
        Assert.Contains(manifestPath, error.Message);
        Assert.Equal(JsonFiles.Serialize(manifest), JsonFiles.Serialize(folder.ReadManifest()));
    }
}

public sealed class ResultVersionTests
{
    private static string LibrarySource => Path.Combine(ProjectPaths.RepositoryRoot, "lib", "Granularity");

    [Fact]
    public void TheEmbeddedFingerprintIsTheCurrentSourceTree()
    {
        var onDisk = Directory.EnumerateFiles(LibrarySource, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(LibrarySource, f).Replace('\\', '/').StartsWith("obj/") && !f.Contains("/bin/"))
            .ToDictionary(f => Path.GetRelativePath(LibrarySource, f).Replace('\\', '/'), ResultVersion.HashFile);
        onDisk["Core/ElfVersionNeedPatcher.cs"] = ResultVersion.HashFile(Path.Combine(ProjectPaths.RepositoryRoot, "eng", "ElfVersionNeedPatcher.cs"));
        var embedded = ResultVersion.Sources.ToDictionary(s => s.Path, s => s.Sha256.ToLowerInvariant());
        Assert.Equal(onDisk.Keys.Order(), embedded.Keys.Order());
        foreach (var (path, hash) in onDisk) Assert.True(hash == embedded[path], $"{path}: the build embedded an older hash; rebuild");
    }

    [Fact]
    public void ChangingOneLineInALayerChangesTheVersionOfEveryResultThatReachesIt()
    {
        var sources = ResultVersion.Sources;
        var theoryFile = sources.First(s => s.Layer == "Theory");
        var edited = sources.Select(s => s == theoryFile ? s with { Sha256 = new string('0', 64) } : s).ToList();

        Assert.NotEqual(ResultVersion.Compute(sources, Layers.Closure("Theory")), ResultVersion.Compute(edited, Layers.Closure("Theory")));
        Assert.NotEqual(ResultVersion.Compute(sources, Layers.Closure("Plots")), ResultVersion.Compute(edited, Layers.Closure("Plots")));
        // Layers that cannot reach Theory keep their version: their runs stay fresh.
        Assert.Equal(ResultVersion.Compute(sources, Layers.Closure("Training")), ResultVersion.Compute(edited, Layers.Closure("Training")));
        Assert.Equal(ResultVersion.Compute(sources, Layers.Closure("Hierarchy")), ResultVersion.Compute(edited, Layers.Closure("Hierarchy")));
    }

    [Fact]
    public void ARunOfAnEditedLayerIsStaleInTheStore()
    {
        using var root = new TempFolder("version");
        {
            var store = new RunStore(root.Path);
            var config = new { Seed = 1 };
            store.GetOrRun("toy", config, "Theory", _ => new { Done = true });
            var sources = ResultVersion.Sources;
            var edited = sources.Select(s => s.Layer == "Theory" && s == sources.First(f => f.Layer == "Theory") ? s with { Sha256 = "edited" } : s);
            var versionAfterEdit = ResultVersion.Compute(edited, Layers.Closure("Theory"));
            Assert.Equal(RunState.Stale, store.TryRead<object, object>("toy", config, versionAfterEdit).State);
            Assert.Equal(RunState.Fresh, store.TryRead<object, object>("toy", config, ResultVersion.OfLayer("Theory")).State);
        }
    }

    [Fact]
    public void ClosureFollowsTheAllowedArrows()
    {
        Assert.Equal(["Core"], Layers.Closure("Core"));
        Assert.Equal(["Core", "Runs", "Theory"], Layers.Closure("Theory"));
        Assert.Equal(["Core", "Data", "Hierarchy", "Runs", "Training"], Layers.Closure("Training"));
        Assert.Throws<ArgumentException>(() => Layers.Closure("Nowhere"));
    }
}
