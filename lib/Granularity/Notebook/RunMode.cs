namespace Granularity.Notebook;

/// <summary>Quick (default: minutes on a laptop CPU) or Full (the paper-scale configuration).</summary>
public enum RunMode { Quick, Full }

/// <summary>Reads the run mode the notebooks and the command line share.</summary>
public static class RunModes
{
    /// <summary><c>GRANULARITY_MODE=full</c> selects Full (the main job's <c>--full</c> sets it); anything else is Quick.</summary>
    public static RunMode FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable("GRANULARITY_MODE")?.Trim();
        return value switch
        {
            null or "" => RunMode.Quick,
            _ when value.Equals("quick", StringComparison.OrdinalIgnoreCase) => RunMode.Quick,
            _ when value.Equals("full", StringComparison.OrdinalIgnoreCase) => RunMode.Full,
            _ => throw new ArgumentException($"GRANULARITY_MODE must be 'quick' or 'full', got '{value}'"),
        };
    }

    /// <summary>True when the environment asks for Full mode.</summary>
    public static bool FullRequested => FromEnvironment() == RunMode.Full;
}
