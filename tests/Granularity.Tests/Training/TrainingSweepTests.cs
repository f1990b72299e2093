using Granularity.Core;
using System.Diagnostics;
using Granularity.Runs;
using Granularity.Training;
using Xunit;
using Xunit.Abstractions;

namespace Granularity.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class TrainingSweepTests(ITestOutputHelper output)
{
    [Fact]
    public void AQuickSweepOfTwoLevelsWritesRunFoldersTheReaderLoads()
    {
        var root = TrainingFixtures.TemporaryRoot();
        var sweep = Sweeps.Grid("tiny", ["coarse", "leaf"], [0], (level, seed) => TrainingFixtures.Tiny(level, seed));
        var results = Sweeps.RunLocally(sweep, TrainingFixtures.Options(root));
        Assert.Equal(2, results.Count);
        var views = TrainingRuns.LoadAll(root);
        Assert.Equal(2, views.Count);
        var baseline = views.Single(v => v.Summary.IsBaseline);
        var leaf = views.Single(v => v.Config.PretrainingLevel == "leaf");
        Assert.Equal(("coarse", 4), (baseline.Summary.TargetLevel, baseline.Summary.TargetClasses));
        Assert.Equal(16, leaf.Summary.PretrainingClasses);
        Assert.Equal(["easy", "hard"], leaf.Summary.Target.Select(t => t.Split));
        var hard = leaf.Samples("hard");
        Assert.Equal(128, hard.Labels.Length);
        var error = hard.Labels.Where((_, i) => !hard.Top1Correct(i)).Count() / 128.0;
        Assert.Equal(leaf.Summary.TargetSplit("hard").Top1Error, error, 12);
        Assert.Equal(Sweeps.Results(sweep, root).Select(r => r!.Folder.Path), results.Select(r => r.Folder.Path));
    }

    [SlurmFact]
    [Trait("Category", "Slurm")]
    public void ASlurmSweepThroughSbatchLandsInRunFolders()
    {
        var root = TrainingFixtures.TemporaryRoot();
        var configFile = Path.Combine(root, "tiny.json");
        JsonFiles.Write(configFile, TrainingFixtures.Tiny());
        var (code, printed, errors) = Cli.CliRunner.Run("sweep", "--config", configFile, "--levels", "coarse,leaf", "--name", "slurm-test", "--slurm", "--wait",
            "--mem", "400", "--timeout-min", "5", "--runs", root);
        output.WriteLine(printed + errors);
        Assert.Equal(0, code);
        var sweepFolder = Directory.GetDirectories(Path.Combine(root, "sweeps")).Single();
        Assert.True(File.Exists(Path.Combine(sweepFolder, Sweeps.ScriptFile)));
        Assert.Equal(2, Directory.GetFiles(sweepFolder, "slurm-*.out").Length);
        var views = TrainingRuns.LoadAll(root);
        Assert.Equal(["coarse", "leaf"], views.Select(v => v.Config.PretrainingLevel).Order());
    }

    internal static bool SlurmResponds()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("sinfo", "-h") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            return process.WaitForExit(10_000) && process.ExitCode == 0;
        }
        catch (Exception) { return false; }
    }
}

/// <summary>A fact that is skipped, with the reason, where no Slurm answers (sbatch missing or no controller).</summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        if (!Sweeps.OnPath("sbatch")) Skip = "sbatch is not on PATH: run eng/start-slurm.sh (as root) to install and start a single-node Slurm";
        else if (!TrainingSweepTests.SlurmResponds()) Skip = "sbatch is installed but no Slurm controller answers (sinfo fails): run eng/start-slurm.sh";
    }
}
