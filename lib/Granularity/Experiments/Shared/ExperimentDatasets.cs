using Granularity.Training;

namespace Granularity.Experiments;

/// <summary>
/// Every dataset an experiment, a sweep task or the command line can open by name, in one explicit list: the synthetic
/// hierarchy, its fixed-world variant, iNat2021 and ImageNet (real and stand-in).
/// </summary>
public static class ExperimentDatasets
{
    /// <summary>The project's registry. Tests may add datasets of their own to it under names of their own.</summary>
    public static DatasetRegistry All { get; } = Create();

    /// <summary>A new registry holding every dataset of the project.</summary>
    public static DatasetRegistry Create()
    {
        var registry = DatasetRegistry.Synthetic();
        HardSampleDatasets.AddTo(registry);
        RealDatasets.AddTo(registry);
        return registry;
    }
}
