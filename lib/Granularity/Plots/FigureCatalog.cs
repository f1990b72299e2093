using Granularity.Core;
using System.Text;
using Granularity.Experiments;
using Granularity.Hierarchy;
using Granularity.Runs;
using Granularity.Theory;
using Granularity.Training;
using Plotly.NET;

namespace Granularity.Plots;

/// <summary>
/// Where a figure's data comes from: the runs root, Quick or Full, and the configurations whose run folders are read.
/// Loaded runs are shared by the figures of one export (<see cref="Memo{T}"/>).
/// </summary>
public sealed record FigureContext(string RunsRoot, bool Full, TheorySweep? TheorySweep = null, HardSamplesConfig? HardSamples = null)
{
    private readonly Dictionary<string, object> memo = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<string>> memoSources = new(StringComparer.Ordinal);
    private List<string>? sources;

    /// <summary>Notes that the figure being built reads <paramref name="source"/> (a run folder or a committed artifact).</summary>
    public void ReadFrom(string source)
    {
        if (sources is not null && !sources.Contains(source)) sources.Add(source);
    }

    /// <summary>Builds one figure and returns it with every source it read (memoised sources included).</summary>
    internal (GenericChart Chart, IReadOnlyList<string> Sources) Trace(Func<FigureContext, GenericChart> build)
    {
        sources = new List<string>();
        try { return (build(this), sources); }
        finally { sources = null; }
    }

    /// <summary>The theory sweep whose runs the notebook-01 figures read (Quick or Full unless given).</summary>
    public TheorySweep Theory => TheorySweep ?? (Full ? Granularity.Theory.TheorySweep.Full() : Granularity.Theory.TheorySweep.Quick());

    /// <summary>The hard-sample study whose runs the notebook-06 figures read (Quick or Full unless given).</summary>
    public HardSamplesConfig HardSampleStudy => HardSamples ?? (Full ? HardSamplesConfig.Full() : HardSamplesConfig.Quick());

    /// <summary>Computes <paramref name="make"/> once per context; a failure (e.g. missing runs) is remembered and rethrown.</summary>
    public T Memo<T>(string key, Func<T> make)
    {
        if (memo.TryGetValue(key, out var saved))
        {
            foreach (var source in memoSources.GetValueOrDefault(key) ?? []) ReadFrom(source);
            return saved is Exception error ? throw Rethrow(error) : (T)saved;
        }
        var outer = sources;
        sources = new List<string>();
        try
        {
            var value = make()!;
            memo[key] = value;
            return value;
        }
        catch (Exception error)
        {
            memo[key] = error;
            throw;
        }
        finally
        {
            memoSources[key] = sources;
            var inner = sources;
            sources = outer;
            foreach (var source in inner) ReadFrom(source);
        }
    }

    private static Exception Rethrow(Exception error) => error is MissingRunsException missing
        ? new MissingRunsException(missing.What, missing.Missing, missing.Commands)
        : new InvalidOperationException(error.Message, error);
}

/// <summary>One figure of the write-up: its id (the file name), notebook, the paper figure it reproduces (or "ours"), and its builder.</summary>
public sealed record FigureDefinition(string Id, string Notebook, string PaperFigure, string Caption, Func<FigureContext, GenericChart> Build, int Width = 900, int Height = 540);

/// <summary>What exporting one figure did: its files and the sources it was drawn from, or the runs it is missing, or the error that stopped it.</summary>
public sealed record FigureOutcome(FigureDefinition Figure, FigureFiles? Files, MissingRunsException? Missing, string? Error, IReadOnlyList<string>? Sources = null)
{
    public bool Exported => Files is not null;
}

