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
        Assert.Equal((1.5, (double?)null, 0.01, 0.3), (quick.NoiseNorm, quick.NoiseStd, quick.InitStd, quick.LearningRate));
        Assert.Equal(1.5 / Math.Sqrt(200), quick.Sigma, 12);
        var paper = TheoryConfig.Full();
        Assert.Equal((1000, 16), (paper.Dimension, paper.SubclassesPerSuperclass));
        Assert.True(paper.SubclassesPerSuperclass <= Math.Pow(paper.Dimension, 0.4) + 1);
        Assert.Equal(2 + 2 * 16, paper.FeatureCount);
    }

    [Theory]
    [InlineData("SubclassesPerSuperclass", "[2, ")]
    [InlineData("NoiseStd", "[0, ")]
    [InlineData("NoiseNorm", "[0, ")]
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
            "NoiseNorm" => () => _ = TheoryConfig.Quick() with { NoiseNorm = -1 },
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
        var config = TheoryConfig.Quick().WithFixedNoiseStd(0.2) with { SubclassesPerSuperclass = 4, Basis = FeatureBasis.RandomOrthonormal, Seed = 3 };
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
        var json = JsonFiles.Serialize(TheoryConfig.Quick());
        Assert.Contains("\"noiseNorm\": 1.5", json);
        Assert.ThrowsAny<ArgumentException>(() => System.Text.Json.JsonSerializer.Deserialize<TheoryConfig>(json.Replace("\"noiseNorm\": 1.5", "\"noiseNorm\": -1"), JsonFiles.Options));
    }

    [Fact]
    public void ANoiseNormAndASigmaTogetherAreRefusedNamingTheField()
    {
        var both = TheoryConfig.Quick() with { NoiseStd = 0.15 };
        var error = Assert.Throws<ArgumentException>(() => both.Validate());
        Assert.Equal("NoiseStd", error.ParamName);
        Assert.Contains("contradicts NoiseNorm = 1.5", error.Message);
        Assert.Throws<ArgumentException>(() => new HierarchicalMultiViewData(both));
        Assert.Throws<ArgumentException>(() => TheoryExperiment.GetOrRun(both, Path.Combine(TempFolder.RunRoot, "never-written")));

        var neither = TheoryConfig.Quick() with { NoiseNorm = null };
        var missing = Assert.Throws<ArgumentException>(() => neither.Validate());
        Assert.Equal("NoiseNorm", missing.ParamName);
    }

    [Fact]
    public void ScalingDUnderThePapersRuleKeepsTheNoiseNormAndScalesK()
    {
        var paper = TheoryConfig.Full();
        foreach (var d in new[] { 250, 1000, 4000 })
        {
            var scaled = paper.AtDimension(d, SubclassRule.PowerOfD);
            Assert.Equal(1.5, scaled.EffectiveNoiseNorm, 12);
            Assert.Equal(1.5 / Math.Sqrt(d), scaled.Sigma, 12);
            Assert.Equal((int)Math.Floor(Math.Pow(d, 0.4) + 1e-9), scaled.SubclassesPerSuperclass);
            Assert.Equal((int)Math.Ceiling(Math.Log(d)), paper.AtDimension(d, SubclassRule.LogOfD).SubclassesPerSuperclass);
            // The robustness rule: σ stays, the norm grows as √d.
            var fixedSigma = paper.WithFixedNoiseStd(0.15).AtDimension(d, SubclassRule.PowerOfD);
            Assert.Equal(0.15 * Math.Sqrt(d), fixedSigma.EffectiveNoiseNorm, 9);
        }
        Assert.Equal((9, 27), (TheoryConfig.SubclassCount(250, SubclassRule.PowerOfD), TheoryConfig.SubclassCount(4000, SubclassRule.PowerOfD)));
    }

    [Fact]
    public void TheDrawnNoiseHasTheConfiguredNormAtEveryD()
    {
        TheoryTestSupport.EnsureNatives();
        foreach (var d in new[] { 100, 2000 })
        {
            var config = TheoryConfig.Quick().AtDimension(d, SubclassRule.LogOfD) with { FeatureStrength = 1e-6 };
            using var data = new HierarchicalMultiViewData(config);
            using var generator = new TorchSharp.torch.Generator(5);
            using var batch = data.Sample(200, hardShare: 1, generator);
            var meanSquaredNorm = batch.Inputs.square().sum(2).mean().item<float>();
            Assert.InRange(Math.Sqrt(meanSquaredNorm), 1.5 * 0.98, 1.5 * 1.02);
        }
    }

    [Fact]
    public void AConfigSavedWithOnlyASigmaReadsBackAsTheFixedSigmaRule()
    {
        var json = JsonFiles.Serialize(TheoryConfig.Quick().WithFixedNoiseStd(0.15)).Replace("\"noiseNorm\": null,", "");
        Assert.DoesNotContain("noiseNorm", json);
        var back = System.Text.Json.JsonSerializer.Deserialize<TheoryConfig>(json, JsonFiles.Options)!.Validate();
        Assert.Equal((0.15, false), (back.Sigma, back.InsideAssumptions));
    }
}
