using Granularity.Core;
using Granularity.Hierarchy;
using Granularity.Runs;

namespace Granularity.Experiments;

/// <summary>What a finished alignment-study run folder holds: every labelling's alignment with the target.</summary>
public sealed record AlignmentStudySummary(IReadOnlyList<AlignmentRow> Rows, string LibraryVersion);

/// <summary>
/// The alignment study of notebook 02 in the run store, so its figure reads a saved result instead of recomputing it:
/// notebook 02 (and <c>figures export</c> never) runs it once per config and library version.
/// </summary>
public static class AlignmentStudyRuns
{
    public const string ExperimentName = "alignment-study";

    /// <summary>Reads the saved study of <paramref name="config"/>, or runs and saves it.</summary>
    public static IReadOnlyList<AlignmentRow> GetOrRun(AlignmentStudyConfig config, string? runsRoot = null) =>
        new RunStore(runsRoot ?? ProjectPaths.RunsRoot).GetOrRun(ExperimentName, config, "Experiments",
            _ => new AlignmentStudySummary(AlignmentStudy.Run(config), BuildInfo.LibraryVersion)).Summary.Rows;

    /// <summary>The saved, current study of <paramref name="config"/> and its folder, or null: reads only.</summary>
    public static (string Folder, IReadOnlyList<AlignmentRow> Rows)? TryRead(AlignmentStudyConfig config, string? runsRoot = null)
    {
        var lookup = new RunStore(runsRoot ?? ProjectPaths.RunsRoot)
            .TryRead<AlignmentStudyConfig, AlignmentStudySummary>(ExperimentName, config, ResultVersion.OfLayer("Experiments"));
        return lookup.IsFresh && lookup.Summary is { } summary ? (lookup.Folder.Path, summary.Rows) : null;
    }
}
