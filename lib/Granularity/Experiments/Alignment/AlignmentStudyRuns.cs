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
    public static IReadOnlyList<AlignmentRow> GetOrRun(AlignmentStudyConfig config, string? runsRoot = null, RunPolicy? policy = null) =>
        new RunStore(runsRoot ?? policy?.RunsRoot ?? ProjectPaths.RunsRoot).GetOrRun(ExperimentName, config, "Experiments",
            _ => new AlignmentStudySummary(AlignmentStudy.Run(config), BuildInfo.LibraryVersion), policy).Summary.Rows;

    /// <summary>The saved, current study of <paramref name="config"/> and its folder, or null: reads only.</summary>
    public static (string Folder, IReadOnlyList<AlignmentRow> Rows)? TryRead(AlignmentStudyConfig config, string? runsRoot = null)
    {
        var lookup = new RunStore(runsRoot ?? ProjectPaths.RunsRoot)
            .TryRead<AlignmentStudyConfig, AlignmentStudySummary>(ExperimentName, config, ResultVersion.OfLayer("Experiments"));
        return lookup.IsFresh && lookup.Summary is { } summary ? (lookup.Folder.Path, summary.Rows) : null;
    }
}

/// <summary>The alignment study's config in the experiment shape (the study lives in Hierarchy, below the run store; its run key is the inner config).</summary>
public sealed record AlignmentExperimentConfig(AlignmentStudyConfig Study) : IExperimentConfig<AlignmentExperimentConfig>
{
    public static AlignmentExperimentConfig Quick() => new(AlignmentStudyConfig.Quick());

    public static AlignmentExperimentConfig Full() => new(AlignmentStudyConfig.Full());
}

/// <summary>Notebook 02's alignment study through the one experiment idiom. It measures H(target | pretraining); it makes no claim of its own.</summary>
public sealed class AlignmentStudyExperiment : IExperiment<AlignmentExperimentConfig, IReadOnlyList<AlignmentRow>>
{
    private AlignmentStudyExperiment() { }

    public static string Name => AlignmentStudyRuns.ExperimentName;

    /// <summary>Train-or-read under <paramref name="policy"/>; read-only reports a missing study instead of computing it.</summary>
    public static IReadOnlyList<AlignmentRow> Run(AlignmentExperimentConfig config, RunPolicy policy) =>
        policy.Reuse != RunReuse.ReadOnly ? AlignmentStudyRuns.GetOrRun(config.Study, policy: policy)
        : AlignmentStudyRuns.TryRead(config.Study, policy.RunsRoot)?.Rows
          ?? throw new MissingRunsException("alignment study", [$"alignment-study {config.Study}: no current run folder under {policy.RunsRoot}"], ["run notebook 02"]);

    public static IReadOnlyList<Claim> Claims(IReadOnlyList<AlignmentRow> result) => [];
}
