using Granularity.Data;
using Granularity.Hierarchy;

namespace Granularity.Training;

/// <summary>A labelled image collection with a label hierarchy: training and evaluation batches at any of its levels.</summary>
public interface ITrainingData : IDisposable
{
    /// <summary>The levels of the hierarchy, coarse to fine.</summary>
    IReadOnlyList<string> Levels { get; }

    /// <summary>The label map of <paramref name="level"/>; an unknown level throws, naming the known ones.</summary>
    LabelMap Labels(string level);

    /// <summary>Shuffled training batches at <paramref name="level"/>; order and augmentation follow <paramref name="seed"/> and the epoch.</summary>
    IBatchSource Training(string level, int batchSize, int seed);

    /// <summary>Training images in a fixed order without augmentation (for precomputing linear-probe features).</summary>
    IBatchSource TrainingForFeatures(string level, int batchSize);

    /// <summary>The evaluation splits (e.g. "val", or "easy" and "hard") at <paramref name="level"/>, in a fixed order.</summary>
    IReadOnlyList<(string Split, IBatchSource Source)> Evaluation(string level, int batchSize);
}

/// <summary>
/// The datasets a run can open by name: an explicit list, built by whoever starts the run (the synthetic ones here,
/// every dataset in <c>Granularity.Experiments.ExperimentDatasets</c>).
/// </summary>
public sealed class DatasetRegistry
{
    private readonly Dictionary<string, Func<DatasetConfig, int, ITrainingData>> factories = new(StringComparer.Ordinal);

    /// <summary>Adds (or replaces) the factory for <paramref name="name"/>: (config, data seed) → dataset.</summary>
    public DatasetRegistry Add(string name, Func<DatasetConfig, int, ITrainingData> factory)
    {
        lock (factories) factories[name] = factory;
        return this;
    }

    public IReadOnlyList<string> Names { get { lock (factories) return factories.Keys.Order().ToList(); } }

    /// <summary>Opens the dataset a config names; an unknown name lists the known ones.</summary>
    public ITrainingData Open(DatasetConfig config, int seed)
    {
        Func<DatasetConfig, int, ITrainingData>? factory;
        lock (factories) factories.TryGetValue(config.Name, out factory);
        if (factory is null) throw new ArgumentException($"Dataset '{config.Name}' is not known here (known: {string.Join(", ", Names)})");
        return factory(config.Validated(), seed);
    }

    /// <summary>The generated synthetic hierarchy (and its validation variant) only: what the training layer can open by itself.</summary>
    public static DatasetRegistry Synthetic() =>
        new DatasetRegistry().Add(SyntheticHierarchyData.DatasetName, (config, seed) => SyntheticHierarchyData.Create(config, seed))
            .Add(SyntheticHierarchyData.ValidationDatasetName, (config, seed) => SyntheticHierarchyData.Create(config, seed));
}

/// <summary>Checks shared by everything that opens a dataset.</summary>
public static class TrainingDatasets
{
    /// <summary>The label map of <paramref name="level"/>, or a clear error naming the levels the hierarchy has.</summary>
    public static LabelMap RequireLevel(ITrainingData data, string level, string field)
    {
        if (!data.Levels.Contains(level))
            throw new ArgumentException($"{field} '{level}' is not a level of this dataset's hierarchy (levels: {string.Join(", ", data.Levels)})");
        return data.Labels(level);
    }
}
