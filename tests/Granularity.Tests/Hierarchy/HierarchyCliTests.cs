using System.Text.Json;
using static Granularity.Tests.Cli.CliRunner;
using Xunit;

namespace Granularity.Tests.Hierarchy;

/// <summary>The hierarchy commands end to end, through the same dispatcher as the executable.</summary>
public class HierarchyCliTests
{
    [Fact]
    public void LevelsJsonListsNamedLevelsAndCuts()
    {
        var (code, output, _) = Run("hierarchy", "levels", "--source", "inat2021", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        var levels = json.RootElement.GetProperty("levels").EnumerateArray().ToDictionary(l => l.GetProperty("level").GetString()!, l => l.GetProperty("classes").GetInt32());
        Assert.Equal(11, levels["supercategory"]);
        Assert.Equal(1_103, levels["family"]);
        Assert.Equal(273, levels["depth 4"]);
        Assert.Equal(10_000 * 50, json.RootElement.GetProperty("levels")[0].GetProperty("images").GetInt64());
    }

    [Fact]
    public void LabelNamesTheAncestorAtALevel()
    {
        var (code, output, _) = Run("hierarchy", "label", "--source", "imagenet1k", "--class", "n02085620", "--level", "up:1", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("n02085374", json.RootElement.GetProperty("labels")[0].GetProperty("name").GetString());
        Assert.Equal("n00001740 entity", json.RootElement.GetProperty("path")[0].GetString());
    }

    [Fact]
    public void AlignReportsZeroForACoarsening()
    {
        var (code, output, _) = Run("hierarchy", "align", "--source", "inat2021", "--pretraining", "genus", "--target", "supercategory", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(0, json.RootElement.GetProperty("conditionalEntropyBits").GetDouble());
        Assert.True(json.RootElement.GetProperty("isCoarsening").GetBoolean());
    }

    [Theory]
    [InlineData(1, "not a node", "hierarchy", "label", "--source", "imagenet21k", "--class", "n99999999")]
    [InlineData(1, "unknown hierarchy source", "hierarchy", "levels", "--source", "imagenet42k")]
    [InlineData(2, "--rule must be one of nltk-first-hypernym, nltk-with-instances, pointer-order, shortest-path, semantic-tree; got 'longest'", "hierarchy", "levels", "--source", "imagenet1k", "--rule", "longest")]
    [InlineData(2, "--cut must be one of depth, height, up, up-down; got 'width'", "hierarchy", "levels", "--source", "imagenet1k", "--cut", "width")]
    [InlineData(2, "Unrecognized command or argument '--depth'", "hierarchy", "levels", "--source", "inat2021", "--depth", "3")]
    [InlineData(1, "named levels supercategory, kingdom", "hierarchy", "label", "--source", "inat2021", "--class", "#0", "--level", "tribe")]
    public void BadRequestsFailWithAClearMessage(int expectedCode, string expected, params string[] args)
    {
        var (code, _, error) = Run(args);
        Assert.Equal(expectedCode, code);
        Assert.Contains(expected, error);
    }
}
