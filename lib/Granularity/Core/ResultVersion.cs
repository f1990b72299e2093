using System.Security.Cryptography;
using System.Text;

namespace Granularity.Core;

/// <summary>One source file of the library and the SHA-256 of its bytes, as embedded by the build.</summary>
public sealed record SourceFile(string Path, string Sha256)
{
    /// <summary>The layer (top folder of lib/Granularity) the file belongs to.</summary>
    public string Layer => Path.Replace('\\', '/').Split('/')[0];
}

/// <summary>
/// The library's layers and the arrows allowed between them (the architecture test checks the code against this
/// table), used also to decide which source files a result depends on.
/// </summary>
public static class Layers
{
    /// <summary>Each layer and the layers it may use directly.</summary>
    public static IReadOnlyDictionary<string, string[]> AllowedDependencies { get; } = new Dictionary<string, string[]>
    {
        ["Core"] = [],
        ["Hierarchy"] = ["Core"],
        ["Data"] = ["Core", "Hierarchy"],
        ["Runs"] = ["Core"],
        ["Theory"] = ["Core", "Runs"],
        ["Training"] = ["Core", "Hierarchy", "Data", "Runs"],
        ["Experiments"] = ["Core", "Hierarchy", "Data", "Runs", "Training"],
        ["Plots"] = ["Core", "Hierarchy", "Data", "Runs", "Theory", "Training", "Experiments"],
        ["Notebook"] = ["Core", "Hierarchy", "Data", "Runs", "Theory", "Training", "Experiments", "Plots"],
    };

    /// <summary>
    /// The Experiments layer's folders (one per experiment, plus Shared) and the folders each may use directly. All of
    /// them share the namespace <c>Granularity.Experiments</c> and one result-version layer; the folder is the unit here.
    /// </summary>
    public static IReadOnlyDictionary<string, string[]> ExperimentFolders { get; } = new Dictionary<string, string[]>
    {
        ["Shared"] = [],
        ["Alignment"] = ["Shared"],
        ["FineToCoarse"] = ["Shared"],
        ["Inat2021"] = ["Shared"],
        ["ImageNet"] = ["Shared"],
        ["HardSamples"] = ["Shared", "Inat2021"],   // its stand-in config starts from notebook 04's Quick template
        ["RealImages"] = ["Shared"],
    };

    /// <summary>The layer and everything it may reach, directly or not.</summary>
    public static IReadOnlyList<string> Closure(string layer)
    {
        if (!AllowedDependencies.ContainsKey(layer))
            throw new ArgumentException($"unknown layer '{layer}'; the layers are {string.Join(", ", AllowedDependencies.Keys)}");
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([layer]);
        while (pending.Count > 0)
        {
            var next = pending.Pop();
            if (!seen.Add(next)) continue;
            foreach (var dependency in AllowedDependencies[next]) pending.Push(dependency);
        }
        return seen.ToList();
    }

    /// <summary>The layer a type of this library lives in (<c>Granularity.Theory.X</c> → Theory).</summary>
    public static string Of(Type type)
    {
        var parts = (type.Namespace ?? "").Split('.');
        if (parts.Length < 2 || parts[0] != "Granularity" || !AllowedDependencies.ContainsKey(parts[1]))
            throw new ArgumentException($"{type.FullName} is not in a layer of the Granularity library");
        return parts[1];
    }
}

/// <summary>
/// The version of a result: a hash over the source files of the layers the code that made it can reach. Any change to
/// one of those files gives a new version, so a run made by older code is stale and never served as current.
/// </summary>
/// <remarks>
/// Derived, not declared: a hand-bumped version is forgotten exactly when it matters. The price is that a change to a
/// comment in a reachable layer also retires runs; that errs on the side of never serving a stale number.
/// </remarks>
public static class ResultVersion
{
    /// <summary>The source files this build was compiled from.</summary>
    public static IReadOnlyList<SourceFile> Sources { get; } = SourceFingerprint.Files
        .Select(f => f with { Path = f.Path.Replace('\\', '/') })
        .OrderBy(f => f.Path, StringComparer.Ordinal).ToArray();

    /// <summary>The result version of code in <paramref name="layer"/> (over its closure), for this build.</summary>
    public static string OfLayer(string layer) => Compute(Sources, Layers.Closure(layer));

    /// <summary>The result version of an experiment type: that of its layer.</summary>
    public static string For(Type experiment) => OfLayer(Layers.Of(experiment));

    /// <summary>The result version over the given layers of the given files (pure: tests call it on edited copies).</summary>
    public static string Compute(IEnumerable<SourceFile> files, IEnumerable<string> layers)
    {
        var wanted = new HashSet<string>(layers, StringComparer.Ordinal);
        var text = new StringBuilder();
        foreach (var file in files.Where(f => wanted.Contains(f.Layer)).OrderBy(f => f.Path, StringComparer.Ordinal))
            text.Append(file.Path).Append(' ').Append(file.Sha256.ToLowerInvariant()).Append('\n');
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16].ToLowerInvariant();
    }

    /// <summary>SHA-256 of a file's bytes, as the build computes it.</summary>
    public static string HashFile(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();
}

/// <summary>The library's informational version, recorded in summaries and checkpoints for provenance.</summary>
public static class BuildInfo
{
    public static string LibraryVersion { get; } =
        typeof(BuildInfo).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion
        ?? typeof(BuildInfo).Assembly.GetName().Version?.ToString() ?? "unknown";
}
