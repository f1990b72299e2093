using Granularity.Core;
using Granularity.Runs;
using Granularity.Theory;
using Xunit;

namespace Granularity.Tests.Theory;

public sealed class TheoryConfigTests
{
    [Fact]
    public void FactoriesAreValidAndMatchTheDocumentedSettings()
    {
        var quick = TheoryConfig.Quick();
        Assert.Equal((200, 6, 8, 2, 2, 10, 64, 600), (quick.Dimension, quick.SubclassesPerSuperclass, quick.Patches, quick.CommonPatches, quick.FinePatches, quick.NeuronsPerOutput, quick.BatchSize, quick.Steps));
        Assert.Equal((0.15, 0.01, 0.3), (quick.NoiseStd, quick.InitStd, quick.LearningRate));
        var paper = TheoryConfig.Full();
        Assert.Equal((1000, 16), (paper.Dimension, paper.SubclassesPerSuperclass));
        Assert.True(paper.SubclassesPerSuperclass <= Math.Pow(paper.Dimension, 0.4) + 1);
        Assert.Equal(2 + 2 * 16, paper.FeatureCount);
    }

    [Theory]
    [InlineData("SubclassesPerSuperclass", "[2, ")]
    [InlineData("NoiseStd", "[0, ")]
    [InlineData("Patches", "[2, ")]
    [InlineData("HardShareInTraining", "[0, 1]")]
    [InlineData("LearningRate", "[1E-09, ")]
    [InlineData("BatchSize", "[1, ")]
    public void AnOutOfRangeFieldFailsAtConstructionNamingTheFieldAndRange(string field, string range)
    {
        Action build = field switch
        {
            "SubclassesPerSuperclass" => () => _ = new TheoryConfig { SubclassesPerSuperclass = 1 },
            "NoiseStd" => () => _ = TheoryConfig.Quick() with { NoiseStd = -0.1 },
            "Patches" => () => _ = new TheoryConfig { Patches = 1 },
            "HardShareInTraining" => () => _ = new TheoryConfig { HardShareInTraining = 1.5 },
            "LearningRate" => () => _ = new TheoryConfig { LearningRate = 0 },
            _ => () => _ = new TheoryConfig { BatchSize = 0 },
        };
        var error = Assert.ThrowsAny<ArgumentException>(build);
        Assert.Equal(field, error.ParamName);
        Assert.Contains(field, error.Message);
        Assert.Contains(range, error.Message);
    }

    [Fact]
    public void ADimensionBelowTheFeatureCountFailsValidationNamingBoth()
    {
        var config = TheoryConfig.Quick() with { Dimension = 20, SubclassesPerSuperclass = 10 };
        var error = Assert.Throws<ArgumentException>(() => config.Validate());
        Assert.Equal("Dimension", error.ParamName);
        Assert.Contains("2 + 2·SubclassesPerSuperclass = 22", error.Message);
        // Every entry point validates, so the inconsistent configuration never runs.
        Assert.Throws<ArgumentException>(() => new HierarchicalMultiViewData(config));
        Assert.Throws<ArgumentException>(() => TheoryExperiment.GetOrRun(config, Path.Combine(TempFolder.RunRoot, "never-written")));
    }

    [Fact]
    public void TooManyFeaturePatchesFailValidation()
    {
        var error = Assert.Throws<ArgumentException>(() => (TheoryConfig.Quick() with { Patches = 3 }).Validate());
        Assert.Contains("CommonPatches + FinePatches must be at most Patches = 3", error.Message);
    }

    [Fact]
    public void ConfigRoundTripsThroughJsonAndKeysTheCache()
    {
        var config = TheoryConfig.Quick() with { SubclassesPerSuperclass = 4, NoiseStd = 0.2, Basis = FeatureBasis.RandomOrthonormal, Seed = 3 };
        var json = JsonFiles.Serialize(config);
        Assert.DoesNotContain("label", json, StringComparison.OrdinalIgnoreCase);
        var back = System.Text.Json.JsonSerializer.Deserialize<TheoryConfig>(json, JsonFiles.Options)!;
        Assert.Equal(config, back);
        Assert.Equal(RunStore.ConfigKey("theory", config), RunStore.ConfigKey("theory", back));
        Assert.NotEqual(RunStore.ConfigKey("theory", config), RunStore.ConfigKey("theory", config with { Seed = 4 }));
    }

    [Fact]
    public void JsonWithAnOutOfRangeValueIsRejected()
    {
        var json = JsonFiles.Serialize(TheoryConfig.Quick()).Replace("\"noiseStd\": 0.15", "\"noiseStd\": -1");
        Assert.ThrowsAny<ArgumentException>(() => System.Text.Json.JsonSerializer.Deserialize<TheoryConfig>(json, JsonFiles.Options));
    }
}
