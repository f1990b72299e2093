namespace Granularity.Experiments;

/// <summary>The schedule of one label set, chosen on the validation split: total epochs (pretraining + transfer; the baseline trains them all on the target) and Adam's learning rate.</summary>
public sealed record ArmSchedule(string LabelSet, int Epochs, double LearningRate, double ValidationError);

/// <summary>The small search that picks every arm's schedule on validation, the same grid for every arm (the baseline included).</summary>
public sealed record ScheduleSearch(IReadOnlyList<int> EpochGrid, IReadOnlyList<double> LearningRateGrid, int Seed)
{
    public static ScheduleSearch Default() => new([3, 6], [2e-3, 5e-3], Seed: 1000);

    /// <summary>The provenance of schedules a search chose: its search.csv, relative to the runs root.</summary>
    public static string Provenance(string searchFolder, string runsRoot) =>
        $"searched on validation: {Path.GetRelativePath(runsRoot, searchFolder).Replace('\\', '/')}/search.csv under the runs root";
}
