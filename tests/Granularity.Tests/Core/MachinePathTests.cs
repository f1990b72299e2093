using System.Text.RegularExpressions;
using Granularity.Core;
using Xunit;

namespace Granularity.Tests.Core;

/// <summary>No source, test, script, notebook or doc of the repository names a path of one machine.</summary>
public class MachinePathTests
{
    private static readonly Regex MachinePath = new(@"(?<![\w.])/(work|farm|root|home)/", RegexOptions.Compiled);
    private static readonly string[] Folders = ["lib", "tests", "eng", "notebooks", "docs", "data-manifests"];
    private static readonly string[] Extensions = [".cs", ".csproj", ".props", ".targets", ".sh", ".py", ".ipynb", ".md", ".json", ".txt", ".tsv", ".csv"];

    [Fact]
    public void NoTrackedFileNamesAnAbsoluteMachinePath()
    {
        var root = ProjectPaths.RepositoryRoot;
        var offenders = new List<string>();
        foreach (var folder in Folders)
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
                if (relative.Split('/').Any(part => part is "bin" or "obj") || !Extensions.Contains(Path.GetExtension(file))) continue;
                int number = 0;
                foreach (var line in File.ReadLines(file))
                {
                    number++;
                    if (MachinePath.IsMatch(line)) offenders.Add($"{relative}:{number}: {line.Trim()}");
                }
            }
        Assert.True(offenders.Count == 0, "absolute machine paths (cite the repository's own docs or a setting instead):\n" + string.Join('\n', offenders.Take(20)));
    }

    // The positive examples are put together at run time, so this file passes its own test.
    [Theory]
    [InlineData("see /{0}/shared/paper.md", true)]
    [InlineData("cache in /{1}/.nuget", true)]
    [InlineData("docs/synthetic-hierarchy.md", false)]
    [InlineData("lib/Granularity/Data/x.cs and ~/data", false)]
    public void ThePatternFindsMachinePathsOnly(string line, bool found) => Assert.Equal(found, MachinePath.IsMatch(string.Format(line, "work", "root")));
}
