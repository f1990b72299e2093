using System.CommandLine;
using Granularity.Core;
using Granularity.Notebook;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>`granularity notebooks run`: executes notebooks headless (through Jupyter, or dotnet-repl) and keeps the executed copies; `--timings` is the run-time benchmark.</summary>
public static class NotebookCommands
{
    public static IEnumerable<Command> Build()
    {
        var full = Flag("--full", "run the paper-scale configuration (GRANULARITY_MODE=full); Quick is the default");
        var only = List("--only", "run only notebooks whose file name starts with one of these prefixes (e.g. 01,02)", "PREFIX,…");
        var output = Text("--out", "where executed copies go", Path.Combine(ProjectPaths.ArtifactsRoot, "notebooks"), "DIR");
        var timeout = OptionalInt("--timeout-min", "per-notebook limit in minutes (default 60 Quick, 600 Full)", min: 1);
        var client = Choice("--client", "jupyter: nbclient with the .NET Interactive Jupyter kernel (what the tests use); repl: the pinned dotnet-repl, no Python", "jupyter", "jupyter", "repl");
        var timings = Flag("--timings", "also write per-notebook and slowest-cell times with the load average to OUT/timings.md (the benchmark behind the README's run times)");
        var run = Command("run", "execute notebooks headless (Quick by default) into artifacts/notebooks", [full, only, output, timeout, client, timings], parse =>
        {
            var chosen = NotebookClients.Parse(parse.GetValue(client)!);
            var measure = parse.GetValue(timings);
            var measured = new List<NotebookTiming>();
            var isFull = parse.GetValue(full);
            var prefixes = parse.GetList(only);
            var limit = TimeSpan.FromMinutes(parse.GetValue(timeout) ?? (isFull ? 600 : 60));
            var notebooks = NotebookRunner.Notebooks()
                .Where(n => prefixes is null || prefixes.Any(prefix => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal))).ToList();
            if (notebooks.Count == 0) throw new CliUsageException($"--only: no notebook file name starts with {string.Join(" or ", prefixes!)}");
            var failed = 0;
            foreach (var notebook in notebooks)
            {
                Console.WriteLine($"▶ {Path.GetFileName(notebook)} ({(isFull ? "Full" : "Quick")}, {chosen})");
                var loadBefore = NotebookTimings.LoadAverage();
                var result = NotebookRunner.Run(notebook, parse.GetValue(output)!, isFull ? RunMode.Full : RunMode.Quick, limit, chosen);
                if (measure && File.Exists(result.ExecutedCopy))
                    measured.Add(new NotebookTiming(Path.GetFileName(notebook), result.Duration, NotebookTimings.CellsOf(result.ExecutedCopy), loadBefore, NotebookTimings.LoadAverage()));
                if (result.Succeeded) Console.WriteLine($"  ok in {result.Duration.TotalSeconds:0.0} s → {result.ExecutedCopy}");
                else
                {
                    failed++;
                    foreach (var failure in result.Failures) Console.WriteLine($"  FAIL {failure}");
                }
            }
            Console.WriteLine($"{notebooks.Count - failed} passed, {failed} failed");
            if (measure)
            {
                var report = NotebookTimings.Report(measured, chosen == NotebookClient.Jupyter ? "Jupyter (nbclient)" : "dotnet-repl", isFull ? "Full" : "Quick");
                AtomicFile.WriteAllText(Path.Combine(parse.GetValue(output)!, "timings.md"), report);
                Console.WriteLine(report);
            }
            Console.WriteLine($"figures: {ProjectPaths.FiguresRoot}");
            return failed == 0 ? 0 : 1;
        });
        return [Group("notebooks", "the notebooks, executed headless", run)];
    }
}
