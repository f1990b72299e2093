using Granularity.Core;
using Granularity.Runs;
using Granularity.Training;

namespace Granularity.Experiments;

/// <summary>
/// What the image experiments' train-or-read entry points share: a notebook policy as training options, the finished
/// training runs of a store, and the seed count the claims' verdict rule needs.
/// </summary>
public static class ExperimentRuns
{
    /// <summary>Fewer seeds than this give no interval worth the name: such claims are inconclusive by rule.</summary>
    public const int MinimumSeedsForAVerdict = 3;

    /// <summary>Seeds 0 … <see cref="MinimumSeedsForAVerdict"/> − 1: the Full configs' default, so a Full run can reach a verdict.</summary>
    public static IReadOnlyList<int> VerdictSeeds => Enumerable.Range(0, MinimumSeedsForAVerdict).ToArray();

    /// <summary>
    /// The training options of a policy-driven run (notebooks): its runs root and progress; evaluation splits read once, at
    /// each stage's end (per-epoch curves of test splits are neither shown nor a reason to read them), no TensorBoard files.
    /// </summary>
    public static TrainingOptions NotebookOptions(RunPolicy policy) =>
        new() { RunsRoot = policy.RunsRoot, EvaluateEachEpoch = false, TensorBoard = false, Progress = ProgressOf(policy) };

    /// <summary>The policy's progress reporter as a training callback (at most one update a second, and at each epoch's end).</summary>
    public static Action<TrainingProgress>? ProgressOf(RunPolicy policy) =>
        policy.Progress is { } reporter ? ProgressReporters.Throttled(ProgressReporters.To(reporter)) : null;

    /// <summary>Every finished training run under <paramref name="runsRoot"/>, by its config's JSON (the first of equal ones).</summary>
    internal static Dictionary<string, TrainingRunView> FinishedRuns(string? runsRoot)
    {
        var result = new Dictionary<string, TrainingRunView>(StringComparer.Ordinal);
        foreach (var run in TrainingRuns.LoadAll(runsRoot)) result.TryAdd(JsonFiles.Serialize(run.Config), run);
        return result;
    }

    /// <summary>The median of <paramref name="values"/>, NaN when there are none.</summary>
    internal static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
