using System.Formats.Tar;
using Granularity.Core;
using Granularity.Data;
using Granularity.Tests.Data;
using Xunit;

namespace Granularity.Tests.Robustness;

/// <summary>No path from a manifest or an archive leaves its root; hostile tar entries read in place are reported by name.</summary>
public sealed class HostilePathTests
{
    private static string GoogleLabels => Path.Combine(ProjectPaths.ManifestsRoot, "hierarchies", "imagenet21k-google-classes.txt");

    /// <summary>A per-synset tar with 2 good images plus '../escaped.JPEG', '/absolute.JPEG', a symlink and a hardlink.</summary>
    private static void WriteHostileSynsetTar(string folder)
    {
        var jpeg = DataFixtures.NoisyJpeg(16, 16, 1);
        var path = Path.Combine(folder, "n01440764.tar");
        using var file = File.Create(path);
        using var writer = new TarWriter(file, TarEntryFormat.Pax);
        void Add(string name, TarEntryType type, byte[]? data = null, string? link = null)
        {
            var entry = new PaxTarEntry(type, name);
            if (data is not null) entry.DataStream = new MemoryStream(data);
            if (link is not null) entry.LinkName = link;
            writer.WriteEntry(entry);
        }
        Add("n01440764_1.JPEG", TarEntryType.RegularFile, jpeg);
        Add("n01440764_2.JPEG", TarEntryType.RegularFile, jpeg);
        Add("../escaped.JPEG", TarEntryType.RegularFile, jpeg);
        Add("/absolute.JPEG", TarEntryType.RegularFile, jpeg);
        Add("link.JPEG", TarEntryType.SymbolicLink, link: "/etc/passwd");
        Add("hard.JPEG", TarEntryType.HardLink, link: "n01440764_1.JPEG");
    }

    [Fact]
    public void InPlaceTarsSkipHostileEntriesWithACountAndAnExampleOrRefuseThemWhenStrict()
    {
        using var folder = new TempFolder();
        WriteHostileSynsetTar(folder.Path);
        var report = new HostileEntries(strict: false);
        var (dataset, _) = ImageNet21k.Load(folder.Path, GoogleLabels, hostile: report);
        Assert.Equal(2, dataset.Count);
        Assert.All(Enumerable.Range(0, dataset.Count), i => Assert.DoesNotContain("..", dataset.DisplayPathOf(i)));
        Assert.Equal(4, report.Count);
        Assert.Contains("'../escaped.JPEG'", report.Example);
        Assert.Contains("skipped 4 hostile archive entries", report.Summary);
        var strict = Assert.Throws<UnsafeArchiveEntryException>(() => ImageNet21k.Load(folder.Path, GoogleLabels, hostile: new HostileEntries(strict: true)));
        Assert.Contains("n01440764.tar", strict.Message);
        Assert.Contains("../escaped.JPEG", strict.Message);

        var (code, output, errors) = ConfigFileTests.Run("data", "index", "--dataset", "imagenet21k", "--split", "fall11", "--root", folder.Path, "--labels", GoogleLabels);
        Assert.True(code == 0, errors);
        Assert.Contains("2 images", output);
        Assert.Contains("skipped 4 hostile archive entries", errors);
        File.Delete(ImageIndex.DefaultPath(folder.Path, "fall11"));
        (code, _, errors) = ConfigFileTests.Run("data", "index", "--dataset", "imagenet21k", "--split", "fall11", "--root", folder.Path, "--labels", GoogleLabels, "--strict");
        Assert.Equal(1, code);
        Assert.Contains("../escaped.JPEG", errors);
        Assert.False(File.Exists(ImageIndex.DefaultPath(folder.Path, "fall11")));
    }

    [Theory]
    [InlineData("files", "extractTo", "../outside")]
    [InlineData("files", "extractTo", "/tmp/granularity-outside")]
    [InlineData("files", "extractTo", "a/../../outside")]
    [InlineData("splits", "imageRoot", "../outside")]
    [InlineData("splits", "labelOrder", "../../etc/passwd")]
    public void AManifestPathLeavingItsRootIsRefusedBeforeAnythingIsWritten(string section, string field, string value)
    {
        using var folder = new TempFolder();
        var archives = Directory.CreateDirectory(folder.Combine("archives")).FullName;
        var prepared = folder.Combine("work", "prepared");
        DataFixtures.WriteTar(Path.Combine(archives, "images.tar"), false, ("n01440764/a.JPEG", TarEntryType.RegularFile, "x"));
        var file = new Dictionary<string, object?> { ["name"] = "images.tar", ["extract"] = "tar", ["extractTo"] = "." };
        var split = new Dictionary<string, object?> { ["name"] = "train", ["files"] = new[] { "images.tar" }, ["loader"] = "class-folders", ["labelOrder"] = "hierarchies/imagenet21k-google-classes.txt" };
        (section == "files" ? file : split)[field] = value;
        var manifest = folder.Combine("hostile.json");
        File.WriteAllText(manifest, JsonFiles.Serialize(new Dictionary<string, object?>
        {
            ["name"] = "hostile", ["title"] = "t", ["homepage"] = "h", ["source"] = "s", ["termsOfUse"] = "u",
            ["files"] = new[] { file }, ["splits"] = new[] { split }, ["labelOrders"] = Array.Empty<object>(),
        }));
        var error = Assert.Throws<InputFormatException>(() => DatasetManifest.Load(manifest));
        Assert.Contains($"$.{section}[0].{field}", error.Message);
        Assert.Contains(value, error.Message);
        Assert.Contains(field == "labelOrder" ? "the manifest's folder" : "the prepared root", error.Message);
        var (code, _, errors) = ConfigFileTests.Run("data", "prepare", "--dataset", manifest, "--archives", archives, "--splits", "train", "--out", prepared);
        Assert.Equal(1, code);
        Assert.Contains($"$.{section}[0].{field}", errors);
        Assert.False(Directory.Exists(folder.Combine("work")));
        Assert.False(Directory.Exists(folder.Combine("outside")));
        Assert.False(Directory.Exists("/tmp/granularity-outside"));
    }

    [Theory]
    [InlineData("a/b.jpg", true)]
    [InlineData("./a", true)]
    [InlineData("a/../b", true)]
    [InlineData("..", false)]
    [InlineData("a/../../b", false)]
    [InlineData("/etc/passwd", false)]
    [InlineData("C:\\x", false)]
    [InlineData("\\\\server\\share", false)]
    [InlineData("a\0b", false)]
    [InlineData("", false)]
    public void SafePathKeepsInputsUnderTheirRoot(string relative, bool contained)
    {
        Assert.Equal(contained, SafePath.IsContained(relative));
        var root = Path.Combine(Path.GetTempPath(), "granularity-safepath-root");
        if (contained) Assert.StartsWith(root, SafePath.Resolve(root, relative, "test"));
        else Assert.Throws<InputFormatException>(() => SafePath.Resolve(root, relative, "test", "$.x"));
    }
}
