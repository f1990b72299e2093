using System.CommandLine;
using Granularity.Core;
using Granularity.Notebook;
using Granularity.Plots;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>`granularity figures …`: the figure catalog, exported from run folders without a notebook host.</summary>
public static class FigureCommands
{
    public static IEnumerable<Command> Build() => [Group("figures", "the write-up's figures by paper id", Export(), List())];

    private static Command Export()
    {
        var output = Text("--out", "output folder", Path.Combine(ProjectPaths.FiguresRoot, "write-up"), "DIR");
        var only = CliOptions.List("--only", "comma-separated figure ids (default: every figure; `granularity figures list` shows them)", "ID,…");
        var full = Flag("--full", "read the Full runs (paper-scale sweeps, iNat2021, ImageNet); default Quick");
        var runs = Text("--runs", "run folders root", ProjectPaths.RunsRoot, "DIR");
        var command = Command("export", "export the write-up's figures (notebooks 01–06) from run folders; exit code 3 lists figures whose runs are missing",
            [output, only, full, runs], parse =>
        {
            var folder = Path.GetFullPath(parse.GetValue(output)!);
            NotebookSetup.InstallFSharpCoreResolver();
            TorchRuntime.EnsureNativesLoaded();
            var outcomes = FigureCatalog.Export(folder, new FigureContext(Path.GetFullPath(parse.GetValue(runs)!), parse.GetValue(full)), parse.GetList(only), outcome =>
            {
                if (outcome.Exported) Console.WriteLine($"exported  {outcome.Figure.Id,-30} {outcome.Files!.Html}{(outcome.Files.Png is null ? "" : " (+ .png, .svg)")}");
                else if (outcome.Missing is not null) Console.WriteLine($"MISSING   {outcome.Figure.Id,-30} {outcome.Missing.What}: {outcome.Missing.Missing.Count} run(s); make them with: {string.Join(" && ", outcome.Missing.Commands)}");
                else Console.WriteLine($"FAILED    {outcome.Figure.Id,-30} {outcome.Error}");
            });
            Console.WriteLine($"\n{outcomes.Count(o => o.Exported)} of {outcomes.Count} figures exported to {folder}; report: {Path.Combine(folder, "figures.md")}");
            return outcomes.All(o => o.Exported) ? ErrorPolicy.Ok : ErrorPolicy.Incomplete;
        });
        command.Validators.Add(result =>
        {
            foreach (var id in result.GetValue(only) ?? [])
                try { FigureCatalog.Find(id); }
                catch (ArgumentException error) { result.AddError("--only: " + error.Message); }
        });
        return command;
    }

    private static Command List() => Command("list", "list the figure catalog: id, notebook, paper figure, content", [], _ =>
    {
        foreach (var figure in FigureCatalog.All)
            Console.WriteLine($"{figure.Id,-30} {figure.Notebook}  {figure.PaperFigure,-16} {figure.Caption}");
        return 0;
    });
}
