using Granularity.Cli;

namespace Granularity.Tests.Cli;

/// <summary>Runs `granularity ARGS…` in process, through the same entry point as the executable, capturing both streams.</summary>
public static class CliRunner
{
    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try { return (GranularityCli.Run(args), output.ToString(), error.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldError); }
    }
}