/// <summary>
/// Every figure of notebooks 01–06 by id, each built from run folders (or committed artifacts) in the house style and
/// exported as self-contained HTML, SVG and PNG. Adding a figure is one line in <see cref="All"/>.
/// </summary>
public static class FigureCatalog
{
    /// <summary>The registered figures, in notebook order. One line each: id, notebook, paper figure id, caption, builder.</summary>
    public static IReadOnlyList<FigureDefinition> All { get; } =
    [
        // 01 · theory (paper figures theory-model, theory-dynamics, theory-accuracy; two of ours)
        new("theory-model", "01", "theory-model", "The data model: patches with common / fine / noise, easy vs hard", c => TheoryCharts.DataModel(c.Theory.Base), 1100, 420),
        new("theory-dynamics", "01", "theory-dynamics", "Alignment with common and fine features vs step, coarse vs fine training", c => TheoryCharts.Dynamics(TheoryRuns(c, SweepAxis.Seed)), 1150, 460),
        new("theory-accuracy", "01", "theory-accuracy", "Easy/hard accuracy, coarse vs fine", c => TheoryCharts.Accuracy(TheoryRuns(c, SweepAxis.Seed)), 900, 480),
        new("theory-hard-vs-k", "01", "theory-accuracy", "Hard-sample accuracy vs k (rarer fine features)", c => TheoryCharts.HardAccuracyVsK(TheoryRuns(c, SweepAxis.Subclasses)), 900, 480),
        new("theory-sweeps", "01", "ours", "Hard-sample accuracy vs noise, dimension and hard share in training", c => TheoryCharts.Sweeps(AllTheoryRuns(c), c.Theory), 1300, 440),
        new("theory-scaling", "01", "ours", "Hard-sample error vs d with k scaled with d: coarse vs the fine model's transfers, chance drawn", c => TheoryStudyCharts.Scaling(TheoryStudyResult(c)), 1000, 520),
        new("theory-length", "01", "ours", "Coarse model trained 1×–64× longer: hard error and fine-feature alignment vs steps", c => TheoryStudyCharts.Length(TheoryStudyResult(c)), 1150, 460),
        new("theory-capacity", "01", "ours", "Width-matched coarse model (m·k filters per output) vs the standard one and the fine transfer", c => TheoryStudyCharts.Capacity(TheoryStudyResult(c)), 900, 480),
        new("theory-samples", "01", "ours", "Finite training sets: hard error vs samples per subclass, coarse vs fine", c => TheoryStudyCharts.Samples(TheoryStudyResult(c)), 1000, 500),
        // 02 · hierarchies (paper figure hierarchy), from the committed artifacts
        new("hierarchy-inat2021-levels", "02", "hierarchy", "iNat2021: classes per level", c => HierarchyCharts.ClassesPerLevel("iNat2021: classes per level", Inat(c).Summaries(CutKind.Depth).Take(8).ToList())),
        new("hierarchy-imagenet-levels", "02", "hierarchy", "ImageNet: classes n steps up from each class", ImageNetLevels),
        new("hierarchy-inat2021-sunburst", "02", "hierarchy", "iNat2021 taxonomy sunburst", c => HierarchyCharts.Sunburst(Inat(c).Tree, c.Full ? 5 : 4, "iNat2021 taxonomy (sector size: species)", visibleDepth: 4), 900, 900),
        new("hierarchy-imagenet1k-sunburst", "02", "hierarchy", "WordNet over ImageNet-1k sunburst", ImageNet1kSunburst, 900, 900),
        new("hierarchy-alignment", "02", "ours", "Alignment of each label set with the supercategory target", c => HierarchyCharts.AlignmentBars(AlignmentRows(c))),
        // 03 · fine-to-coarse on the synthetic set (ours at CPU scale; the paper's conditions 1–3)
        new("synthetic-conditions", "03", "ours", "Hard-image error per pretraining label set and readout, spread over seeds", c => FineToCoarseCharts.Conditions(FineToCoarseResult(c)), 1100, 520),
        new("synthetic-ushape", "03", "iNat", "Hard-image error vs number of pretraining classes (U-shape), baseline line", c => FineToCoarseCharts.UShape(FineToCoarseResult(c)), 950, 520),
        new("synthetic-alignment", "03", "ours", "Hard-image error vs H(target ∣ pretraining) of each label set", c => FineToCoarseCharts.Alignment(FineToCoarseResult(c)), 900, 480),
        // 04 · iNat2021 (paper figure iNat) and 05 · ImageNet (paper figure ImageNet), from training run folders
        new("iNat", "04", "iNat", "Target error vs number of pretraining classes (taxonomy, random, clusters, one label per image), baseline, paper's 8.76%", c => RealDataCharts.InatErrorVsClasses(InatTable(c), !c.Full), 950, 520),
        new("ImageNet", "05", "ImageNet", "IN-1k top-1 vs number of pretraining classes, baseline, the paper's Table 1", c => RealDataCharts.ImageNetTop1VsClasses(ImageNetTable(c), ImageNetExperiment.PaperTable, !c.Full), 950, 520),
        // 06 · easy and hard samples (ours: the paper has no real-data easy/hard analysis)
        new("hard-definitions", "06", "ours", "Hardness definitions vs the known hard samples and each other", c => HardSampleCharts.DefinitionAgreement(HardSampleResult(c)), 950, 480),
        new("hard-score-distribution", "06", "ours", "Reference-model score of truly easy vs truly hard images", c => HardSampleCharts.ScoreDistribution(HardSampleResult(c)), 900, 440),
        new("hard-gain", "06", "ours", "Baseline vs fine-pretrained error per hardness bin: where the gain comes from", c => HardSampleCharts.ErrorByHardness(HardSampleResult(c)), 1200, 480),
        // 08 · fine-to-coarse on real images (Omniglot in Quick; full Omniglot in Full; the paper's iNat figure as counterpart)
        new("real-images-error-vs-classes", "08", "iNat", "Omniglot/CIFAR-100 (real images): target error vs number of pretraining classes per label type, baseline band", c => RealImagesCharts.ErrorVsClasses(RealImagesResult(c)), 1000, 540),
        new("real-images-easy-hard", "08", "ours", "Real images: error on easy vs hard test images (notebook 06's hardness score) per arm", c => RealImagesCharts.EasyVersusHard(RealImagesResult(c)), 1100, 500),
    ];

