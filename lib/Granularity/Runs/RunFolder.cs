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
    public const int FormatVersion = 2;

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
    /// <summary>SHA-256 of summary.json, written just before it, so a damaged summary is recognised and never served.</summary>
    public const string SummaryHashFile = "summary.json.sha256";

    public void WriteSummary<T>(T summary)
    {
        var text = JsonFiles.Serialize(summary) + "\n";
        AtomicFile.WriteAllText(File(SummaryHashFile), Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))) + "\n");
        AtomicFile.WriteAllText(SummaryPath, text);
    }

    /// <summary>Reads summary.json after checking it against its SHA-256 (when the folder has one); a mismatch is an InvalidDataException.</summary>
    public T ReadSummary<T>()
    {
        if (SummaryDamage() is { } damage) throw new InvalidDataException(damage);
        return JsonFiles.Read<T>(SummaryPath);
    }

    /// <summary>Why summary.json does not match its recorded SHA-256, or null (also when no hash was recorded).</summary>
    public string? SummaryDamage()
    {
        var hashPath = File(SummaryHashFile);
        if (!System.IO.File.Exists(hashPath) || !System.IO.File.Exists(SummaryPath)) return null;
        var expected = System.IO.File.ReadAllText(hashPath).Trim();
        var actual = Convert.ToHexStringLower(SHA256.HashData(System.IO.File.ReadAllBytes(SummaryPath)));
        return string.Equals(expected, actual, StringComparison.Ordinal) ? null
            : $"{SummaryPath}: damaged (its SHA-256 {actual[..12]}… differs from the {expected[..Math.Min(12, expected.Length)]}… recorded in {SummaryHashFile}); not served — rerun or `granularity runs prune`";
    }

    /// <summary>The manifest that says which experiment, config key, result version and format wrote the folder.</summary>
    public RunManifest ReadManifest() => JsonFiles.Read<RunManifest>(File(ManifestFile));

    /// <summary>True when the folder holds a manifest.</summary>
    public bool HasManifest => System.IO.File.Exists(File(ManifestFile));

    public override string ToString() => Path;
}

/// <summary>Identity of a run folder: what made it, under which config key, result version and folder format.</summary>
/// <param name="Experiment">the experiment's folder name in the store</param>
/// <param name="Key">the config key (the folder's name)</param>
/// <param name="ResultVersion">the result version of the code that made the run</param>
/// <param name="Layers">the library layers whose sources <paramref name="ResultVersion"/> covers</param>
/// <param name="FormatVersion">the run folder format</param>
/// <param name="ConfigType">the config's .NET type</param>
public sealed record RunManifest(string Experiment, string Key, string ResultVersion, string[] Layers, int FormatVersion, string ConfigType);
