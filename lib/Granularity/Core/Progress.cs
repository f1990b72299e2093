using System.Diagnostics;
using System.Globalization;

namespace Granularity.Core;

/// <summary>How far one long task is: done of total in some unit, the time it has taken, and what it is working on.</summary>
public sealed record ProgressUpdate(string Task, string Item, double Done, double Total, string Unit, TimeSpan Elapsed, string? Detail = null)
{
    public double Fraction => Total > 0 ? Math.Clamp(Done / Total, 0, 1) : 1;

    public bool Finished => Done >= Total;

    /// <summary>Units per second so far; 0 before any progress.</summary>
    public double Rate => Elapsed.TotalSeconds > 0 ? Done / Elapsed.TotalSeconds : 0;

    /// <summary>Estimated time left at the rate so far; null before any progress.</summary>
    public TimeSpan? Remaining => Rate > 0 ? TimeSpan.FromSeconds(Math.Max(0, Total - Done) / Rate) : null;

    /// <summary>One plain line, e.g. "md5 train.tar.gz  42.0%  1.2 GB/2.9 GB  95.1 MB/s  ETA 0:00:17".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Task} {Item}  {Fraction,6:P1}  {Amount(Done, Unit)}/{Amount(Total, Unit)}  {Amount(Rate, Unit)}/s  ETA {(Remaining is { } left ? Clock(left) : "–")}{(Detail is null ? "" : "  " + Detail)}");

    /// <summary>A value in its unit, with decimal prefixes for bytes ("1.2 GB") and thousands separators otherwise.</summary>
    public static string Amount(double value, string unit)
    {
        if (unit != "B") return value.ToString(value >= 100 ? "N0" : "0.#", CultureInfo.InvariantCulture) + (unit.Length > 0 ? " " + unit : "");
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        var u = 0;
        while (value >= 1000 && u < units.Length - 1) { value /= 1000; u++; }
        return value.ToString(u == 0 ? "0" : "0.0", CultureInfo.InvariantCulture) + " " + units[u];
    }

    public static string Clock(TimeSpan time) => time.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)time.TotalHours}:{time.Minutes:00}:{time.Seconds:00}")
        : string.Create(CultureInfo.InvariantCulture, $"{time.Minutes}:{time.Seconds:00}");
}

/// <summary>Receives the progress of long tasks; the CLI draws bars with Spectre.Console, notebooks a progress bar, <see cref="TextProgress"/> lines.</summary>
public interface IProgressReporter
{
    void Report(ProgressUpdate update);
}

/// <summary>Reports one task's progress: keeps the task's clock so every update carries elapsed time, rate and ETA.</summary>
public sealed class ProgressTask(IProgressReporter? reporter, string task, double total, string unit = "")
{
    private readonly Stopwatch clock = Stopwatch.StartNew();

    public void Report(double done, string item = "", string? detail = null) =>
        reporter?.Report(new ProgressUpdate(task, item, done, total, unit, clock.Elapsed, detail));
}

/// <summary>
/// The plain-text renderer (logs, Slurm, redirected output, notebooks without a display): one line when a task
/// starts, at each further tenth and when it finishes, and at most one line per <c>interval</c> otherwise.
/// </summary>
public sealed class TextProgress(TextWriter writer, TimeSpan? interval = null) : IProgressReporter
{
    private readonly TimeSpan every = interval ?? TimeSpan.FromSeconds(30);
    private readonly Dictionary<string, (int Tenth, TimeSpan At)> last = new();

    public void Report(ProgressUpdate update)
    {
        var key = update.Task + "\n" + update.Item;
        var tenth = (int)(update.Fraction * 10);
        lock (last)
        {
            if (last.TryGetValue(key, out var previous) && !update.Finished && tenth == previous.Tenth && update.Elapsed - previous.At < every) return;
            if (update.Finished) last.Remove(key); else last[key] = (tenth, update.Elapsed);
            writer.WriteLine("  " + update);
        }
    }
}
