using System.Diagnostics;
using System.Globalization;
using Granularity.Core;
using Granularity.Data;
using Granularity.Runs;
using Granularity.Training.Models;

namespace Granularity.Experiments;

/// <summary>One protocol of the real-image study: resolution, body (blocks × width, pooling), shifts and Adam's rate.</summary>
public sealed record ProtocolPoint(int ImageSize, int Blocks, int Width, FeaturePool Pool, int ShiftPixels, double LearningRate)
{
    public IReadOnlyList<int> Channels() => Enumerable.Repeat(Width, Blocks).ToArray();

    /// <summary>Multiply-accumulates per image (one channel in): what "cheaper" means in the study's rule.</summary>
    public long Cost() => ConvNetBody.MultiplyAccumulates(Channels(), 1, ImageSize);

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{ImageSize} px, {Blocks}×{Width} ch, {Pool}, shift {ShiftPixels}, lr {LearningRate:g3}");
}

/// <summary>
/// The protocol study of the Standard real-image protocol (issue 23), on the validation split only: the baseline's
/// resolution, depth, width, pooling, shifts and rate one factor at a time in this order, each value scored by the
/// seed-mean validation error at its own plateau; then the fine-tuning and LP-then-FT budgets on the leaf arm.
/// </summary>
/// <remarks>
/// The rules, fixed before the study ran: a cell's score is the minimum over epochs of the seed-mean validation error,
/// smoothed over <see cref="SmoothingWindow"/> epochs; the best score wins, but a value within <see cref="EquivalenceMargin"/> of it
/// that costs fewer multiply-accumulates per image wins instead (Standard is meant to run in minutes on two cores). A
/// numeric choice on its grid's edge extends the grid by one step in that direction (at most <see cref="MaxExtensions"/>
/// times); a natural bound (no shift, one transfer epoch) is not an edge. The epoch budget is the first epoch within
/// <see cref="PlateauTolerance"/> of the smoothed minimum, and that minimum must lie before the last epoch trained.
/// Block counts and poolings are categories (the issue names 3–4 blocks), not ordered grids.
/// </remarks>
public sealed record ProtocolStudyConfig(
    ProtocolPoint Start,
    IReadOnlyList<int> ImageSizes,
    IReadOnlyList<int> BlockCounts,
    IReadOnlyList<int> Widths,
    IReadOnlyList<FeaturePool> Pools,
    IReadOnlyList<int> Shifts,
    IReadOnlyList<double> LearningRates,
    IReadOnlyList<int> Seeds,
    int MaxEpochs,
    IReadOnlyList<int> TransferEpochGrid,
    IReadOnlyList<double> FineTuningFactors,
    IReadOnlyList<double> ProbeThenFineTuningFactors,
    int SmoothingWindow = 3,
    double PlateauTolerance = 0.005,
    double EquivalenceMargin = 0.005,
    int MaxExtensions = 2,
    int BatchSize = 128)
{
    public static ProtocolStudyConfig Default() => new(
        Start: new ProtocolPoint(28, 4, 32, FeaturePool.GlobalMax, 2, 2e-3),
        ImageSizes: [16, 22, 28],
        BlockCounts: [3, 4],
        Widths: [32, 48, 64],
        Pools: [FeaturePool.GlobalMax, FeaturePool.GlobalAverage, FeaturePool.Flatten],
        Shifts: [0, 1, 2],
        LearningRates: [1e-3, 2e-3, 4e-3],
        Seeds: [1000, 1001],
        MaxEpochs: 20,
        TransferEpochGrid: [1, 2, 4],
        FineTuningFactors: [0.03, 0.1, 0.3],
        ProbeThenFineTuningFactors: [0.01, 0.03, 0.1]);

    public ProtocolStudyConfig Validated()
    {
        static void Ordered<T>(IReadOnlyList<T> grid, string field, bool needsInterior) where T : IComparable<T>
        {
            if (grid is not { Count: > 0 }) throw new ArgumentException($"ProtocolStudyConfig.{field} must hold at least one value", field);
            for (int i = 1; i < grid.Count; i++)
                if (grid[i].CompareTo(grid[i - 1]) <= 0) throw new ArgumentException($"ProtocolStudyConfig.{field} must be strictly increasing, got [{string.Join(", ", grid)}]", field);
            if (needsInterior && grid.Count < 3)
                throw new ArgumentException($"ProtocolStudyConfig.{field} needs at least 3 values, got [{string.Join(", ", grid)}]: with fewer, every choice sits on the grid's edge and the study cannot meet its own rule", field);
        }
        Ordered(ImageSizes, nameof(ImageSizes), true);
        Ordered(BlockCounts, nameof(BlockCounts), false);
        Ordered(Widths, nameof(Widths), true);
        Ordered(Shifts, nameof(Shifts), true);
        Ordered(LearningRates, nameof(LearningRates), true);
        Ordered(TransferEpochGrid, nameof(TransferEpochGrid), true);
        Ordered(FineTuningFactors, nameof(FineTuningFactors), true);
        Ordered(ProbeThenFineTuningFactors, nameof(ProbeThenFineTuningFactors), true);
        if (Pools is not { Count: > 0 } || Pools.Distinct().Count() != Pools.Count) throw new ArgumentException("ProtocolStudyConfig.Pools must be distinct poolings", nameof(Pools));
        if (Seeds is not { Count: > 0 } || Seeds.Distinct().Count() != Seeds.Count) throw new ArgumentException("ProtocolStudyConfig.Seeds must be distinct", nameof(Seeds));
        if (ImageSizes[0] < 8 || ImageSizes[^1] > 105) throw new ArgumentException($"ProtocolStudyConfig.ImageSizes must lie in [8, 105] px", nameof(ImageSizes));
        if (Shifts[0] < 0) throw new ArgumentException("ProtocolStudyConfig.Shifts must be ≥ 0 px", nameof(Shifts));
        if (MaxEpochs <= TransferEpochGrid[^1] + SmoothingWindow)
            throw new ArgumentException($"ProtocolStudyConfig.MaxEpochs must exceed the longest transfer ({TransferEpochGrid[^1]}) plus the smoothing window ({SmoothingWindow}), got {MaxEpochs}", nameof(MaxEpochs));
        if (SmoothingWindow is < 1 or > 9 || SmoothingWindow % 2 == 0) throw new ArgumentException($"ProtocolStudyConfig.SmoothingWindow must be odd in [1, 9], got {SmoothingWindow}", nameof(SmoothingWindow));
        return this;
    }
}

