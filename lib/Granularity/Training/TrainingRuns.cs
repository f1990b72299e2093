using Granularity.Core;
using Granularity.Runs;

namespace Granularity.Training;

/// <summary>One finished experiment as the notebooks read it: config, summary, per-epoch metrics, per-sample results.</summary>
public sealed record TrainingRunView(RunFolder Folder, TrainingConfig Config, ExperimentSummary Summary, MetricsTable Metrics)
{
    /// <summary>Per-sample target-level results of an evaluation split (for easy/hard analyses).</summary>
    public SampleResults Samples(string split) => TrainingRuns.ReadSamples(Folder, split);
}

/// <summary>Reads experiment run folders and writes their per-sample results.</summary>
public static class TrainingRuns
{
    /// <summary>Loads a finished experiment folder; an unfinished or foreign folder is a clear error.</summary>
    public static TrainingRunView Load(string folderPath)
    {
        var folder = new RunFolder(folderPath);
        if (!Directory.Exists(folder.Path)) throw new DirectoryNotFoundException($"{folder.Path}: no such run folder");
        var manifest = folder.ReadManifest();
        if (manifest.FormatVersion != RunFolder.FormatVersion)
            throw new InvalidDataException($"{folder.File(RunFolder.ManifestFile)}: run folder format {manifest.FormatVersion}, this library reads format {RunFolder.FormatVersion}");
        if (manifest.Layers is null || manifest.ResultVersion != ResultVersion.Compute(ResultVersion.Sources, manifest.Layers))
            throw new InvalidDataException($"{folder.Path}: stale run, made by result version {manifest.ResultVersion}; this build is {ResultVersion.OfLayer("Training")}: run it again (or `granularity runs prune`)");
        if (manifest.ConfigType != typeof(TrainingConfig).FullName)
            throw new InvalidDataException($"{folder.Path}: holds a {manifest.ConfigType} run, not a training experiment ({typeof(TrainingConfig).FullName})");
        if (!folder.IsComplete) throw new InvalidDataException($"{folder.Path}: the run has not finished (no {RunFolder.SummaryFile}); rerun it to resume");
        return new(folder, folder.ReadConfig<TrainingConfig>(), folder.ReadSummary<ExperimentSummary>(), folder.ReadMetrics());
    }

    /// <summary>Every finished experiment under <c>root/training/</c>.</summary>
    public static IReadOnlyList<TrainingRunView> LoadAll(string? root = null)
    {
        var directory = Path.Combine(root ?? ProjectPaths.RunsRoot, TrainingEngine.TransferExperiment);
        if (!Directory.Exists(directory)) return [];
        return Directory.GetDirectories(directory).Order(StringComparer.Ordinal)
            .Where(d => File.Exists(Path.Combine(d, RunFolder.SummaryFile))).Select(Load).ToList();
    }

    public static string SamplesFile(string split) => $"samples-{split}.csv";

    internal static void WriteSamples(RunFolder folder, string split, SampleResults samples)
    {
        var table = new MetricsTable(["index", "label", "prediction", "top5_correct"]);
        for (int i = 0; i < samples.Labels.Length; i++)
            table.Add(samples.Indices[i], samples.Labels[i], samples.Predictions[i], samples.Top5Correct[i] ? 1 : 0);
        table.Save(folder.File(SamplesFile(split)));
    }

    public static SampleResults ReadSamples(RunFolder folder, string split)
    {
        var table = MetricsTable.Load(folder.File(SamplesFile(split)));
        return new SampleResults(
            table.Column("index").Select(v => (long)v).ToArray(),
            table.Column("label").Select(v => (int)v).ToArray(),
            table.Column("prediction").Select(v => (int)v).ToArray(),
            table.Column("top5_correct").Select(v => v != 0).ToArray());
    }
}
