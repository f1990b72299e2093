using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using Granularity.Core;

namespace Granularity.Tests.Notebook;

/// <summary>
/// What the notebook tests run against: a private artifacts folder (runs, figures, stand-ins, executed copies), deleted
/// afterwards, and the notebook package of this very build: the feed's package and the NuGet cache's extracted copy
/// are checked against the library this test assembly was built with, and repacked when they differ.
/// </summary>
public sealed class NotebookEnvironment : IDisposable
{
    public NotebookEnvironment()
    {
        Artifacts = new TempFolder("notebook-artifacts");
        Variables = new Dictionary<string, string> { ["GRANULARITY_ARTIFACTS"] = Artifacts.Path };
        EnsurePackageIsThisBuild();
    }

    public TempFolder Artifacts { get; }

    public IReadOnlyDictionary<string, string> Variables { get; }

    public void Dispose() => Artifacts.Dispose();

    private static void EnsurePackageIsThisBuild()
    {
        var built = Hash(File.ReadAllBytes(typeof(ProjectPaths).Assembly.Location));
        if (PackagedHash() != built)
        {
            var pack = Process.Start(new ProcessStartInfo(Path.Combine(ProjectPaths.RepositoryRoot, "eng", "pack-notebook-library.sh"))
                { WorkingDirectory = ProjectPaths.RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true })!;
            var log = pack.StandardOutput.ReadToEnd() + pack.StandardError.ReadToEnd();
            pack.WaitForExit();
            if (pack.ExitCode != 0 || PackagedHash() != built)
                throw new InvalidOperationException($"artifacts/feed does not hold this build's Granularity.dll even after eng/pack-notebook-library.sh: {log}");
        }
        var cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages ? packages
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "granularity");
        foreach (var version in Directory.Exists(cached) ? Directory.GetDirectories(cached) : [])
        {
            var dll = Path.Combine(version, "lib", "net10.0", "Granularity.dll");
            if (!File.Exists(dll) || Hash(File.ReadAllBytes(dll)) != built) Directory.Delete(version, recursive: true);
        }
    }

    private static string? PackagedHash()
    {
        var feed = Path.Combine(ProjectPaths.RepositoryRoot, "artifacts", "feed");
        var package = Directory.Exists(feed) ? Directory.GetFiles(feed, "Granularity.*.nupkg").SingleOrDefault() : null;
        if (package is null) return null;
        using var archive = ZipFile.OpenRead(package);
        var entry = archive.GetEntry("lib/net10.0/Granularity.dll");
        if (entry is null) return null;
        using var stream = entry.Open();
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return Hash(memory.ToArray());
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes));
}