/// <summary>One cell of the study: a protocol and its seed-mean validation curve.</summary>
public sealed record ProtocolCell(string Stage, string Value, ProtocolPoint Point, int Epochs, double[] ValidationCurve, double Score, int BestEpoch, double SecondsPerEpoch, bool Chosen = false);

/// <summary>One readout budget tried on the leaf arm.</summary>
public sealed record ReadoutBudgetCell(string Readout, int TransferEpochs, double LearningRateFactor, double ValidationError);

/// <summary>What the study chose, and the numbers behind it.</summary>
public sealed record ProtocolStudySummary(
    ProtocolPoint Chosen, int Epochs, double BaselineValidationError,
    int FineTuningEpochs, double FineTuningFactor, double FineTuningValidationError,
    int ProbeThenFineTuningEpochs, double ProbeThenFineTuningFactor, double ProbeThenFineTuningValidationError,
    double LeafMappedUpValidationError, double LeafProbeValidationError,
    IReadOnlyList<ProtocolCell> Cells, IReadOnlyList<ReadoutBudgetCell> Readouts, IReadOnlyList<string> Notes, double Seconds, string LibraryVersion);

/// <summary>Runs the protocol study (resumable: each cell is saved as it finishes) and turns its choice into the Standard config.</summary>
public static class RealImageProtocolStudy
{
    public const string ExperimentName = "real-images-protocol";

    public static (ProtocolStudySummary Summary, string Folder) Run(ProtocolStudyConfig config, string? runsRoot = null, Action<string>? log = null)
    {
        config = config.Validated();
        log ??= _ => { };
        var (folder, summary, _) = new RunStore(runsRoot ?? ProjectPaths.RunsRoot).GetOrRun(ExperimentName, config, "Experiments", run => Study(config, run, log));
        return (summary, folder.Path);
    }

