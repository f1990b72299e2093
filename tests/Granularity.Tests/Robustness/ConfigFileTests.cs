using System.Text.Json.Nodes;
using Granularity.Core;
using Granularity.Tests.Data;
using Granularity.Training;
using Xunit;

namespace Granularity.Tests.Robustness;

/// <summary>Config files are checked before use: every broken one is a ConfigFileException naming file and JSON path, exit 1 on the CLI.</summary>
public sealed class ConfigFileTests
{
    internal static (int Code, string Output, string Errors) Run(params string[] args) => Granularity.Tests.Cli.CliRunner.Run(args);

    private static JsonObject QuickConfig() => JsonNode.Parse(JsonFiles.Serialize(TrainingProtocols.Named("quick", "leaf", "coarse", 0)))!.AsObject();

    public static readonly TheoryData<string, string, string> Broken = new()
    {
        { "no model", "remove:model", "$.model" },
        { "null pretraining", "null:pretraining", "$.pretraining" },
        { "unknown field", "add:modle", "$.modle" },
        { "string seed", "seed:\"zero\"", "$.seed" },
        { "fractional seed", "seed:1.5", "$.seed" },
        { "bad enum", "transferMode:\"Sideways\"", "$.transferMode" },
        { "nested wrong type", "pretraining.epochs:\"ten\"", "$.pretraining.epochs" },
        { "nested missing", "remove:pretraining.batchSize", "$.pretraining.batchSize" },
        { "array for object", "model:[1,2]", "$.model" },
        { "zero epochs", "pretraining.epochs:0", "$.pretraining.epochs" },
        { "negative seed", "seed:-3", "$.seed" },
        { "tiny image", "model.imageSize:2", "$.model.imageSize" },
    };

    private static string Mutate(string change)
    {
        var config = QuickConfig();
        var (verb, rest) = (change.Split(':', 2)[0], change.Split(':', 2)[1]);
        JsonObject Parent(string dotted, out string last)
        {
            var parts = dotted.Split('.');
            var node = config;
            foreach (var part in parts[..^1]) node = node[part]!.AsObject();
            last = parts[^1];
            return node;
        }
        switch (verb)
        {
            case "remove": Parent(rest, out var removed).Remove(removed); break;
            case "null": Parent(rest, out var nulled)[nulled] = null; break;
            case "add": Parent(rest, out var added)[added] = 1; break;
            default: Parent(verb, out var set)[set] = JsonNode.Parse(rest); break;
        }
        return config.ToJsonString();
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public void BrokenTrainingConfigsNameTheFileAndTheField(string what, string change, string field)
    {
        using var folder = new TempFolder();
        var path = folder.Combine("broken.json");
        File.WriteAllText(path, Mutate(change));
        var error = Assert.Throws<ConfigFileException>(() => ConfigFile.Read<TrainingConfig>(path));
        Assert.StartsWith(path + ":", error.Message);
        Assert.Contains(field, error.Message);
        var (code, output, errors) = Run("train", "--config", path);
        Assert.True(code == 1, $"{what}: exit {code}\n{output}\n{errors}");
        Assert.Contains(field, errors);
        Assert.DoesNotContain("   at ", errors); // no stack trace
    }

    [Theory]
    [InlineData("", "line 1")]
    [InlineData("{\"protocol\": \"quick\",", "line 1")]
    [InlineData("null", "$")]
    [InlineData("[]", "$")]
    [InlineData("{\n  \"protocol\": \"quick\"\n  \"seed\": 0\n}", "line 3")]
    public void MalformedJsonNamesTheLine(string text, string position)
    {
        using var folder = new TempFolder();
        var path = folder.Combine("bad.json");
        File.WriteAllText(path, text);
        var error = Assert.Throws<ConfigFileException>(() => ConfigFile.Read<TrainingConfig>(path));
        Assert.Contains(position.StartsWith("line ") ? $"{path}:{position[5..]}:" : $"{path}: {position}", error.Message);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("finetune")]
    public void WriteConfigThenConfigRoundTrips(string command)
    {
        using var folder = new TempFolder();
        foreach (var protocol in new[] { "quick", "quick-linear-probe", "inat2021-resnet34", "imagenet21k-vitb16" })
        {
            string first = folder.Combine($"{command}-{protocol}-1.json"), second = folder.Combine($"{command}-{protocol}-2.json");
            var (code, _, errors) = Run(command, "--protocol", protocol, "--seed", "3", "--write-config", first);
            Assert.True(code == 0, errors);
            (code, _, errors) = Run(command, "--config", first, "--write-config", second);
            Assert.True(code == 0, $"{command} --config {protocol}: {errors}");
            Assert.Equal(File.ReadAllText(first), File.ReadAllText(second));
            Assert.Equal(TrainingProtocols.Named(protocol, "leaf", "coarse", 3), ConfigFile.Read<TrainingConfig>(second));
        }
    }

    [Fact]
    public void SweepAndManifestFilesAreCheckedTheSameWay()
    {
        using var folder = new TempFolder();
        var sweep = folder.Combine("sweep.json");
        File.WriteAllText(sweep, "{\"name\": \"x\", \"experiments\": [{\"protocol\": 1}]}");
        Assert.Contains("$.experiments[0].protocol", Assert.Throws<ConfigFileException>(() => Sweeps.Read(sweep)).Message);
        var manifest = folder.Combine("m.json");
        File.WriteAllText(manifest, "{\"name\": \"m\"}");
        Assert.Contains("$.title", Assert.Throws<ConfigFileException>(() => Granularity.Data.DatasetManifest.Load(manifest)).Message);
        foreach (var committed in new[] { "inat2021", "imagenet1k", "imagenet21k" }) Granularity.Data.DatasetManifest.Load(committed);
    }
}
