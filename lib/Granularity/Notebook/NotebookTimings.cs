using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Granularity.Notebook;

/// <summary>How long one cell of an executed notebook took (from Jupyter's per-cell execution timestamps).</summary>
public sealed record CellTiming(int Cell, string FirstLine, TimeSpan Duration);

/// <summary>One notebook's measured run: wall time, per-cell times, and the machine's load when it ran.</summary>
public sealed record NotebookTiming(string Notebook, TimeSpan Wall, IReadOnlyList<CellTiming> Cells, double LoadBefore, double LoadAfter)
{
    /// <summary>The slowest cells first.</summary>
    public IEnumerable<CellTiming> Slowest(int count) => Cells.OrderByDescending(c => c.Duration).Take(count);
}

/// <summary>
/// Per-notebook and per-cell run times for the benchmark `granularity notebooks run --timings`: read from the executed
/// copies (Jupyter records when each cell started and finished) and reported with the machine and its load average.
/// </summary>
public static class NotebookTimings
{
    /// <summary>The 1-minute load average (Linux <c>/proc/loadavg</c>), NaN elsewhere.</summary>
    public static double LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException) { return double.NaN; }
    }

    /// <summary>Per-cell durations from an executed notebook's <c>metadata.execution</c> timestamps (Jupyter client); empty when it has none.</summary>
    public static IReadOnlyList<CellTiming> CellsOf(string executedNotebook)
    {
        var cells = JsonNode.Parse(File.ReadAllText(executedNotebook))?["cells"]?.AsArray()
            ?? throw new InvalidDataException($"{executedNotebook}: no 'cells' array");
        var timings = new List<CellTiming>();
        for (int i = 0; i < cells.Count; i++)
        {
            var execution = cells[i]?["metadata"]?["execution"];
            if (execution is null) continue;
            if (!DateTimeOffset.TryParse((string?)execution["iopub.execute_input"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
                || !DateTimeOffset.TryParse((string?)execution["iopub.status.idle"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var end))
                continue;
            var source = cells[i]!["source"] switch
            {
                JsonArray lines => string.Concat(lines.Select(l => (string?)l)),
                var node => (string?)node ?? "",
            };
            var first = source.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith("using ", StringComparison.Ordinal)) ?? "";
            timings.Add(new CellTiming(i + 1, first.Length > 70 ? first[..70] + "…" : first, end - start));
        }
        return timings;
    }

    /// <summary>A Markdown report: machine, date, one row per notebook with its wall time, load and slowest cells.</summary>
    /// <paramref name="arrangement"/> says how many kernels ran at once (<see cref="NotebookSchedule.Describe"/>) and
    /// <paramref name="elapsed"/> is the wall time of the whole run, which is less than the sum when kernels overlap.
    public static string Report(IReadOnlyList<NotebookTiming> timings, string client, string mode, string? arrangement = null, TimeSpan? elapsed = null)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Notebook run times ({mode}, {client})").AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC · {Environment.ProcessorCount} cores · {CpuModel()}{(arrangement is null ? "" : " · " + arrangement + " at once")} · load average before/after each notebook in the table (1 min; ≈ cores busy)").AppendLine();
        if (elapsed is { } wall)
            text.AppendLine(CultureInfo.InvariantCulture, $"All notebooks: **{Format(wall)}** wall time (the notebooks' own times below add up to {Format(TimeSpan.FromTicks(timings.Sum(t => t.Wall.Ticks)))}).").AppendLine();
        text.AppendLine("| notebook | wall time | load before → after | slowest cells |").AppendLine("|---|---|---|---|");
        foreach (var t in timings)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {t.Notebook} | {Format(t.Wall)} | {t.LoadBefore:0.0} → {t.LoadAfter:0.0} | {string.Join("; ", t.Slowest(3).Select(c => $"cell {c.Cell} {Format(c.Duration)} `{c.FirstLine.Replace("|", "∣").Replace("`", "'")}`"))} |");
        text.AppendLine(CultureInfo.InvariantCulture, $"| **sum** | **{Format(TimeSpan.FromTicks(timings.Sum(t => t.Wall.Ticks)))}** | | |");
        return text.ToString();
    }

    /// <summary>"1 min 05 s" or "42.3 s".</summary>
    public static string Format(TimeSpan span) =>
        span.TotalSeconds < 60 ? span.TotalSeconds.ToString("0.0 's'", CultureInfo.InvariantCulture) : $"{(int)span.TotalMinutes} min {span.Seconds:00} s";

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "CPU model unknown" : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { return "CPU model unknown"; }
    }
}