    /// <summary>The finished default study under <paramref name="runsRoot"/>, or null (never trains).</summary>
    public static (ProtocolStudySummary Summary, string Folder)? TryLoad(string? runsRoot = null)
    {
        var lookup = new RunStore(runsRoot ?? ProjectPaths.RunsRoot).TryRead<ProtocolStudyConfig, ProtocolStudySummary>(ExperimentName, ProtocolStudyConfig.Default().Validated(), ResultVersion.OfLayer("Experiments"));
        return lookup.IsFresh ? (lookup.Summary!, lookup.Folder.Path) : null;
    }

    private static ProtocolStudySummary Study(ProtocolStudyConfig config, RunFolder run, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        var notes = new List<string>();
        var cells = new List<ProtocolCell>();
        var data = new Dictionary<int, HierarchicalImageSet>();
        HierarchicalImageSet Data(int size)
        {
            if (!data.TryGetValue(size, out var set))
                data[size] = set = HierarchicalImageSet.FromOmniglot(Omniglot.Load(Omniglot.CommittedSmallSubsets(), size), "omniglot-small");
            return set;
        }
        int maxEpochs = config.MaxEpochs;
        ProtocolCell Cell(string stage, string value, ProtocolPoint point)
        {
            var file = run.File($"cell-{RunStore.ConfigKey("cell", new { point, maxEpochs, config.Seeds })}.json");
            if (File.Exists(file)) return JsonFiles.Read<ProtocolCell>(file) with { Stage = stage, Value = value };
            var cellClock = Stopwatch.StartNew();
            var curves = config.Seeds.Select(seed => BaselineCurve(config, Data(point.ImageSize), point, seed, maxEpochs)).ToList();
            var mean = Enumerable.Range(0, maxEpochs).Select(e => curves.Average(c => c[e])).ToArray();
            var smooth = Smooth(mean, config.SmoothingWindow);
            int best = Array.IndexOf(smooth, smooth.Min());
            var cell = new ProtocolCell(stage, value, point, maxEpochs, mean, smooth[best], best + 1, cellClock.Elapsed.TotalSeconds / (maxEpochs * config.Seeds.Count));
            JsonFiles.Write(file, cell);
            log(string.Create(CultureInfo.InvariantCulture, $"protocol {stage} = {value} ({point.Describe()}): validation error {cell.Score:0.000} at epoch {cell.BestEpoch} ({cellClock.Elapsed.TotalSeconds:0} s)"));
            return cell;
        }

        var point = config.Start;
        ProtocolPoint Stage<T>(string name, IReadOnlyList<T> grid, Func<ProtocolPoint, T, ProtocolPoint> with, Func<T, bool, T?>? extend) where T : struct
        {
            var values = grid.ToList();
            for (int extension = 0; ; extension++)
            {
                var scored = values.Select(v => (Value: v, Cell: Cell(name, Convert.ToString(v, CultureInfo.InvariantCulture)!, with(point, v)))).ToList();
                // The best score wins; a value within the equivalence margin of it that costs less wins instead.
                var top = scored.Min(s => s.Cell.Score);
                var bestIndex = scored.Select((s, i) => (s.Cell, i)).Where(x => x.Cell.Score <= top + config.EquivalenceMargin)
                    .OrderBy(x => x.Cell.Point.Cost()).ThenBy(x => x.Cell.Score).First().i;
                var best = scored[bestIndex].Value;
                T? next = extend is null ? null : bestIndex == 0 ? extend(values[0], false) : bestIndex == values.Count - 1 ? extend(values[^1], true) : null;
                if (next is null || extension >= config.MaxExtensions)
                {
                    if (next is not null) notes.Add($"{name}: the choice {best} still sits on the grid's edge after {config.MaxExtensions} extensions");
                    cells.AddRange(scored.Select(s => s.Cell with { Chosen = Equals(s.Value, best) }));
                    return with(point, best);
                }
                notes.Add($"{name}: {best} won on the grid's edge; the grid was extended by {next}");
                if (bestIndex == 0) values.Insert(0, next.Value); else values.Add(next.Value);
            }
        }
        point = Stage("image_size", config.ImageSizes, (p, v) => p with { ImageSize = v }, (v, up) => up ? (v + 6 <= 105 ? v + 6 : null) : (v - 4 >= 8 ? v - 4 : null));
        point = Stage("blocks", config.BlockCounts, (p, v) => p with { Blocks = v }, null);
        point = Stage("width", config.Widths, (p, v) => p with { Width = v }, (v, up) => up ? v * 3 / 2 : (v * 2 / 3 >= 8 ? v * 2 / 3 : null));
        point = Stage("pool", config.Pools, (p, v) => p with { Pool = v }, null);
        point = Stage("shift", config.Shifts, (p, v) => p with { ShiftPixels = v }, (v, up) => up ? (v + 1 <= point.ImageSize / 4 ? v + 1 : null) : (v > 0 ? v - 1 : null));
        point = Stage("learning_rate", config.LearningRates, (p, v) => p with { LearningRate = v }, (v, up) => up ? v * 2 : v / 2);

        // The epoch budget: the first epoch on the final protocol's plateau, which must end before the last epoch trained.
        var final = Cell("final", point.Describe(), point);
        for (int extension = 0; final.BestEpoch >= final.Epochs && extension < config.MaxExtensions; extension++)
        {
            notes.Add($"epochs: the validation minimum fell on the last of {maxEpochs} epochs; trained {maxEpochs * 3 / 2} instead");
            maxEpochs = maxEpochs * 3 / 2;
            final = Cell("final", point.Describe(), point);
        }
        if (final.BestEpoch >= final.Epochs) notes.Add($"epochs: the validation minimum still falls on the last epoch ({final.Epochs})");
        var smooth = Smooth(final.ValidationCurve, config.SmoothingWindow);
        int epochs = 1 + Array.FindIndex(smooth, v => v <= final.Score + config.PlateauTolerance);
        epochs = Math.Max(epochs, config.TransferEpochGrid[^1] + 1);
        cells.Add(final);

        var (readouts, mappedUp, probe) = ReadoutBudgets(config, Data(point.ImageSize), point, epochs, run, notes, log);
        (int Epochs, double Factor, double Error) Choose(string readout)
        {
            var best = readouts.Where(r => r.Readout == readout).OrderBy(r => r.ValidationError).ThenBy(r => r.TransferEpochs).ThenBy(r => r.LearningRateFactor).First();
            return (best.TransferEpochs, best.LearningRateFactor, best.ValidationError);
        }
        var ft = Choose(RealImages.ReadoutName(Readout.FineTuning));
        var lpft = Choose(RealImages.ReadoutName(Readout.ProbeThenFineTuning));
        WriteTables(run, cells, readouts);
        return new ProtocolStudySummary(point, epochs, smooth[epochs - 1], ft.Epochs, ft.Factor, ft.Error, lpft.Epochs, lpft.Factor, lpft.Error, mappedUp, probe,
            cells, readouts, notes, clock.Elapsed.TotalSeconds, BuildInfo.LibraryVersion);
    }

