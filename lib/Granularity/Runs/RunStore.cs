using System.Security.Cryptography;
using System.Text;
using Granularity.Core;

namespace Granularity.Runs;

/// <summary>The state of a run in the store.</summary>
public enum RunState
{
    /// <summary>No folder for this config.</summary>
    Missing,
    /// <summary>Started by the current code and not finished (killed, or still running): it resumes.</summary>
    Incomplete,
    /// <summary>Made by code whose result version differs from this build's: never served.</summary>
    Stale,
    /// <summary>Finished by the current code: served.</summary>
    Fresh,
    /// <summary>Its manifest or summary cannot be read, or it has another folder format: never served.</summary>
    Unreadable,
}

/// <summary>What the store holds for one experiment and config.</summary>
public sealed record RunLookup<TSummary>(RunState State, RunFolder Folder, TSummary? Summary, RunManifest? Manifest, string Reason)
{
    public bool IsFresh => State == RunState.Fresh;
}

/// <summary>A run folder found by <see cref="RunStore.List"/>, with its state against this build.</summary>
public sealed record StoredRun(RunFolder Folder, string Experiment, RunState State, string Reason);

/// <summary>How an experiment treats the store.</summary>
public enum RunReuse
{
    /// <summary>Serve a fresh run; otherwise run it (resuming an incomplete one, replacing a stale one).</summary>
    ReadOrRun,
    /// <summary>Serve a fresh run; otherwise fail with <see cref="MissingRunsException"/> (figures, GPU-only runs on a laptop).</summary>
    ReadOnly,
    /// <summary>Run again even when a fresh run exists.</summary>
    AlwaysRun,
}

/// <summary>Where an experiment keeps its runs, whether it may train, and where it says what it does.</summary>
public sealed record RunPolicy(string RunsRoot, RunReuse Reuse = RunReuse.ReadOrRun)
{
    /// <summary>Lines such as "stale run … retraining"; the default writes them to standard output.</summary>
    public Action<string> Log { get; init; } = Console.WriteLine;

    /// <summary>Where training progress goes (a notebook's progress bar, the CLI's bars); <see cref="DefaultProgress"/> unless set.</summary>
    public IProgressReporter? Progress { get; init; } = DefaultProgress;

    /// <summary>The progress reporter new policies start with: none, or what the host set (a notebook kernel sets its bar).</summary>
    public static IProgressReporter? DefaultProgress { get; set; }

    /// <summary>The project's runs root (<c>GRANULARITY_RUNS</c> or <c>artifacts/runs</c>), train-or-read.</summary>
    public static RunPolicy Default => new(ProjectPaths.RunsRoot);

    /// <summary>Read only: never trains (figures and notebooks that must not start GPU-scale work).</summary>
    public static RunPolicy ReadOnly(string? runsRoot = null) => new(runsRoot ?? ProjectPaths.RunsRoot, RunReuse.ReadOnly);

    public RunStore Store => new(RunsRoot);
}

