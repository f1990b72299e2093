using System.CommandLine;
using System.CommandLine.Help;
using System.Text;
using Granularity.Cli.Commands;

namespace Granularity.Cli;

/// <summary>The `granularity` command line: every area's commands under one root, parsed by System.CommandLine.</summary>
public static class GranularityCli
{
    /// <summary>
    /// One entry per area file under Commands/: a static class whose `Build()` returns its top-level commands (a group
    /// such as `theory` with its sub-commands, or plain commands such as `train`). A new area adds its file and one line
    /// here; a new command in an existing group goes into that group's list in its area file (its body may live in a
    /// file of its own, as the `experiment` commands do).
    /// </summary>
    private static readonly Func<IEnumerable<Command>>[] Areas =
    [
        NotebookCommands.Build,
        TheoryCommands.Build,
        HierarchyCommands.Build,
        DataCommands.Build,
        TrainingCommands.Build,
        ExperimentCommands.Build,
        RealDataCommands.Build,
        HardSampleCommands.Build,
        FigureCommands.Build,
        RunCommands.Build,
    ];

    public static Command Build()
    {
        var root = new Command("granularity", "Granularity: the experiments of the notebooks from a terminal. `granularity commands` lists every command; `granularity COMMAND --help` shows its options.");
        root.Options.Add(new HelpOption());
        foreach (var area in Areas)
            foreach (var command in area())
            {
                if (root.Subcommands.Any(c => c.Name == command.Name)) throw new InvalidOperationException($"two areas define the command '{command.Name}'");
                root.Subcommands.Add(command);
            }
        var markdown = CliOptions.Flag("--markdown", "print the list as the README's markdown table");
        root.Subcommands.Add(CliOptions.Command("commands", "list every command with its description (--markdown: the README's list)",
            [markdown], parse => { Console.Write(parse.GetValue(markdown) ? CommandList.Markdown(root) : CommandList.Text(root)); return 0; }));
        return root;
    }

    /// <summary>Parses and runs one command line; returns the process exit code (0 ok, 1 bad input, 2 usage; see <see cref="ErrorPolicy"/>).</summary>
    public static int Run(string[] args)
    {
        var root = Build();
        if (args is ["help", .. var topic]) args = [.. topic, "--help"];
        var parse = root.Parse(args);
        var configuration = new InvocationConfiguration { Output = Console.Out, Error = Console.Error, EnableDefaultExceptionHandler = false };
        if (parse.Action is not HelpAction && parse.Errors.Count > 0)
        {
            var name = CommandList.PathOf(parse.CommandResult);
            foreach (var error in parse.Errors) Console.Error.WriteLine($"{name}: {error.Message}");
            Console.Error.WriteLine($"`{name} --help` lists the options{(parse.CommandResult.Command == root ? "; `granularity commands` lists the commands" : "")}");
            return ErrorPolicy.Usage;
        }
        return ErrorPolicy.Invoke(CommandList.PathOf(parse.CommandResult), () => parse.Invoke(configuration));
    }
}

/// <summary>The flat list of commands (`granularity commands`), also the README's generated list.</summary>
public static class CommandList
{
    public const string ReadmeStart = "<!-- cli-commands -->";
    public const string ReadmeEnd = "<!-- /cli-commands -->";

    /// <summary>Every command that runs something, with its full name ("granularity theory run"), in registration order.</summary>
    public static IEnumerable<(string Path, Command Command)> Leaves(Command root) => Walk(root, root.Name);

    private static IEnumerable<(string Path, Command Command)> Walk(Command command, string path) =>
        (command.Action is not null ? [(path, command)] : Array.Empty<(string, Command)>())
        .Concat(command.Subcommands.Where(c => !c.Hidden).SelectMany(c => Walk(c, path + " " + c.Name)));

    /// <summary>The full name of the command a parse ended on.</summary>
    public static string PathOf(System.CommandLine.Parsing.CommandResult result)
    {
        var words = new List<string>();
        for (var r = result; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult) words.Insert(0, r.Command.Name);
        return string.Join(' ', words);
    }

    public static string Text(Command root)
    {
        var leaves = Leaves(root).ToList();
        var width = leaves.Max(c => c.Path.Length);
        var text = new StringBuilder();
        foreach (var (path, command) in leaves) text.AppendLine($"  {path.PadRight(width)}  {command.Description}");
        return text.ToString();
    }

    /// <summary>The README's command list: one row per command, from the commands themselves.</summary>
    public static string Markdown(Command root)
    {
        var text = new StringBuilder("| `eng/granularity …` | what it does |\n|---|---|\n");
        foreach (var (path, command) in Leaves(root)) text.Append($"| `{path[(root.Name.Length + 1)..]}` | {command.Description?.Replace("|", "∣")} |\n");
        return text.ToString();
    }
}
