namespace Granularity.Runs;

/// <summary>
/// A result needs run folders that do not exist yet: which runs are missing and the commands that make them. Figures and
/// notebooks report it instead of silently skipping or training a GPU run on a laptop.
/// </summary>
public sealed class MissingRunsException(string what, IReadOnlyList<string> missing, IReadOnlyList<string> commands)
    : Exception($"{what}: {missing.Count} run{(missing.Count == 1 ? "" : "s")} missing ({string.Join("; ", missing.Take(4))}{(missing.Count > 4 ? "; …" : "")}); make them with: {string.Join(" && ", commands)}")
{
    /// <summary>What needed the runs (a figure, an analysis).</summary>
    public string What { get; } = what;

    /// <summary>One line per missing run (its config in words, and where it was looked for).</summary>
    public IReadOnlyList<string> Missing { get; } = missing;

    /// <summary>Command lines (run from the repository root) that make the missing runs.</summary>
    public IReadOnlyList<string> Commands { get; } = commands;
}
