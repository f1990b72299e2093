using Granularity.Core;
using Spectre.Console;

namespace Granularity.Cli;

/// <summary>
/// Renders the library's <see cref="IProgressReporter"/> updates: Spectre.Console bars (rate, ETA) on an interactive
/// terminal, plain <see cref="TextProgress"/> lines when output is redirected (logs, Slurm, tests).
/// </summary>
public static class ConsoleProgress
{
    /// <summary>Runs <paramref name="work"/> with a reporter that draws its progress; returns what the work returns.</summary>
    public static T Run<T>(Func<IProgressReporter, T> work)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive) return work(new TextProgress(Console.Out));
        var result = default(T)!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context => result = work(new SpectreReporter(context)));
        return result;
    }

    private sealed class SpectreReporter(ProgressContext context) : IProgressReporter
    {
        private readonly Dictionary<string, Spectre.Console.ProgressTask> tasks = new();

        public void Report(ProgressUpdate update)
        {
            lock (tasks)
            {
                var key = update.Task + "\n" + update.Item;
                if (!tasks.TryGetValue(key, out var task))
                    tasks[key] = task = context.AddTask(Describe(update), maxValue: Math.Max(update.Total, 1e-9));
                task.Description = Describe(update);
                task.MaxValue = Math.Max(update.Total, 1e-9);
                task.Value = Math.Min(update.Done, task.MaxValue);
                if (update.Finished) { task.StopTask(); tasks.Remove(key); }
            }
        }

        private static string Describe(ProgressUpdate update) => Markup.Escape(
            $"{update.Task} {update.Item} {ProgressUpdate.Amount(update.Done, update.Unit)}/{ProgressUpdate.Amount(update.Total, update.Unit)}" +
            (update.Detail is null ? "" : "  " + update.Detail));
    }
}
