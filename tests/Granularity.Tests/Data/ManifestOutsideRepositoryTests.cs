using Granularity.Core;
using Granularity.Data;
using Xunit;
using static Granularity.Tests.Cli.CliRunner;

namespace Granularity.Tests.Data;

/// <summary>A user's own manifest, kept in a folder outside the repository beside its class list.</summary>
public sealed class ManifestOutsideRepositoryTests
{
    private static string WriteManifest(TempFolder folder, string labelOrder, string imageRoot = "images")
    {
        var manifest = folder.Combine("my-dataset", "qa.json");
        Directory.CreateDirectory(Path.GetDirectoryName(manifest)!);
        File.WriteAllText(folder.Combine("my-dataset", "labels.txt"), "# my class order\nn01443537\nn01440764\n");
        File.WriteAllText(manifest, JsonFiles.Serialize(new Dictionary<string, object?>
        {
            ["name"] = "qa", ["title"] = "QA set", ["homepage"] = "none", ["source"] = "generated", ["termsOfUse"] = "test data",
            ["files"] = new[] { new Dictionary<string, object?> { ["name"] = "images.tar.gz", ["extract"] = "tar.gz" } },
            ["splits"] = new[] { new Dictionary<string, object?> { ["name"] = "train", ["files"] = new[] { "images.tar.gz" }, ["loader"] = "class-folders",
                ["imageRoot"] = imageRoot, ["labelOrder"] = labelOrder, ["images"] = 5, ["classes"] = 2 } },
            ["labelOrders"] = new[] { new Dictionary<string, object?> { ["head"] = "qa", ["file"] = "labels.txt", ["classes"] = 2, ["description"] = "2-way" } },
        }));
        return manifest;
    }

    [Fact]
    public void VerifyPrepareAndIndexResolveItsPathsAgainstItsOwnFolder()
    {
        using var folder = new TempFolder();
        var manifest = WriteManifest(folder, "labels.txt");
        Assert.False(manifest.StartsWith(ProjectPaths.RepositoryRoot, StringComparison.Ordinal));
        var source = Directory.CreateDirectory(folder.Combine("source")).FullName;
        foreach (var (wnid, count) in new[] { ("n01440764", 2), ("n01443537", 3) })
        {
            Directory.CreateDirectory(Path.Combine(source, "images", wnid));
            for (int k = 0; k < count; k++) File.WriteAllBytes(Path.Combine(source, "images", wnid, $"{wnid}_{k}.JPEG"), DataFixtures.NoisyJpeg(32, 24, 10 * count + k));
        }
        var archives = Directory.CreateDirectory(folder.Combine("archives")).FullName;
        DataFixtures.TarGzFolder(source, "images", Path.Combine(archives, "images.tar.gz"));
        var prepared = folder.Combine("prepared");

        var (code, output, errors) = Run("data", "verify", "--dataset", manifest, "--archives", archives, "--all");
        Assert.True(code == 0, errors);
        Assert.Contains("1 verified", output);
        (code, output, errors) = Run("data", "prepare", "--dataset", manifest, "--archives", archives, "--splits", "train", "--out", prepared);
        Assert.True(code == 0, errors);
        var fromPrepare = ImageIndex.Read(ImageIndex.DefaultPath(prepared, "train"));
        var indexPath = folder.Combine("again.gidx");
        (code, output, errors) = Run("data", "index", "--dataset", manifest, "--split", "train", "--root", prepared, "--out", indexPath);
        Assert.True(code == 0, errors);
        Assert.Contains("5 images", output);
        foreach (var dataset in new[] { fromPrepare, ImageIndex.Read(indexPath) })
        {
            Assert.Equal(new[] { "n01443537", "n01440764" }, dataset.CategoryNames); // labels.txt's order, beside the manifest
            Assert.Equal(new[] { 3, 2 }, Enumerable.Range(0, 2).Select(c => dataset.Categories.Count(x => x == c)));
        }
    }

    [Theory]
    [InlineData("../labels.txt", "climbs out of")]
    [InlineData("sub/../../labels.txt", "climbs out of")]
    [InlineData("ABSOLUTE", "is absolute")]
    public void AFileReferenceLeavingTheManifestsFolderIsRefusedNamingTheFieldAndTheFolder(string labelOrder, string problem)
    {
        using var folder = new TempFolder();
        if (labelOrder == "ABSOLUTE") labelOrder = folder.Combine("labels.txt");
        File.WriteAllText(folder.Combine("labels.txt"), "n01440764\n");
        var manifest = WriteManifest(folder, labelOrder);
        var error = Assert.Throws<InputFormatException>(() => DatasetManifest.Load(manifest));
        Assert.Contains("$.splits[0].labelOrder", error.Message);
        Assert.Contains("inside the manifest's folder, " + Path.GetDirectoryName(manifest), error.Message);
        var (code, _, errors) = Run("data", "verify", "--dataset", manifest, "--archives", folder.Path);
        Assert.Equal(1, code);
        Assert.Contains("$.splits[0].labelOrder", errors);
        var resolve = Assert.Throws<InputFormatException>(() => DatasetManifest.Load(WriteManifest(folder, "labels.txt")).ResolveFile(labelOrder, "$.splits[0].labelOrder"));
        Assert.Contains(problem, resolve.Message);
        Assert.Contains("the manifest's folder", resolve.Message);
    }

    [Fact]
    public void AMissingClassListIsRefusedAtVerifyNamingTheFieldAndWhereItWasLookedFor()
    {
        using var folder = new TempFolder();
        var manifest = WriteManifest(folder, "missing-labels.txt");
        var (code, _, errors) = Run("data", "verify", "--dataset", manifest, "--archives", folder.Path);
        Assert.Equal(1, code);
        Assert.Contains("$.splits[0].labelOrder", errors);
        Assert.Contains(Path.Combine(Path.GetDirectoryName(manifest)!, "missing-labels.txt") + ", which does not exist", errors);
    }

    [Fact]
    public void ALayoutPathLeavingThePreparedRootNamesThePreparedRoot()
    {
        using var folder = new TempFolder();
        var error = Assert.Throws<InputFormatException>(() => DatasetManifest.Load(WriteManifest(folder, "labels.txt", imageRoot: "../elsewhere")));
        Assert.Contains("$.splits[0].imageRoot", error.Message);
        Assert.Contains("the prepared root", error.Message);
    }
}
