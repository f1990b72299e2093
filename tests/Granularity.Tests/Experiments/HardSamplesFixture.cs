using Granularity.Core;
using Granularity.Experiments;
using Granularity.Notebook;
using Granularity.Training;
using Xunit;

namespace Granularity.Tests.Experiments;

/// <summary>
/// One tiny hard-sample study (fixed-world toy hierarchy, 512 training and 256 + 256 easy/hard test images at 16 px, a
/// 32-channel small CNN), trained once into a temporary runs root and shared by the hard-sample and figure-catalog tests.
/// </summary>
public sealed class HardSamplesFixture : IDisposable
{
    public HardSamplesFixture()
    {
        TorchRuntime.EnsureNativesLoaded();
        Root = TempFolder.Create("hard-samples");
        Config = Tiny();
        Result = HardSamples.Run(Config, Root);
    }

    public string Root { get; }
    public HardSamplesConfig Config { get; }
    public HardSamplesResult Result { get; }

    /// <summary>Quick shrunk to seconds; the recipe (baseline vs leaf pretraining + linear probe) is Quick's.</summary>
    public static HardSamplesConfig Tiny() => HardSamplesConfig.Quick() with
    {
        Name = "tiny",
        Reference = HardSamplesConfig.Quick().Reference with
        {
            Dataset = new DatasetConfig(HardSampleDatasets.FixedWorldToyName, TrainSamples: 512, EvaluationSamples: 256, ImageSize: 16),
            Model = new ModelConfig(Architecture.SmallCnn, ImageSize: 16, SmallCnnWidth: 32),
            Pretraining = new StageConfig(4, 32, OptimizerKind.Adam, 2e-3, LearningRateSchedule.Constant),
            Transfer = new StageConfig(10, 32, OptimizerKind.Adam, 1e-2, LearningRateSchedule.Constant),
            Baseline = new StageConfig(4, 32, OptimizerKind.Adam, 2e-3, LearningRateSchedule.Constant),
        },
        Seeds = [0, 1],
        Bins = 4,
    };

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Tests that share the tiny study (and TorchSharp's process-wide state) run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HardSamplesCollection : ICollectionFixture<HardSamplesFixture>
{
    public const string Name = "Hard samples (TorchSharp, serial)";
}
