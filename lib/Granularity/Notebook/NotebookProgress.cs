using System.Globalization;
using System.Reflection;
using Granularity.Core;

namespace Granularity.Notebook;

/// <summary>
/// The notebook renderer of the shared progress abstraction: one progress bar per running cell, showing the current task
/// with its rate and ETA, updated in place in the cell's output (the kernel's updatable display, found by reflection);
/// where no kernel display exists it falls back to <see cref="TextProgress"/> lines.
/// </summary>
public sealed class NotebookProgress : IProgressReporter
{
    private const int Width = 24;
    private readonly Func<object, object?>? display;
    private readonly Func<object?> currentCell;
    private readonly IProgressReporter fallback = new TextProgress(Console.Out);
    private readonly object gate = new();
    private object? cell, shown;
    private bool broken;

    private NotebookProgress(Func<object, object?>? display, Func<object?> currentCell) => (this.display, this.currentCell) = (display, currentCell);

    /// <summary>A reporter drawing bars in the running kernel's cell output, or text lines outside a kernel.</summary>
    public static NotebookProgress Create()
    {
        var kernel = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == "Microsoft.DotNet.Interactive")
            ?.GetType("Microsoft.DotNet.Interactive.Kernel");
        var method = kernel?.GetMethod("display", BindingFlags.Public | BindingFlags.Static, [typeof(object), typeof(string[])]);
        var context = kernel?.Assembly.GetType("Microsoft.DotNet.Interactive.KernelInvocationContext")?.GetProperty("Current", BindingFlags.Public | BindingFlags.Static);
        return new NotebookProgress(method is null || context is null ? null : value => method.Invoke(null, [value, Array.Empty<string>()]), () => context?.GetValue(null));
    }

    /// <summary>True when bars go to the kernel's display rather than text lines.</summary>
    public bool Draws => display is not null && !broken;

    public void Report(ProgressUpdate update)
    {
        if (!Draws)
        {
            fallback.Report(update);
            return;
        }
        var bar = new Markdown(Bar(update));
        try
        {
            lock (gate)
            {
                var now = currentCell();
                if (shown is not null && ReferenceEquals(now, cell))
                    shown.GetType().GetMethod("Update", [typeof(object)])?.Invoke(shown, [bar]);
                else
                {
                    shown = display!(bar);
                    cell = now;
                }
            }
        }
        catch (Exception error) when (error is TargetInvocationException or InvalidOperationException or ArgumentException)
        {
            broken = true;
            fallback.Report(update);
        }
    }

    /// <summary>"`██████░░░░` 60.0% · task · 1,200/2,000 img · 850 img/s · ETA 0:01 · detail".</summary>
    public static string Bar(ProgressUpdate update)
    {
        var filled = (int)Math.Round(update.Fraction * Width);
        return string.Create(CultureInfo.InvariantCulture,
            $"`{new string('█', filled)}{new string('░', Width - filled)}` {100 * update.Fraction,5:0.0}% · {update.Task}{(update.Item.Length > 0 ? " " + update.Item : "")} · "
            + $"{ProgressUpdate.Amount(update.Done, update.Unit)}/{ProgressUpdate.Amount(update.Total, update.Unit)} · {ProgressUpdate.Amount(update.Rate, update.Unit)}/s · "
            + $"ETA {(update.Remaining is { } left ? ProgressUpdate.Clock(left) : "–")}{(update.Detail is null ? "" : " · " + update.Detail)}");
    }
}
