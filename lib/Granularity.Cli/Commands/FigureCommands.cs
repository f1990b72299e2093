using Granularity.Core;
using Granularity.Notebook;
using Granularity.Plots;
using Granularity.Runs;

namespace Granularity.Cli.Commands;

/// <summary>`granularity figures export`: every catalog figure from run folders into one folder (HTML, SVG, PNG), without a notebook host.</summary>
public sealed class FiguresExportCommand : ICliCommand
{
    public string Name => "figures export";
    public string Summary => "export the write-up's figures (notebooks 01–06) from run folders; report figures whose runs are missing";
    public string Usage => """
        usage: granularity figures export [--out DIR] [--only ID,...] [--full] [--runs DIR]
          --out DIR      output folder (default GRANULARITY_FIGURES or artifacts/figures, then write-up)
          --only IDS     comma-separated figure ids (default: every figure; `granularity figures list` shows them)
          --full         read the Full runs (paper-scale sweeps, iNat2021, ImageNet); default Quick
          --runs DIR     run folders root (default GRANULARITY_RUNS or artifacts/runs)
        Exit code 0 when every requested figure was exported, 3 when some need runs (listed, with the commands that make them).
        """;

    public int Run(CliArguments arguments)
    {
        var output = Path.GetFullPath(arguments.String("out", Path.Combine(ProjectPaths.FiguresRoot, "write-up")));
        var only = arguments.String("only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var full = arguments.Flag("full");
        var runs = Path.GetFullPath(arguments.String("runs", ProjectPaths.RunsRoot));
        arguments.RejectUnknown();
        if (only is not null)
            foreach (var id in only)
                try { FigureCatalog.Find(id); }
                catch (ArgumentException error) { throw new CliUsageException(error.Message); }
        NotebookSetup.InstallFSharpCoreResolver();
        TorchRuntime.EnsureNativesLoaded();
        var outcomes = FigureCatalog.Export(output, new FigureContext(runs, full), only, outcome =>
        {
            if (outcome.Exported) Console.WriteLine($"exported  {outcome.Figure.Id,-30} {outcome.Files!.Html}{(outcome.Files.Png is null ? "" : " (+ .png, .svg)")}");
            else if (outcome.Missing is not null) Console.WriteLine($"MISSING   {outcome.Figure.Id,-30} {outcome.Missing.What}: {outcome.Missing.Missing.Count} run(s); make them with: {string.Join(" && ", outcome.Missing.Commands)}");
            else Console.WriteLine($"FAILED    {outcome.Figure.Id,-30} {outcome.Error}");
        });
        Console.WriteLine($"\n{outcomes.Count(o => o.Exported)} of {outcomes.Count} figures exported to {output}; report: {Path.Combine(output, "figures.md")}");
        return outcomes.All(o => o.Exported) ? 0 : 3;
    }
}

/// <summary>`granularity figures list`: the catalog's figure ids with their notebook and paper figure.</summary>
public sealed class FiguresListCommand : ICliCommand
{
    public string Name => "figures list";
    public string Summary => "list the figure catalog: id, notebook, paper figure, content";
    public string Usage => "usage: granularity figures list";

    public int Run(CliArguments arguments)
    {
        arguments.RejectUnknown();
        foreach (var figure in FigureCatalog.All)
            Console.WriteLine($"{figure.Id,-30} {figure.Notebook}  {figure.PaperFigure,-16} {figure.Caption}");
        return 0;
    }
}