    /// <summary>The baseline's validation error after each epoch, for one seed.</summary>
    private static double[] BaselineCurve(ProtocolStudyConfig config, HierarchicalImageSet set, ProtocolPoint point, int seed, int epochs)
    {
        using var trainer = new RealImageTrainer(set, new RealImageNetwork(point.Channels(), point.Pool, point.ShiftPixels), config.BatchSize);
        var labels = RealImageLabelSets.Build(set, RealImageLabelSets.Target, seed);
        var truth = trainer.TargetLabels("val");
        using var model = trainer.NewModel(labels.Classes, seed);
        var curve = new double[epochs];
        trainer.Train(model, labels.TrainLabels, epochs, point.LearningRate, seed, "baseline",
            afterEpoch: done => curve[done - 1] = ErrorOf(trainer.Predict(model, "val"), truth));
        return curve;
    }

    private static double ErrorOf(int[] predictions, int[] truth) => predictions.Where((p, i) => p != truth[i]).Count() / (double)truth.Length;

    /// <summary>A centred moving average (the window shrinks at the ends).</summary>
    public static double[] Smooth(double[] values, int window)
    {
        int half = window / 2;
        return values.Select((_, i) =>
        {
            int from = Math.Max(0, i - half), to = Math.Min(values.Length - 1, i + half);
            return values[from..(to + 1)].Average();
        }).ToArray();
    }

