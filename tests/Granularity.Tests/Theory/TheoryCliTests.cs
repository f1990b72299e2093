using Xunit;
using static Granularity.Tests.Cli.CliRunner;
using static Granularity.Tests.Theory.TheoryTestSupport;

namespace Granularity.Tests.Theory;

public sealed class TheoryCliTests
{
    [Fact]
    public void TheoryRunWritesARunFolderAndPrintsItsSummary()
    {
        var root = TemporaryFolder();
        var (code, output, _) = Run("theory", "run", "--d", "40", "--k", "2", "--steps", "10", "--eval-every", "5", "--runs", root);
        Assert.Equal(0, code);
        Assert.Contains("d=40 k=2", output);
        Assert.Single(Directory.GetDirectories(Path.Combine(root, "theory")));
        Assert.True(File.Exists(Path.Combine(Directory.GetDirectories(Path.Combine(root, "theory"))[0], "summary.json")));
    }

    [Theory]
    [InlineData("--k", "1", "SubclassesPerSuperclass")]
    [InlineData("--d", "10", "Dimension")]
    [InlineData("--noise", "-1", "--noise must be a number in [0,")]
    [InlineData("--basis", "fancy", "--basis must be one of standard, random; got 'fancy'")]
    [InlineData("--stpes", "3", "Unrecognized command or argument '--stpes'")]
    [InlineData("--noise-norm", "-1", "--noise-norm must be a number in [0,")]
    public void BadOptionsFailWithAMessageNamingTheField(string option, string value, string expected)
    {
        var (code, _, error) = Run("theory", "run", option, value, "--runs", TemporaryFolder());
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void ANoiseAndANoiseNormTogetherAreRefusedNamingTheField()
    {
        var (code, _, error) = Run("theory", "run", "--noise", "0.1", "--noise-norm", "1", "--runs", TemporaryFolder());
        Assert.NotEqual(0, code);
        Assert.Contains("NoiseStd = 0.1 contradicts NoiseNorm = 1", error);
    }

    [Fact]
    public void TheHeadlineCommandWritesTheBasePointsErrorsPerSeedWithIntervals()
    {
        var root = TemporaryFolder();
        var file = Path.Combine(root, "out", "theory-base.json");
        var (code, output, error) = Run("theory", "headline", "--quick", "--seeds", "0,1", "--out", file, "--runs", root);
        Assert.True(code == 0, error);
        Assert.Contains("grouped_sgd.hard", output);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
        var top = json.RootElement;
        Assert.Equal("csharp", top.GetProperty("implementation").GetString());
        Assert.Equal("theory-base", top.GetProperty("protocol").GetString());
        Assert.Equal(new[] { 0, 1 }, top.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt32()));
        var config = top.GetProperty("config");
        Assert.Equal((200, 6), (config.GetProperty("d").GetInt32(), config.GetProperty("k").GetInt32()));
        Assert.Equal(1.5, config.GetProperty("noise_norm").GetDouble(), 12);
        Assert.Equal(1.5 / Math.Sqrt(200), config.GetProperty("sigma").GetDouble(), 12);
        var numbers = top.GetProperty("numbers");
        var names = numbers.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(12, names.Count);
        foreach (var transfer in new[] { "coarse", "grouped", "grouped_sgd", "linear_head", "head_first_layer", "max_subclass" })
            Assert.Contains(transfer + ".hard", names);
        foreach (var number in numbers.EnumerateObject())
        {
            var perSeed = number.Value.GetProperty("per_seed").EnumerateArray().Select(v => v.GetDouble()).ToList();
            Assert.Equal(2, perSeed.Count);
            Assert.All(perSeed, v => Assert.InRange(v, 0, 1));
            var (mean, low, high) = (number.Value.GetProperty("mean").GetDouble(), number.Value.GetProperty("low").GetDouble(), number.Value.GetProperty("high").GetDouble());
            Assert.Equal(perSeed.Average(), mean, 12);
            Assert.InRange(mean, low, high);
        }
        // The numbers are the run folders' own: the coarse model's hard error of seed 1 is its summary's.
        var seed1 = Granularity.Theory.TheoryExperiment.GetOrRun(Granularity.Theory.TheoryStudyConfig.Quick().Base with { Seed = 1 }, root);
        Assert.True(seed1.FromCache);
        Assert.Equal(seed1.Summary.CoarseErrors.HardError, numbers.GetProperty("coarse.hard").GetProperty("per_seed")[1].GetDouble(), 12);
        Assert.Equal(seed1.Summary.Transfer!.GroupedSgd.HardError, numbers.GetProperty("grouped_sgd.hard").GetProperty("per_seed")[1].GetDouble(), 12);
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public void TheHeadlineCommandNeedsAnOutputFile()
    {
        var (code, _, error) = Run("theory", "headline", "--quick", "--seeds", "0", "--runs", TemporaryFolder());
        Assert.NotEqual(0, code);
        Assert.Contains("--out", error);
    }
}
