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
        var kernels = OptionalInt("--kernels", "notebooks executed at once, each kernel with cores/N torch threads (default: one per core, at most 4; 1: one after another in numbered order); notebooks that read the others' runs (07) start after them", min: 1, max: 16);
        var run = Command("run", "execute notebooks headless (Quick by default) into artifacts/notebooks", [full, only, output, timeout, client, timings, kernels], parse =>
        {
            var chosen = NotebookClients.Parse(parse.GetValue(client)!);
            var measure = parse.GetValue(timings);
            var measured = new List<NotebookTiming>();
            var isFull = parse.GetValue(full);
            var prefixes = parse.GetList(only);
            var outputFolder = parse.GetValue(output)!;
            var limit = TimeSpan.FromMinutes(parse.GetValue(timeout) ?? (isFull ? 600 : 60));
            var notebooks = NotebookRunner.Notebooks()
                .Where(n => prefixes is null || prefixes.Any(prefix => Path.GetFileName(n).StartsWith(prefix, StringComparison.Ordinal)))
                .Select(ScheduledNotebook.Read).ToList();
            if (notebooks.Count == 0) throw new CliUsageException($"--only: no notebook file name starts with {string.Join(" or ", prefixes!)}");
            var cores = Environment.ProcessorCount;
            var kernelCount = Math.Min(parse.GetValue(kernels) ?? NotebookSchedule.DefaultKernels(cores), notebooks.Count);
            var threads = NotebookSchedule.ThreadsPerKernel(cores, kernelCount);
            var arrangement = NotebookSchedule.Describe(kernelCount, threads);
            Console.WriteLine($"{notebooks.Count} notebook(s), {(isFull ? "Full" : "Quick")}, {chosen}, {arrangement} on {cores} cores");
            var console = new object();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var results = NotebookSchedule.Run(notebooks, kernelCount, notebook =>
            {
                var name = Path.GetFileName(notebook.Path);
                lock (console) Console.WriteLine($"▶ {name}");
                var loadBefore = NotebookTimings.LoadAverage();
                var result = NotebookRunner.Run(notebook.Path, outputFolder, isFull ? RunMode.Full : RunMode.Quick, limit, chosen, NotebookSchedule.KernelEnvironment(threads));
                var loadAfter = NotebookTimings.LoadAverage();
                lock (console)
                {
                    if (result.Succeeded) Console.WriteLine($"  {name} ok in {result.Duration.TotalSeconds:0.0} s → {result.ExecutedCopy}");
                    else foreach (var failure in result.Failures) Console.WriteLine($"  FAIL {failure}");
                }
                var timing = measure && File.Exists(result.ExecutedCopy)
                    ? new NotebookTiming(name, result.Duration, NotebookTimings.CellsOf(result.ExecutedCopy), loadBefore, loadAfter)
                    : null;
                return (result, timing);
            });
            var failed = results.Count(r => !r.result.Succeeded);
            Console.WriteLine($"{notebooks.Count - failed} passed, {failed} failed in {NotebookTimings.Format(clock.Elapsed)}");
            if (measure)
            {
                var ordered = results.Select(r => r.timing).OfType<NotebookTiming>().OrderBy(t => t.Notebook, StringComparer.Ordinal).ToList();
                var report = NotebookTimings.Report(ordered, chosen == NotebookClient.Jupyter ? "Jupyter (nbclient)" : "dotnet-repl", isFull ? "Full" : "Quick", arrangement, clock.Elapsed);
                AtomicFile.WriteAllText(Path.Combine(outputFolder, "timings.md"), report);
                Console.WriteLine(report);
            }
            Console.WriteLine($"figures: {ProjectPaths.FiguresRoot}");
            return failed == 0 ? 0 : 1;
        });
        return [Group("notebooks", "the notebooks, executed headless", run)];
    }
}