/// <summary>
/// The run store: one folder per experiment and typed config (<c>root/experiment/key/</c>), each recording the result
/// version of the code that made it. Reading has no side effects; a run made by other code is reported stale and
/// never served.
/// </summary>
public sealed class RunStore(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>A short, stable key: the first 16 hex digits of SHA-256 over the experiment name and the config's JSON.</summary>
    public static string ConfigKey<TConfig>(string experiment, TConfig config)
    {
        var text = $"{experiment}\n{JsonFiles.Serialize(config)}";
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16].ToLowerInvariant();
    }

    /// <summary>The folder a config's run lives in (nothing is created).</summary>
    public RunFolder FolderOf<TConfig>(string experiment, TConfig config) =>
        new(Path.Combine(Root, experiment, ConfigKey(experiment, config)));

    /// <summary>Looks the run up without creating, writing or deleting anything.</summary>
    public RunLookup<TSummary> TryRead<TConfig, TSummary>(string experiment, TConfig config, string resultVersion)
    {
        var folder = FolderOf(experiment, config);
        if (!Directory.Exists(folder.Path) || !folder.HasManifest)
            return new(RunState.Missing, folder, default, null, $"no run of {experiment} for this config in {folder.Path}");
        RunManifest manifest;
        try { manifest = folder.ReadManifest(); }
        catch (Exception error) when (error is InvalidDataException or IOException or System.Text.Json.JsonException)
        {
            return new(RunState.Unreadable, folder, default, null, $"{folder.File(RunFolder.ManifestFile)}: {error.Message}");
        }
        if (manifest.FormatVersion != RunFolder.FormatVersion)
            return new(RunState.Unreadable, folder, default, manifest,
                $"{folder.File(RunFolder.ManifestFile)}: run folder format {manifest.FormatVersion}, this library reads format {RunFolder.FormatVersion}");
        if (manifest.ResultVersion != resultVersion)
            return new(RunState.Stale, folder, default, manifest,
                $"{folder.Path}: made by result version {manifest.ResultVersion}, this build is {resultVersion} (code in {string.Join(", ", manifest.Layers ?? [])} changed)");
        if (!folder.IsComplete) return new(RunState.Incomplete, folder, default, manifest, $"{folder.Path}: started, not finished");
        try { return new(RunState.Fresh, folder, folder.ReadSummary<TSummary>(), manifest, $"{folder.Path}: fresh"); }
        catch (Exception error) when (error is InvalidDataException or IOException or System.Text.Json.JsonException)
        {
            return new(RunState.Unreadable, folder, default, manifest, $"{folder.SummaryPath}: {error.Message}");
        }
    }

    /// <summary>
    /// Opens a config's folder for writing by the current code: keeps an incomplete run of the same result version (so
    /// it resumes), replaces a stale one, refuses an unreadable or other-format one (it may be a newer library's: nothing
    /// is overwritten), and writes the manifest and config first.
    /// </summary>
    public RunFolder Open<TConfig>(string experiment, TConfig config, string resultVersion, IReadOnlyList<string> layers)
    {
        var lookup = TryRead<TConfig, object>(experiment, config, resultVersion);
        var folder = lookup.Folder;
        if (lookup.State == RunState.Unreadable)
            throw new InvalidDataException($"{lookup.Reason}; move the folder away or run `granularity runs prune` to delete it");
        if (lookup.State is RunState.Stale || (lookup.State == RunState.Missing && Directory.Exists(folder.Path)))
            Directory.Delete(folder.Path, recursive: true);
        if (lookup.State is RunState.Fresh or RunState.Incomplete) return folder;
        Directory.CreateDirectory(folder.Path);
        folder.WriteConfig(config);
        JsonFiles.Write(folder.File(RunFolder.ManifestFile), new RunManifest(experiment, ConfigKey(experiment, config), resultVersion,
            layers.ToArray(), RunFolder.FormatVersion, typeof(TConfig).FullName ?? typeof(TConfig).Name));
        return folder;
    }

    /// <summary>
    /// Serves a fresh run of <paramref name="config"/>, or runs <paramref name="run"/> into its folder (before which no
    /// data is opened); <paramref name="run"/> writes metrics and returns the summary, which is written last, atomically.
    /// </summary>
    public (RunFolder Folder, TSummary Summary, bool FromStore) GetOrRun<TConfig, TSummary>(string experiment, TConfig config,
        string layer, Func<RunFolder, TSummary> run, RunPolicy? policy = null)
    {
        policy ??= new RunPolicy(Root);
        var layers = Layers.Closure(layer);
        var version = ResultVersion.Compute(ResultVersion.Sources, layers);
        var lookup = TryRead<TConfig, TSummary>(experiment, config, version);
        if (lookup.IsFresh && policy.Reuse != RunReuse.AlwaysRun) return (lookup.Folder, lookup.Summary!, true);
        if (policy.Reuse == RunReuse.ReadOnly)
            throw new MissingRunsException($"{experiment} ({lookup.State.ToString().ToLowerInvariant()})", [lookup.Reason],
                [$"eng/granularity runs list --root {Root}"]);
        if (lookup.State is RunState.Stale) policy.Log($"{experiment}: stale run {lookup.Reason}; running it again");
        var folder = Open(experiment, config, version, layers);
        var summary = run(folder);
        folder.WriteSummary(summary);
        return (folder, summary, false);
    }

    /// <summary>Every run folder under the root with its state against this build.</summary>
    public IReadOnlyList<StoredRun> List()
    {
        var found = new List<StoredRun>();
        if (!Directory.Exists(Root)) return found;
        foreach (var manifestPath in Directory.EnumerateFiles(Root, RunFolder.ManifestFile, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var folder = new RunFolder(Path.GetDirectoryName(manifestPath)!);
            RunManifest manifest;
            try { manifest = folder.ReadManifest(); }
            catch (Exception error) when (error is InvalidDataException or IOException or System.Text.Json.JsonException)
            {
                found.Add(new(folder, "?", RunState.Unreadable, error.Message));
                continue;
            }
            if (manifest.FormatVersion != RunFolder.FormatVersion || manifest.Layers is null || manifest.ResultVersion is null)
            {
                found.Add(new(folder, manifest.Experiment, RunState.Unreadable, $"folder format {manifest.FormatVersion}, this library reads {RunFolder.FormatVersion}"));
                continue;
            }
            var current = ResultVersion.Compute(ResultVersion.Sources, manifest.Layers);
            var state = current != manifest.ResultVersion ? RunState.Stale : folder.IsComplete ? RunState.Fresh : RunState.Incomplete;
            if (state == RunState.Fresh && folder.SummaryDamage() is { } damage)
            {
                found.Add(new(folder, manifest.Experiment, RunState.Unreadable, damage));
                continue;
            }
            found.Add(new(folder, manifest.Experiment, state, state == RunState.Stale
                ? $"result version {manifest.ResultVersion}, this build {current}" : state.ToString().ToLowerInvariant()));
        }
        return found;
    }

    /// <summary>Deletes stale and unreadable run folders (and, with <paramref name="incomplete"/>, unfinished ones); returns them.</summary>
    public IReadOnlyList<StoredRun> Prune(bool incomplete = false)
    {
        var pruned = List().Where(r => r.State is RunState.Stale or RunState.Unreadable || (incomplete && r.State == RunState.Incomplete)).ToList();
        foreach (var run in pruned) Directory.Delete(run.Folder.Path, recursive: true);
        return pruned;
    }
}

/// <summary>
/// The one shape of an experiment: a typed config with <c>Quick()</c> and <c>Full()</c>, a run that trains or reads
/// the store under a policy and returns a typed result, and the claims computed from that result.
/// </summary>
public interface IExperiment<TConfig, TResult> where TConfig : IExperimentConfig<TConfig>
{
    /// <summary>The experiment's folder name in the run store.</summary>
    static abstract string Name { get; }

    /// <summary>Trains what the store lacks (per the policy) and returns the result.</summary>
    static abstract TResult Run(TConfig config, RunPolicy policy);

    /// <summary>The claims this experiment tests, with verdicts from rules fixed in code.</summary>
    static abstract IReadOnlyList<Claim> Claims(TResult result);
}

/// <summary>An experiment's typed config: the laptop-CPU configuration and the full-scale one.</summary>
public interface IExperimentConfig<TSelf> where TSelf : IExperimentConfig<TSelf>
{
    /// <summary>Runs on a laptop CPU in minutes (the default).</summary>
    static abstract TSelf Quick();

    /// <summary>The full-scale configuration (named for what it is, not "the paper's", unless it is).</summary>
    static abstract TSelf Full();
}