    /// <summary>The figure called <paramref name="id"/>; an unknown id lists the known ones.</summary>
    public static FigureDefinition Find(string id) => All.FirstOrDefault(f => string.Equals(f.Id, id, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"no figure '{id}' in the catalog (figures: {string.Join(", ", All.Select(f => f.Id))})");

    /// <summary>
    /// Builds and saves each figure (all, or those in <paramref name="only"/>) into <paramref name="outputFolder"/> and writes
    /// <c>figures.md</c> there: what was exported, and for every figure whose runs are missing, the runs and the commands.
    /// </summary>
    public static IReadOnlyList<FigureOutcome> Export(string outputFolder, FigureContext context, IReadOnlyCollection<string>? only = null, Action<FigureOutcome>? progress = null)
    {
        var figures = only is null || only.Count == 0 ? All : only.Select(Find).Distinct().ToList();
        var outcomes = new List<FigureOutcome>();
        foreach (var figure in figures)
        {
            FigureOutcome outcome;
            try
            {
                var (chart, sources) = context.Trace(figure.Build);
                outcome = new(figure, FigureExport.Save(chart, outputFolder, figure.Id, (int?)figure.Width, figure.Height), null, null, sources);
            }
            catch (MissingRunsException missing) { outcome = new(figure, null, missing, null); }
            catch (Exception error) when (error is ArgumentException or InvalidDataException or IOException or InvalidOperationException or KeyNotFoundException)
            {
                outcome = new(figure, null, null, error.Message);
            }
            outcomes.Add(outcome);
            progress?.Invoke(outcome);
        }
        Directory.CreateDirectory(outputFolder);
        AtomicFile.WriteAllText(Path.Combine(outputFolder, GalleryFile), Report(outcomes, context, outputFolder));
        return outcomes;
    }

    /// <summary>The gallery page <see cref="Export"/> writes next to the figures.</summary>
    public const string GalleryFile = "figures.md";

    /// <summary>
    /// The gallery page (Markdown, links relative to <paramref name="outputFolder"/>): a table of every figure, then per
    /// exported figure its image, caption, source notebook, files and the run folders it was drawn from, then the missing
    /// runs with the commands that make them.
    /// </summary>
    public static string Report(IReadOnlyList<FigureOutcome> outcomes, FigureContext context, string? outputFolder = null)
    {
        outputFolder = Path.GetFullPath(outputFolder ?? ".");
        string Link(string path) => Path.GetRelativePath(outputFolder, path).Replace('\\', '/').Replace(" ", "%20");
        var text = new StringBuilder();
        text.AppendLine($"# Figure gallery ({(context.Full ? "Full" : "Quick")}, runs from {context.RunsRoot}, library {BuildInfo.LibraryVersion})").AppendLine();
        text.AppendLine("| id | notebook | paper figure | content | status |").AppendLine("|---|---|---|---|---|");
        foreach (var o in outcomes)
        {
            var status = o.Exported ? $"exported: {Path.GetFileName(o.Files!.Html)}{(o.Files.Png is null ? " (no Chromium: HTML only)" : ", .png, .svg")}"
                : o.Missing is not null ? $"**missing runs** ({o.Missing.Missing.Count})" : $"**failed**: {o.Error}";
            text.AppendLine($"| {(o.Exported ? $"[{o.Figure.Id}](#{o.Figure.Id.ToLowerInvariant()})" : TableCell(o.Figure.Id))} | {TableCell(o.Figure.Notebook)} | {TableCell(o.Figure.PaperFigure)} | {TableCell(o.Figure.Caption)} | {TableCell(status)} |");
        }
        foreach (var o in outcomes.Where(o => o.Exported))
        {
            var files = o.Files!;
            text.AppendLine().AppendLine($"## {o.Figure.Id}").AppendLine();
            text.AppendLine(files.Png is not null ? $"![{o.Figure.Id}]({Link(files.Png)})" : $"[{o.Figure.Id} (HTML)]({Link(files.Html)})").AppendLine();
            text.AppendLine($"{o.Figure.Caption}. Paper figure: {o.Figure.PaperFigure}.").AppendLine();
            var notebook = NotebookFile(o.Figure.Notebook);
            text.AppendLine($"- notebook: {(notebook is null ? o.Figure.Notebook : $"[{Path.GetFileNameWithoutExtension(notebook)}]({Link(notebook)})")}");
            text.AppendLine("- files: " + string.Join(" · ", new[] { ("HTML", files.Html), ("SVG", files.Svg), ("PNG", files.Png), ("PDF", files.Pdf) }
                .Where(f => f.Item2 is not null).Select(f => $"[{f.Item1}]({Link(f.Item2!)})")));
            var sources = o.Sources ?? [];
            text.AppendLine($"- drawn from{(sources.Count == 0 ? ": nothing recorded" : $" ({sources.Count}):")}");
            foreach (var source in sources) text.AppendLine($"  - `{Display(source)}`");
        }
        foreach (var o in outcomes.Where(o => o.Missing is not null))
        {
            text.AppendLine().AppendLine($"## {o.Figure.Id}: missing runs").AppendLine();
            foreach (var line in o.Missing!.Missing.Take(12)) text.AppendLine($"- {line}");
            if (o.Missing.Missing.Count > 12) text.AppendLine($"- … and {o.Missing.Missing.Count - 12} more");
            text.AppendLine().AppendLine("Make them with:").AppendLine().AppendLine("```");
            foreach (var command in o.Missing.Commands) text.AppendLine(command);
            text.AppendLine("```");
        }
        return text.ToString();
    }

    /// <summary>
    /// Text as one Markdown table cell: a pipe becomes "∣" (U+2223), which no viewer reads as a column break (an escaped
    /// pipe splits the column in some), and line breaks become spaces.
    /// </summary>
    internal static string TableCell(string text) => text.Replace("|", "∣").Replace("\r", "").Replace("\n", " ");

    /// <summary>The notebook file whose name starts with <paramref name="number"/> (e.g. "04"), or null.</summary>
    private static string? NotebookFile(string number)
    {
        var folder = Path.Combine(ProjectPaths.RepositoryRoot, "notebooks");
        return Directory.Exists(folder) ? Directory.GetFiles(folder, number + "-*.ipynb").OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault() : null;
    }

    /// <summary>A source path relative to the repository when it lies inside it.</summary>
    private static string Display(string source)
    {
        if (!Path.IsPathRooted(source)) return source;
        var relative = Path.GetRelativePath(ProjectPaths.RepositoryRoot, source);
        return relative.StartsWith("..", StringComparison.Ordinal) ? source : relative.Replace('\\', '/');
    }

    // ---- sources: each reads finished run folders (never trains), records them, and names what is missing ----

    private static IReadOnlyList<TheoryRun> AllTheoryRuns(FigureContext context) => context.Memo("theory", () =>
    {
        var sweep = context.Theory;
        var runs = new List<TheoryRun>();
        var missing = new List<string>();
        foreach (var config in sweep.Configs)
        {
            var path = Path.Combine(context.RunsRoot, TheoryExperiment.ExperimentName, RunStore.ConfigKey(TheoryExperiment.ExperimentName, config));
            if (File.Exists(Path.Combine(path, RunFolder.SummaryFile)))
            {
                runs.Add(TheoryExperiment.Load(path));
                context.ReadFrom(path);
            }
            else missing.Add($"theory d={config.Dimension} k={config.SubclassesPerSuperclass} {config.NoiseLabel} hard share {config.HardShareInTraining} seed {config.Seed} → {path}");
        }
        if (missing.Count > 0)
            throw new MissingRunsException($"theory sweep '{sweep.Name}' ({runs.Count} of {sweep.Configs.Count} runs found)", missing,
                [$"eng/granularity theory sweep --{(context.Full ? "full" : "quick")}{RunsOption(context)}"]);
        return (IReadOnlyList<TheoryRun>)runs;
    });

    private static TheoryStudyResult TheoryStudyResult(FigureContext context) => context.Memo("theory-study", () =>
        TheoryStudy.Load(context.Full ? TheoryStudyConfig.Full() : TheoryStudyConfig.Quick(), context.RunsRoot));

    private static IReadOnlyList<TheoryRun> TheoryRuns(FigureContext context, SweepAxis axis) =>
        Granularity.Theory.TheorySweep.Along(AllTheoryRuns(context), context.Theory.Base, axis);

    private const string CommittedHierarchies = "data-manifests/hierarchies (committed artifacts)";

    private static HierarchySource Inat(FigureContext context) => context.Memo("inat2021-hierarchy", () =>
    {
        context.ReadFrom(CommittedHierarchies);
        return HierarchySources.Load("inat2021");
    });

    private static GenericChart ImageNetLevels(FigureContext context) => Committed(context, HierarchyCharts.ClassesPerLevel("ImageNet: classes n steps up from each class", new[]
    {
        ("ImageNet-21k · NLTK first hypernym", ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet21k, ParentRule.NltkFirstHypernym).Summaries(CutKind.StepsUp)),
        ("ImageNet-21k · shortest path", ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet21k, ParentRule.ShortestPath).Summaries(CutKind.StepsUp)),
        ("ImageNet-1k · NLTK first hypernym", ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet1k, ParentRule.NltkFirstHypernym).Summaries(CutKind.StepsUp)),
    }));

