namespace Granularity.Core;

/// <summary>Where the project keeps run folders, figures and data, each overridable by one environment variable.</summary>
public static class ProjectPaths
{
    /// <summary>The repository root: the nearest folder above the working directory (or this assembly) holding Notebooks.sln.</summary>
    public static string RepositoryRoot => FindRepositoryRoot(Directory.GetCurrentDirectory())
        ?? FindRepositoryRoot(AppContext.BaseDirectory)
        ?? Directory.GetCurrentDirectory();

    /// <summary>Everything the project writes (runs, figures, stand-ins, executed notebooks): <c>GRANULARITY_ARTIFACTS</c>, else <c>artifacts/</c> under the repository.</summary>
    public static string ArtifactsRoot => FromEnvironment("GRANULARITY_ARTIFACTS") ?? Path.Combine(RepositoryRoot, "artifacts");

    /// <summary>Run folders: <c>GRANULARITY_RUNS</c>, else <c>runs/</c> under <see cref="ArtifactsRoot"/>.</summary>
    public static string RunsRoot => FromEnvironment("GRANULARITY_RUNS") ?? Path.Combine(ArtifactsRoot, "runs");

    /// <summary>Exported figures: <c>GRANULARITY_FIGURES</c>, else <c>figures/</c> under <see cref="ArtifactsRoot"/>.</summary>
    public static string FiguresRoot => FromEnvironment("GRANULARITY_FIGURES") ?? Path.Combine(ArtifactsRoot, "figures");

    /// <summary>Datasets (never in the repository): <c>GRANULARITY_DATA</c>, else the first line of the git-ignored <c>.granularity.local</c>, else <c>artifacts/data</c>.</summary>
    public static string DataRoot
    {
        get
        {
            var fromEnvironment = FromEnvironment("GRANULARITY_DATA");
            if (fromEnvironment is not null) return fromEnvironment;
            var localFile = Path.Combine(RepositoryRoot, ".granularity.local");
            if (File.Exists(localFile))
            {
                var line = File.ReadLines(localFile).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#'));
                if (line is not null) return Path.GetFullPath(line, RepositoryRoot);
            }
            return Path.Combine(ArtifactsRoot, "data");
        }
    }

    /// <summary>Committed data artifacts (label lists, hierarchy edge lists) in <c>data-manifests/</c>.</summary>
    public static string ManifestsRoot => Path.Combine(RepositoryRoot, "data-manifests");

    private static string? FromEnvironment(string name)
    {
        var value = Environment.GetEnvironmentVariable(name);
        return string.IsNullOrWhiteSpace(value) ? null : Path.GetFullPath(value);
    }

    private static string? FindRepositoryRoot(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Notebooks.sln"))) return directory.FullName;
        return null;
    }
}
