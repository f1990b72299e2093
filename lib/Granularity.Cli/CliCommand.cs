namespace Granularity.Cli;

/// <summary>
/// One `granularity NAME …` command. Every non-abstract implementation in this assembly is registered by reflection,
/// so each area adds its commands in a file of its own under Commands/.
/// </summary>
public interface ICliCommand
{
    /// <summary>The command words, e.g. "theory run" or "hierarchy levels".</summary>
    string Name { get; }

    /// <summary>One line for `granularity help`.</summary>
    string Summary { get; }

    /// <summary>Usage lines with every option, shown by `granularity help NAME` and on bad input.</summary>
    string Usage { get; }

    /// <summary>Runs the command; returns the process exit code.</summary>
    int Run(CliArguments arguments);
}

/// <summary>A usage error: the message names the option and what was expected; the command's usage follows it.</summary>
public sealed class CliUsageException(string message) : Exception(message);
