using System.CommandLine;
using Granularity.Core;
using Granularity.Notebook;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>`granularity notebooks run`: executes notebooks headless and keeps the executed copies.</summary>
public static class NotebookCommands
{
    public static IEnumerable<Command> Build()
    {
        var full = Flag("--full", "run the paper-scale configuration (GRANULARITY_MODE=full); Quick is the default");
        var only = List("--only", "run only notebooks whose file name starts with one of these prefixes (e.g. 01,02)", "PREFIX,…");
        var output = Text("--out", "where executed copies go", Path.Combine(ProjectPaths.RepositoryRoot, "artifacts", "notebooks"), "DIR");
        var timeout = OptionalInt("--timeout-min", "per-notebook limit in minutes (default 60 Quick, 600 Full)", min: 1);
        var run = Command("run", "execute notebooks headless (Quick by default) into artifacts/notebooks", [full, only, output, timeout], parse =>
        {
            var isFull = parse.GetValue(full);
            var prefixes = parse.GetList(only);
            var limit = TimeSpan.FromMinutes(parse.GetValue(timeout) ?? (isFull ? 600 : 60));
            var notebooks = NotebookRunner.Notebooks()
                .Where(n => prefixes is null || prefixes.Any(prefix => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal))).ToList();
            if (notebooks.Count == 0) throw new CliUsageException($"--only: no notebook file name starts with {string.Join(" or ", prefixes!)}");
            var failed = 0;
            foreach (var notebook in notebooks)
            {
                Console.WriteLine($"▶ {Path.GetFileName(notebook)} ({(isFull ? "Full" : "Quick")})");
                var result = NotebookRunner.Run(notebook, parse.GetValue(output)!, isFull ? RunMode.Full : RunMode.Quick, limit);
                if (result.Succeeded) Console.WriteLine($"  ok in {result.Duration.TotalSeconds:0.0} s → {result.ExecutedCopy}");
                else
                {
                    failed++;
                    foreach (var failure in result.Failures) Console.WriteLine($"  FAIL {failure}");
                }
            }
            Console.WriteLine($"{notebooks.Count - failed} passed, {failed} failed");
            Console.WriteLine($"figures: {ProjectPaths.FiguresRoot}");
            return failed == 0 ? 0 : 1;
        });
        return [Group("notebooks", "the notebooks, executed headless", run)];
    }
}
