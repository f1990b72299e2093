using System.Diagnostics;
using Granularity.Core;

namespace Granularity.Training;

/// <summary>A snapshot of a running stage, for the console line and notebook displays.</summary>
public sealed record TrainingProgress(
    string Stage, string Level, int Epoch, int Epochs, int SamplesDone, int SamplesPerEpoch,
    double Loss, double LearningRate, double SamplesPerSecond, TimeSpan Elapsed, TimeSpan Remaining, bool EpochFinished,
    IReadOnlyList<SplitEvaluation>? Evaluation = null)
{
    public override string ToString()
    {
        var eval = Evaluation is null ? "" : "  " + string.Join("  ", Evaluation.Select(e => $"{e.Split} top-1 err {e.Top1Error:P1}"));
        return $"{Stage} [{Level}] epoch {Epoch + 1}/{Epochs} {100.0 * SamplesDone / Math.Max(1, SamplesPerEpoch),5:0.0}%  loss {Loss:0.0000}  lr {LearningRate:0.####e+0}  " +
               $"{SamplesPerSecond:0} img/s  ETA {Format(Remaining)}{eval}";
    }

    /// <summary>This snapshot as a shared progress update: the epoch is the task, images the unit.</summary>
    public ProgressUpdate ToUpdate()
    {
        var eval = Evaluation is null ? "" : "  " + string.Join("  ", Evaluation.Select(e => $"{e.Split} top-1 err {e.Top1Error:P1}"));
        return new ProgressUpdate($"{Stage} [{Level}] epoch {Epoch + 1}/{Epochs}", "", EpochFinished ? SamplesPerEpoch : SamplesDone, SamplesPerEpoch, "img",
            Elapsed, $"loss {Loss:0.0000}  lr {LearningRate:0.####e+0}  stage ETA {Format(Remaining)}{eval}");
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : $"{t.Minutes}m{t.Seconds:00}s";
}

/// <summary>Progress reporters: the shared <see cref="IProgressReporter"/> renderers, and a throttle for notebook display callbacks.</summary>
public static class ProgressReporters
{
    /// <summary>Sends each snapshot to <paramref name="reporter"/> as one bar per epoch (images done of the epoch; loss, learning rate and the stage's ETA as detail).</summary>
    public static Action<TrainingProgress> To(IProgressReporter reporter) => progress => reporter.Report(progress.ToUpdate());

    /// <summary>Calls <paramref name="display"/> at most every <paramref name="interval"/> and at the end of each epoch (for a notebook's updatable display).</summary>
    public static Action<TrainingProgress> Throttled(Action<TrainingProgress> display, TimeSpan? interval = null)
    {
        var every = interval ?? TimeSpan.FromSeconds(1);
        var clock = Stopwatch.StartNew();
        TimeSpan? last = null;
        return progress =>
        {
            if (!progress.EpochFinished && last is { } previous && clock.Elapsed - previous < every) return;
            last = clock.Elapsed;
            display(progress);
        };
    }
}
