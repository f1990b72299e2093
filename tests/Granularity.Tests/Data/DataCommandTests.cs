using Granularity.Core;
using Granularity.Data;
using Xunit;
using static Granularity.Tests.Cli.CliRunner;

namespace Granularity.Tests.Data;

/// <summary>End-to-end runs of the `data` commands on tiny generated data.</summary>
public sealed class DataCommandTests
{
    [Fact]
    public void IndexCommandIndexesPerSynsetTarsWithALabelFile()
    {
        using var folder = new TempFolder();
        DataFixtures.WriteSynsetTar(folder.Path, "n01440764", 2, 1);
        DataFixtures.WriteSynsetTar(folder.Path, "n01443537", 3, 2);
        var (code, output, errors) = Run("data", "index", "--dataset", "imagenet21k", "--split", "fall11", "--root", folder.Path,
            "--labels", Path.Combine(Granularity.Core.ProjectPaths.ManifestsRoot, "hierarchies", "imagenet21k-google-classes.txt"));
        Assert.True(code == 0, errors);
        Assert.Contains("5 images", output);
        var dataset = ImageIndex.Read(ImageIndex.DefaultPath(folder.Path, "fall11"));
        Assert.Equal(21843, dataset.CategoryCount);
        Assert.Equal(new[] { "n01440764", "n01443537" }, dataset.Categories.Distinct().Select(c => dataset.CategoryNames[c]));
    }

    [Fact]
    public void VerifyCommandFailsOnAMismatchAndNamesTheFile()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.Combine("val.json.tar.gz"), "not the real archive");
        var (code, _, errors) = Run("data", "verify", "--dataset", "inat2021", "--archives", folder.Path);
        Assert.Equal(1, code);
        Assert.Contains("val.json.tar.gz", errors);
        Assert.Contains("4d761e0f6a86cc63e8f7afc91f6a8f0b", errors);
        var (usage, _, usageErrors) = Run("data", "verify", "--dataset", "inat2021", "--archives", folder.Path, "--files", "nope.tar");
        Assert.Equal(2, usage);
        Assert.Contains("nope.tar", usageErrors);
    }
}
