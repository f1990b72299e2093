using Granularity.Cli;
using Xunit;

namespace Granularity.Tests.Foundation;

public class CliTests
{
    [Fact]
    public void Options_parse_in_both_spellings_and_are_typed()
    {
        var arguments = new CliArguments(new[] { "word", "--seeds", "0,1,2", "--lr=0.3", "--full" });
        Assert.Equal(new[] { 0, 1, 2 }, arguments.IntList("seeds"));
        Assert.Equal(0.3, arguments.Double("lr", 0));
        Assert.True(arguments.Flag("full"));
        Assert.False(arguments.Flag("absent"));
        Assert.Equal(7, arguments.Int("steps", 7));
        Assert.Equal(new[] { "word" }, arguments.Positional);
        arguments.RejectUnknown();
    }

    [Fact]
    public void Bad_values_and_unknown_options_name_the_option()
    {
        Assert.Contains("--k must be a whole number in [2,", Assert.Throws<CliUsageException>(() => new CliArguments(new[] { "--k", "1" }).Int("k", 2, min: 2)).Message);
        Assert.Contains("--noise", Assert.Throws<CliUsageException>(() => new CliArguments(new[] { "--noise", "x" }).Double("noise", 0, min: 0)).Message);
        var unknown = new CliArguments(new[] { "--stpes", "3" });
        Assert.Contains("--stpes", Assert.Throws<CliUsageException>(() => unknown.RejectUnknown()).Message);
        Assert.Contains("given twice", Assert.Throws<CliUsageException>(() => new CliArguments(new[] { "--a", "1", "--a", "2" })).Message);
    }

    [Fact]
    public void Unknown_commands_exit_2_and_help_lists_commands()
    {
        Assert.Equal(2, CommandLine.Run(Array.Empty<ICliCommand>(), new[] { "nonsense" }));
        Assert.Equal(0, CommandLine.Run(new ICliCommand[] { new Granularity.Cli.Commands.NotebooksRunCommand() }, new[] { "help" }));
        Assert.Equal(2, CommandLine.Run(new ICliCommand[] { new Granularity.Cli.Commands.NotebooksRunCommand() }, new[] { "notebooks", "run", "--only", "zz-none" }));
    }
}