    /// <summary>
    /// The transfer budgets on the leaf arm: for each transfer length T, the leaf body pretrained for epochs − T (one run,
    /// read at each stop), then fine-tuned (fresh head) or probed and fine-tuned for T epochs at each rate factor.
    /// </summary>
    private static (List<ReadoutBudgetCell> Cells, double MappedUp, double Probe) ReadoutBudgets(ProtocolStudyConfig config, HierarchicalImageSet set, ProtocolPoint point,
        int epochs, RunFolder run, List<string> notes, Action<string> log)
    {
        var transfers = config.TransferEpochGrid.ToList();
        var ftFactors = config.FineTuningFactors.ToList();
        var lpftFactors = config.ProbeThenFineTuningFactors.ToList();
        for (int extension = 0; ; extension++)
        {
            var (cells, mappedUp, probe) = ReadoutCells(config, set, point, epochs, transfers, ftFactors, lpftFactors, run, log);
            bool extended = false;
            void Check(string readout, List<double> factors)
            {
                var best = cells.Where(c => c.Readout == readout).OrderBy(c => c.ValidationError).ThenBy(c => c.TransferEpochs).ThenBy(c => c.LearningRateFactor).First();
                int fi = factors.IndexOf(best.LearningRateFactor);
                if (extension >= config.MaxExtensions)
                {
                    if (fi == 0 || fi == factors.Count - 1 || (best.TransferEpochs == transfers[^1]))
                        notes.Add($"{readout}: the choice still sits on its grid's edge after {config.MaxExtensions} extensions");
                    return;
                }
                if (fi == 0) { factors.Insert(0, factors[0] / 3); extended = true; notes.Add($"{readout}: rate factor {best.LearningRateFactor} won on the grid's edge; extended by {factors[0]:g3}"); }
                else if (fi == factors.Count - 1) { factors.Add(factors[^1] * 3); extended = true; notes.Add($"{readout}: rate factor {best.LearningRateFactor} won on the grid's edge; extended by {factors[^1]:g3}"); }
                // One transfer epoch is a natural bound (zero is the probe or mapped-up readout); the upper edge extends.
                if (best.TransferEpochs == transfers[^1] && transfers[^1] * 2 < epochs) { transfers.Add(transfers[^1] * 2); extended = true; notes.Add($"{readout}: {best.TransferEpochs} transfer epochs won on the grid's edge; extended by {transfers[^1]}"); }
            }
            Check(RealImages.ReadoutName(Readout.FineTuning), ftFactors);
            Check(RealImages.ReadoutName(Readout.ProbeThenFineTuning), lpftFactors);
            if (!extended) return (cells, mappedUp, probe);
        }
    }