    private static GenericChart Committed(FigureContext context, GenericChart chart)
    {
        context.ReadFrom(CommittedHierarchies);
        return chart;
    }

    private static GenericChart ImageNet1kSunburst(FigureContext context)
    {
        var tree = ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet1k, ParentRule.NltkFirstHypernym);
        context.ReadFrom(CommittedHierarchies);
        return HierarchyCharts.Sunburst(tree, tree.MaxLeafDepth, "WordNet (NLTK first hypernym) over ImageNet-1k (sector size: classes)", visibleDepth: 5);
    }

    private static FineToCoarseResults FineToCoarseResult(FigureContext context) =>
        context.Memo("fine-to-coarse", () =>
            Traced(context, FineToCoarse.TryLoad(context.Full ? FineToCoarseConfig.Full() : FineToCoarseConfig.Quick(), context.RunsRoot), r => r.Folder)
            ?? throw new MissingRunsException("the fine-to-coarse experiment (notebook 03)",
                [$"{FineToCoarse.ExperimentName} ({(context.Full ? "Full" : "Quick")} config)"],
                [$"eng/granularity experiment fine-to-coarse{(context.Full ? " --full" : "")}{RunsOption(context)}"]));

    private static RealImagesResult RealImagesResult(FigureContext context) =>
        context.Memo("real-images", () =>
            Experiments.RealImages.TryLoad(context.Full ? RealImagesConfig.Full() : RealImagesShown.Choose(context.RunsRoot).Config, context.RunsRoot)
            ?? throw new MissingRunsException("the real-image experiment (notebook 08)",
                [$"{Experiments.RealImages.ExperimentName} ({(context.Full ? "Full: Omniglot" : "Quick: Omniglot small subsets")})"],
                [$"eng/granularity experiment real-images{(context.Full ? " --dataset omniglot" : "")}{RunsOption(context)}"]));

    private static HardSamplesResult HardSampleResult(FigureContext context) =>
        context.Memo("hard-samples", () =>
        {
            var result = HardSamples.Run(context.HardSampleStudy, context.RunsRoot, trainMissing: false);
            context.ReadFrom(result.ScoringFolder.Path);
            foreach (var run in result.Baselines.Concat(result.Finetuned.Values.SelectMany(r => r))) context.ReadFrom(run.Folder.Path);
            return result;
        });

    private static IReadOnlyList<AlignmentRow> AlignmentRows(FigureContext context)
    {
        var config = context.Full ? AlignmentStudyConfig.Full() : AlignmentStudyConfig.Quick();
        var saved = AlignmentStudyRuns.TryRead(config, context.RunsRoot)
            ?? throw new MissingRunsException($"the alignment study of notebook 02 ({(context.Full ? "Full" : "Quick")})",
                [$"{AlignmentStudyRuns.ExperimentName} under {Path.Combine(context.RunsRoot, AlignmentStudyRuns.ExperimentName)}"],
                [$"eng/granularity notebooks run --only 02{(context.Full ? " --full" : "")}"]);
        context.ReadFrom(saved.Folder);
        return saved.Rows;
    }

    private static T? Traced<T>(FigureContext context, T? value, Func<T, string> folder) where T : class
    {
        if (value is not null) context.ReadFrom(folder(value));
        return value;
    }

    private static IReadOnlyList<Inat2021Row> InatTable(FigureContext context)
    {
        var config = context.Full ? Inat2021ExperimentConfig.Full() : Inat2021ExperimentConfig.Quick();
        var table = Inat2021Experiment.Table(config, context.RunsRoot);
        RequireBaselineAndOneMore("iNat", context, table.Select(r => (r.Kind == Inat2021Experiment.Baseline, $"{r.Kind} {r.Labelling}", r.MissingSeeds, r.Errors.Count)).ToList(),
            [$"eng/granularity experiment inat2021{(context.Full ? " --full --slurm" : "")}{RunsOption(context)}"]);
        return table;
    }

    private static IReadOnlyList<ImageNetRow> ImageNetTable(FigureContext context)
    {
        var config = context.Full ? ImageNetExperimentConfig.Full() : ImageNetExperimentConfig.Quick();
        var table = ImageNetExperiment.Table(config, context.RunsRoot);
        RequireBaselineAndOneMore("ImageNet", context, table.Select(r => (r.IsBaseline, r.PretrainingLevel, r.MissingSeeds, r.Top1.Count)).ToList(),
            [$"eng/granularity experiment imagenet{(context.Full ? " --full --slurm" : "")}{RunsOption(context)}"]);
        return table;
    }

    /// <summary>A real-data figure needs its baseline and at least one pretrained cell; otherwise every missing cell is listed.</summary>
    private static void RequireBaselineAndOneMore(string figure, FigureContext context, IReadOnlyList<(bool IsBaseline, string Cell, int Missing, int Found)> rows, IReadOnlyList<string> commands)
    {
        if (rows.Any(r => r.IsBaseline && r.Found > 0) && rows.Any(r => !r.IsBaseline && r.Found > 0)) return;
        throw new MissingRunsException($"figure {figure} ({(context.Full ? "Full" : "Quick: stand-in")})",
            rows.Where(r => r.Found == 0).Select(r => $"{r.Cell}: {r.Missing} seed(s) missing under {Path.Combine(context.RunsRoot, TrainingEngine.TransferExperiment)}").ToList(), commands);
    }

    private static string RunsOption(FigureContext context) =>
        Path.GetFullPath(context.RunsRoot) == Path.GetFullPath(ProjectPaths.RunsRoot) ? "" : $" --runs {context.RunsRoot}";
}
