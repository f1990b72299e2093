using Granularity.Data;
using Granularity.Runs;
using Granularity.Training;

namespace Granularity.Cli;

/// <summary>
/// The one mapping from failures to exit codes: 1 bad input (a missing or malformed file, a checksum, an unusable
/// run), 2 usage (an option or a combination of options), 3 runs or training still to do (missing runs, diverged),
/// 4 interrupted. User errors print one message, never a stack trace; anything else is a bug and prints the trace (70).
/// </summary>
public static class ErrorPolicy
{
    public const int Ok = 0, BadInput = 1, Usage = 2, Incomplete = 3, Interrupted = 4, InternalError = 70;

    public static int Invoke(string command, Func<int> run)
    {
        try { return run(); }
        catch (Exception error) { return Report(command, Unwrap(error)); }
    }

    private static int Report(string command, Exception error)
    {
        var code = CodeOf(error);
        if (error is MissingRunsException missing)
        {
            Console.Error.WriteLine($"{command}: {missing.What}: missing runs:");
            foreach (var line in missing.Missing) Console.Error.WriteLine("  " + line);
            Console.Error.WriteLine("make them with:");
            foreach (var line in missing.Commands) Console.Error.WriteLine("  " + line);
        }
        else if (code == InternalError) Console.Error.WriteLine($"{command}: internal error (please report it): {error}");
        else
        {
            Console.Error.WriteLine($"\n{command}: {error.Message}");
            if (code == Usage) Console.Error.WriteLine($"`{command} --help` lists the options");
        }
        return code;
    }

    private static int CodeOf(Exception error) => error switch
    {
        CliUsageException => Usage,
        MissingRunsException or TrainingDivergedException => Incomplete,
        TrainingInterruptedException or OperationCanceledException => Interrupted,
        ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException
            or BadImageException or UnsafeArchiveEntryException or InvalidOperationException or FormatException => BadInput,
        _ => InternalError,
    };

    private static Exception Unwrap(Exception error) => error switch
    {
        System.Reflection.TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        AggregateException { InnerExceptions.Count: 1 } aggregate => Unwrap(aggregate.InnerExceptions[0]),
        _ => error,
    };
}