    private static (List<ReadoutBudgetCell> Cells, double MappedUp, double Probe) ReadoutCells(ProtocolStudyConfig config, HierarchicalImageSet set, ProtocolPoint point, int epochs,
        List<int> transfers, List<double> ftFactors, List<double> lpftFactors, RunFolder run, Action<string> log)
    {
        var perSeed = new List<ReadoutSeed>();
        foreach (var seed in config.Seeds)
        {
            var file = run.File($"readouts-{RunStore.ConfigKey("readouts", new { point, epochs, seed, transfers, ftFactors, lpftFactors })[..16]}.json");
            if (File.Exists(file)) { perSeed.Add(JsonFiles.Read<ReadoutSeed>(file)); continue; }
            var clock = Stopwatch.StartNew();
            var baseConfig = StandardFrom(point, epochs, 1, 0.1, 1, 0.03, [seed + 1]) with { Readouts = [Readout.LinearProbe, Readout.FineTuning, Readout.ProbeThenFineTuning] };
            using var trainer = new RealImageTrainer(set, baseConfig.Network(), config.BatchSize);
            var labels = RealImageLabelSets.Build(set, "leaf", seed);
            var target = RealImageLabelSets.Build(set, RealImageLabelSets.Target, seed);
            var truth = trainer.TargetLabels("val");
            using var model = trainer.NewModel(labels.Classes, seed);
            using var optimizer = TorchSharp.torch.optim.Adam(model.parameters(), point.LearningRate);
            var cells = new List<ReadoutBudgetCell>();
            double mappedUp = double.NaN, probe = double.NaN;
            int done = 0;
            foreach (var stop in transfers.Select(t => epochs - t).Append(epochs).Distinct().Order())
            {
                trainer.Train(model, labels.TrainLabels, stop - done, point.LearningRate, seed, "pretraining", firstEpoch: done, optimizer: optimizer);
                done = stop;
                var pretrained = RealImageTrainer.Snapshot(model);
                try
                {
                    if (stop == epochs)
                    {
                        mappedUp = ErrorOf(trainer.Predict(model, "val").Select(p => labels.MajorityTarget[p]).ToArray(), truth);
                        probe = ErrorOf(RealImages.ReadOut(baseConfig, trainer, model, Readout.LinearProbe, target.TrainLabels, point.LearningRate, seed, "val"), truth);
                        continue;
                    }
                    int t = epochs - stop;
                    foreach (var factor in ftFactors)
                    {
                        var c = baseConfig with { TransferEpochs = t, TransferLearningRateFactor = factor };
                        cells.Add(new(RealImages.ReadoutName(Readout.FineTuning), t, factor, ErrorOf(RealImages.ReadOut(c, trainer, model, Readout.FineTuning, target.TrainLabels, point.LearningRate, seed, "val"), truth)));
                        RealImageTrainer.Restore(model, pretrained);
                    }
                    foreach (var factor in lpftFactors)
                    {
                        var c = baseConfig with { ProbeThenFineTuningEpochs = t, ProbeThenFineTuningLearningRateFactor = factor };
                        cells.Add(new(RealImages.ReadoutName(Readout.ProbeThenFineTuning), t, factor, ErrorOf(RealImages.ReadOut(c, trainer, model, Readout.ProbeThenFineTuning, target.TrainLabels, point.LearningRate, seed, "val"), truth)));
                        RealImageTrainer.Restore(model, pretrained);
                    }
                }
                finally
                {
                    foreach (var tensor in pretrained.Values) tensor.Dispose();
                }
            }
            JsonFiles.Write(file, new ReadoutSeed(cells, mappedUp, probe));
            log(string.Create(CultureInfo.InvariantCulture, $"readout budgets, seed {seed}: leaf mapped-up {mappedUp:0.000}, probe {probe:0.000}, best FT {cells.Where(c => c.Readout == "fine-tuning").Min(c => c.ValidationError):0.000}, best LP-then-FT {cells.Where(c => c.Readout == "lp-then-ft").Min(c => c.ValidationError):0.000} ({clock.Elapsed.TotalSeconds:0} s)"));
            perSeed.Add(new ReadoutSeed(cells, mappedUp, probe));
        }
        var mean = perSeed[0].Cells.Select((c, i) => c with { ValidationError = perSeed.Average(s => s.Cells[i].ValidationError) }).ToList();
        return (mean, perSeed.Average(s => s.MappedUp), perSeed.Average(s => s.Probe));
    }

    private sealed record ReadoutSeed(List<ReadoutBudgetCell> Cells, double MappedUp, double Probe);

    private static void WriteTables(RunFolder run, List<ProtocolCell> cells, List<ReadoutBudgetCell> readouts)
    {
        var lines = new List<string> { "stage,value,image_size,blocks,width,pool,shift,learning_rate,epochs,score,best_epoch,seconds_per_epoch,chosen,curve" };
        lines.AddRange(cells.Select(c => string.Create(CultureInfo.InvariantCulture,
            $"{c.Stage},{c.Value.Replace(',', ';')},{c.Point.ImageSize},{c.Point.Blocks},{c.Point.Width},{c.Point.Pool},{c.Point.ShiftPixels},{c.Point.LearningRate},{c.Epochs},{c.Score:0.0000},{c.BestEpoch},{c.SecondsPerEpoch:0.00},{(c.Chosen ? 1 : 0)},{string.Join(';', c.ValidationCurve.Select(v => v.ToString("0.0000", CultureInfo.InvariantCulture)))}")));
        AtomicFile.WriteAllText(run.File("protocol-study.csv"), string.Join('\n', lines) + "\n");
        var readoutLines = new List<string> { "readout,transfer_epochs,learning_rate_factor,validation_error" };
        readoutLines.AddRange(readouts.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Readout},{r.TransferEpochs},{r.LearningRateFactor},{r.ValidationError:0.0000}")));
        AtomicFile.WriteAllText(run.File("readout-budgets.csv"), string.Join('\n', readoutLines) + "\n");
    }

