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

/// <summary>
/// The datasets the hard-sample study adds to <see cref="ExperimentDatasets"/>. They live here, beside the list, so the list
/// (which every experiment opens) uses no experiment's folder.
/// </summary>
public static class HardSampleDatasets
{
    /// <summary>
    /// The synthetic hierarchy with one world (glyphs, test images) for every run seed, as a real dataset is one fixed set of
    /// images: the run seed then varies the initialisation and data order only, and per-sample results of different seeds
    /// refer to the same test images.
    /// </summary>
    public const string FixedWorldToyName = "synthetic-hierarchy-fixed";
    public const int FixedWorldSeed = 0;

    /// <summary>Adds the fixed-world synthetic hierarchy to <paramref name="registry"/>.</summary>
    public static DatasetRegistry AddTo(DatasetRegistry registry) =>
        registry.Add(FixedWorldToyName, (config, _) => SyntheticHierarchyData.Create(config, FixedWorldSeed));
}
