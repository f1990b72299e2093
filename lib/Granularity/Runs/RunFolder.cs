using Granularity.Core;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Granularity.Runs;

/// <summary>
/// One experiment run on disk: <c>config.json</c>, <c>metrics.csv</c>, <c>summary.json</c> (written last: its presence
/// marks a complete run), plus anything else the run keeps (checkpoints). Every file is written atomically.
/// </summary>
public sealed class RunFolder
{
    public const string ConfigFile = "config.json";
    public const string MetricsFile = "metrics.csv";
    public const string SummaryFile = "summary.json";
    public const string ManifestFile = "run.json";

    /// <summary>The format of run folders; bumped when a reader could misread an older folder.</summary>
    public const int FormatVersion = 1;

    public RunFolder(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }
    public string ConfigPath => System.IO.Path.Combine(Path, ConfigFile);
    public string MetricsPath => System.IO.Path.Combine(Path, MetricsFile);
    public string SummaryPath => System.IO.Path.Combine(Path, SummaryFile);

    /// <summary>True once the summary has been written: the run finished.</summary>
    public bool IsComplete => System.IO.File.Exists(SummaryPath);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void WriteConfig<T>(T config) => JsonFiles.Write(ConfigPath, config);
    public T ReadConfig<T>() => JsonFiles.Read<T>(ConfigPath);
    public void WriteMetrics(MetricsTable metrics) => metrics.Save(MetricsPath);
    public MetricsTable ReadMetrics() => MetricsTable.Load(MetricsPath);
    public void WriteSummary<T>(T summary) => JsonFiles.Write(SummaryPath, summary);
    public T ReadSummary<T>() => JsonFiles.Read<T>(SummaryPath);

    /// <summary>The manifest that says which experiment, cache key, library version and format wrote the folder.</summary>
    public RunManifest ReadManifest() => JsonFiles.Read<RunManifest>(File(ManifestFile));

    /// <summary>
    /// Opens the run folder of <paramref name="config"/> under <c>root/experiment/</c>, named by its cache key, and
    /// checks that a folder found there was written by a compatible format.
    /// </summary>
    public static RunFolder For<TConfig>(string root, string experiment, TConfig config)
    {
        var key = RunCache.Key(experiment, config);
        var folder = new RunFolder(System.IO.Path.Combine(root, experiment, key));
        var manifestPath = folder.File(ManifestFile);
        if (System.IO.File.Exists(manifestPath))
        {
            var manifest = JsonFiles.Read<RunManifest>(manifestPath);
            if (manifest.FormatVersion != FormatVersion)
                throw new InvalidDataException($"{manifestPath}: run folder format {manifest.FormatVersion}, this library reads format {FormatVersion}; move the folder away or rerun");
        }
        else
        {
            Directory.CreateDirectory(folder.Path);
            JsonFiles.Write(manifestPath, new RunManifest(experiment, key, RunCache.LibraryVersion, FormatVersion, typeof(TConfig).FullName ?? typeof(TConfig).Name));
            folder.WriteConfig(config);
        }
        return folder;
    }

    public override string ToString() => Path;
}

/// <summary>Identity of a run folder.</summary>
public sealed record RunManifest(string Experiment, string Key, string LibraryVersion, int FormatVersion, string ConfigType);

/// <summary>
/// The cache notebooks read: a run is reused only when the experiment, its whole typed config and the library version match.
/// </summary>
public static class RunCache
{
    /// <summary>The library's informational version (assembly version plus build metadata).</summary>
    public static string LibraryVersion { get; } =
        typeof(RunCache).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(RunCache).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>A short, stable key: the first 16 hex digits of SHA-256 over experiment, config JSON and library version.</summary>
    public static string Key<TConfig>(string experiment, TConfig config)
    {
        var text = $"{experiment}\n{JsonFiles.Serialize(config)}\n{LibraryVersion}";
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16].ToLowerInvariant();
    }

    /// <summary>
    /// Returns the summary of a complete run of <paramref name="config"/>, or runs <paramref name="run"/> into its folder
    /// (which must write metrics and return the summary; the summary is written last, atomically).
    /// </summary>
    public static (RunFolder Folder, TSummary Summary, bool FromCache) GetOrRun<TConfig, TSummary>(
        string root, string experiment, TConfig config, Func<RunFolder, TSummary> run)
    {
        var folder = RunFolder.For(root, experiment, config);
        if (folder.IsComplete) return (folder, folder.ReadSummary<TSummary>(), true);
        var summary = run(folder);
        folder.WriteSummary(summary);
        return (folder, summary, false);
    }
}