    /// <summary>The study as Markdown: every cell, the transfer budgets, the notes and the choice (for the CLI and notebook 08).</summary>
    public static string Markdown(ProtocolStudySummary s, string folder)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Protocol study on the validation split (drawers 15–16), baseline seed-mean validation error at each cell's plateau; run folder `{folder}`, {s.Seconds / 60:0.0} min.\n");
        text.AppendLine("| stage | value | protocol | validation error | at epoch | s per epoch |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var c in s.Cells)
            text.AppendLine(CultureInfo.InvariantCulture, $"| {c.Stage} | {(c.Chosen ? $"**{c.Value}**" : c.Value)} | {c.Point.Describe()} | {c.Score:0.000} | {c.BestEpoch} of {c.Epochs} | {c.SecondsPerEpoch:0.0} |");
        text.AppendLine().AppendLine("| readout (leaf arm) | transfer epochs | rate factor | validation error |");
        text.AppendLine("|---|---|---|---|");
        foreach (var r in s.Readouts)
            text.AppendLine(CultureInfo.InvariantCulture, $"| {r.Readout} | {r.TransferEpochs} | {r.LearningRateFactor:g3} | {r.ValidationError:0.000} |");
        text.AppendLine();
        foreach (var note in s.Notes) text.AppendLine($"- {note}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"\n**Chosen:** {s.Chosen.Describe()}, {s.Epochs} epochs (baseline validation error {s.BaselineValidationError:0.000}); fine-tuning {s.FineTuningEpochs} epochs at rate × {s.FineTuningFactor:g3} ({s.FineTuningValidationError:0.000}); " +
            $"LP-then-FT {s.ProbeThenFineTuningEpochs} epochs at rate × {s.ProbeThenFineTuningFactor:g3} ({s.ProbeThenFineTuningValidationError:0.000}); leaf mapped-up {s.LeafMappedUpValidationError:0.000}, leaf linear probe {s.LeafProbeValidationError:0.000}.");
        return text.ToString();
    }

    /// <summary>
    /// What notebook 08 shows of the study: its table when a finished run folder is under <paramref name="runsRoot"/>,
    /// else where <paramref name="config"/>'s values came from. Never trains.
    /// </summary>
    public static string Described(RealImagesConfig config, string? runsRoot = null) => TryLoad(runsRoot) is { } study
        ? Markdown(study.Summary, study.Folder)
        : $"No protocol-study run folder under {runsRoot ?? ProjectPaths.RunsRoot}; the values come from the study recorded in the config's provenance: {config.ScheduleProvenance}";

    /// <summary>A Standard-shaped config at a protocol point (every arm the same schedule: the baseline's epochs and rate).</summary>
    public static RealImagesConfig StandardFrom(ProtocolPoint point, int epochs, int fineTuningEpochs, double fineTuningFactor, int probeThenFineTuningEpochs,
        double probeThenFineTuningFactor, IReadOnlyList<int> seeds) => new(
        Name: "standard",
        Dataset: RealImageDataset.OmniglotSmall,
        Seeds: seeds,
        LabelSets: RealImagesConfig.StandardLabelSets,
        Readouts: [Readout.LinearProbe, Readout.FineTuning, Readout.ProbeThenFineTuning],
        Schedules: new[] { RealImageLabelSets.Target }.Concat(RealImagesConfig.StandardLabelSets).Select(s => new ArmSchedule(s, epochs, point.LearningRate, double.NaN)).ToList(),
        ScheduleProvenance: "the protocol study's baseline epochs and rate, for every arm",
        Search: new ScheduleSearch([epochs], [point.LearningRate], Seed: 1000),
        ImageSize: point.ImageSize,
        Width: point.Width,
        TransferEpochs: fineTuningEpochs,
        TransferLearningRateFactor: fineTuningFactor,
        Channels: point.Channels(),
        Pool: point.Pool,
        ShiftPixels: point.ShiftPixels,
        ProbeThenFineTuningEpochs: probeThenFineTuningEpochs,
        ProbeThenFineTuningLearningRateFactor: probeThenFineTuningFactor,
        CompetenceFloor: 0.16);
}
