using System.CommandLine;
using Granularity.Core;
using Granularity.Runs;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>`granularity runs …`: the run store's folders and their state against this build.</summary>
public static class RunCommands
{
    public static IEnumerable<Command> Build() => [Group("runs", "the run store: list runs with their state (fresh, stale, incomplete), prune stale ones", List(), Prune())];

    private static Option<string> Root() => Text("--runs", "run folders root", ProjectPaths.RunsRoot, "DIR");

    private static Command List()
    {
        var root = Root();
        var staleOnly = Flag("--stale", "only stale and unreadable runs");
        return Command("list", "every run folder with its state against this build (stale = made by other code, never served)", [root, staleOnly], parse =>
        {
            var store = new RunStore(Path.GetFullPath(parse.GetValue(root)!));
            var runs = store.List().Where(r => !parse.GetValue(staleOnly) || r.State is RunState.Stale or RunState.Unreadable).ToList();
            foreach (var run in runs)
                Console.WriteLine($"{run.State.ToString().ToLowerInvariant(),-11} {run.Experiment,-22} {Path.GetRelativePath(store.Root, run.Folder.Path),-40} {run.Reason}");
            var counts = string.Join(", ", runs.GroupBy(r => r.State).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
            Console.WriteLine($"{runs.Count} run folder(s) under {store.Root}{(counts.Length > 0 ? ": " + counts : "")}");
            return 0;
        });
    }

    private static Command Prune()
    {
        var root = Root();
        var incomplete = Flag("--incomplete", "also delete unfinished runs (they would otherwise resume)");
        var dryRun = Flag("--dry-run", "list what would be deleted, delete nothing");
        return Command("prune", "delete stale and unreadable run folders", [root, incomplete, dryRun], parse =>
        {
            var store = new RunStore(Path.GetFullPath(parse.GetValue(root)!));
            var doomed = parse.GetValue(dryRun)
                ? store.List().Where(r => r.State is RunState.Stale or RunState.Unreadable || (parse.GetValue(incomplete) && r.State == RunState.Incomplete)).ToList()
                : store.Prune(parse.GetValue(incomplete));
            foreach (var run in doomed) Console.WriteLine($"{(parse.GetValue(dryRun) ? "would delete" : "deleted")} {run.Folder.Path} ({run.State.ToString().ToLowerInvariant()}: {run.Reason})");
            Console.WriteLine($"{doomed.Count} run folder(s) {(parse.GetValue(dryRun) ? "to delete" : "deleted")}");
            return 0;
        });
    }
}
