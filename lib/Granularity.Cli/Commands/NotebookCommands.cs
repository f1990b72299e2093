using Granularity.Core;
using Granularity.Notebook;
using Granularity.Runs;

namespace Granularity.Cli.Commands;

/// <summary>`granularity notebooks run`: executes every notebook headless and keeps the executed copies.</summary>
public sealed class NotebooksRunCommand : ICliCommand
{
    public string Name => "notebooks run";
    public string Summary => "execute notebooks headless (Quick by default) into artifacts/notebooks";
    public string Usage => """
        usage: granularity notebooks run [--full] [--only PREFIX[,PREFIX…]] [--out FOLDER] [--timeout-min N] [--client jupyter|repl]
          --full          run the paper-scale configuration (GRANULARITY_MODE=full); Quick is the default
          --timings       also write per-notebook and slowest-cell times with the load average (the benchmark behind
                          the README's run times) to FOLDER/timings.md
          --client        jupyter (default: nbclient with the .NET Interactive Jupyter kernel) or repl (dotnet-repl, no Python)
          --only          run only notebooks whose file name starts with one of these prefixes (e.g. 01,02)
          --out           where executed copies go (default artifacts/notebooks)
          --timeout-min   per-notebook limit in minutes (default 60 Quick, 600 Full)
        """;

    public int Run(CliArguments arguments)
    {
        var full = arguments.Flag("full");
        var only = arguments.String("only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var output = arguments.String("out", Path.Combine(ProjectPaths.RepositoryRoot, "artifacts", "notebooks"));
        var timeout = TimeSpan.FromMinutes(arguments.Int("timeout-min", full ? 600 : 60, min: 1));
        var client = NotebookClients.Parse(arguments.String("client", "jupyter"));
        var timings = arguments.Flag("timings");
        arguments.RejectUnknown();

        var notebooks = NotebookRunner.Notebooks()
            .Where(n => only is null || only.Any(prefix => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal))).ToList();
        if (notebooks.Count == 0) throw new CliUsageException("no notebook matches --only");
        var failed = 0;
        var measured = new List<NotebookTiming>();
        foreach (var notebook in notebooks)
        {
            var loadBefore = NotebookTimings.LoadAverage();
            Console.WriteLine($"▶ {Path.GetFileName(notebook)} ({(full ? "Full" : "Quick")}, {client})");
            NotebookExecution result;
            try { result = NotebookRunner.Run(notebook, output, full ? RunMode.Full : RunMode.Quick, timeout, client); }
            catch (InvalidOperationException error)
            {
                Console.Error.WriteLine(error.Message);
                return 2;
            }
            if (timings && File.Exists(result.ExecutedCopy))
                measured.Add(new NotebookTiming(Path.GetFileName(notebook), result.Duration, NotebookTimings.CellsOf(result.ExecutedCopy), loadBefore, NotebookTimings.LoadAverage()));
            if (result.Succeeded) Console.WriteLine($"  ok in {result.Duration.TotalSeconds:0.0} s → {result.ExecutedCopy}");
            else
            {
                failed++;
                foreach (var failure in result.Failures) Console.WriteLine($"  FAIL {failure}");
            }
        }
        Console.WriteLine($"{notebooks.Count - failed} passed, {failed} failed");
        if (timings)
        {
            var report = NotebookTimings.Report(measured, client == NotebookClient.Jupyter ? "Jupyter (nbclient)" : "dotnet-repl", full ? "Full" : "Quick");
            AtomicFile.WriteAllText(Path.Combine(output, "timings.md"), report);
            Console.WriteLine(report);
        }
        Console.WriteLine($"figures: {ProjectPaths.FiguresRoot}");
        return failed == 0 ? 0 : 1;
    }
}
