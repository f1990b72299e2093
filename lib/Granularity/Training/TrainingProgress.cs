using System.Diagnostics;

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

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : $"{t.Minutes}m{t.Seconds:00}s";
}

/// <summary>Progress reporters: a live console line, and a throttle for notebook display callbacks.</summary>
public static class ProgressReporters
{
    /// <summary>
    /// A live line on an interactive console (rewritten in place with a carriage return); when output is redirected
    /// (log files, Slurm) one line per finished epoch and at most one every <paramref name="interval"/> otherwise.
    /// </summary>
    public static Action<TrainingProgress> Console(TimeSpan? interval = null)
    {
        var live = !System.Console.IsOutputRedirected;
        var every = interval ?? (live ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        TimeSpan? last = null;
        return progress =>
        {
            if (!progress.EpochFinished && last is { } previous && clock.Elapsed - previous < every) return;
            last = clock.Elapsed;
            if (live)
            {
                var line = progress.ToString();
                var width = Math.Max(40, SafeWidth() - 1);
                System.Console.Write("\r" + (line.Length > width ? line[..width] : line.PadRight(width)));
                if (progress.EpochFinished) System.Console.WriteLine();
            }
            else System.Console.WriteLine(progress.ToString());
        };
    }

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

    private static int SafeWidth()
    {
        try { return System.Console.WindowWidth > 0 ? System.Console.WindowWidth : 160; }
        catch (IOException) { return 160; }
    }
}
