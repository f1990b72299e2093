using Granularity.Hierarchy;
using Granularity.Core;
using System.Diagnostics;
using Granularity.Data;
using Granularity.Runs;
using Granularity.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Training;

/// <summary>Options of one call into the engine that do not change its results (so they are not part of any config).</summary>
public sealed record TrainingOptions
{
    /// <summary>Receives progress snapshots (throttle them with <see cref="ProgressReporters"/>); null = silent.</summary>
    public Action<TrainingProgress>? Progress { get; init; }

    /// <summary>Where run folders go; null = <see cref="ProjectPaths.RunsRoot"/>.</summary>
    public string? RunsRoot { get; init; }

    /// <summary>Write TensorBoard event files under each run folder's <c>tensorboard/</c>.</summary>
    public bool TensorBoard { get; init; } = true;

    /// <summary>Stop (as a kill would) after this many epochs trained in this call, once their checkpoint is written; for resume tests.</summary>
    public int? StopAfterEpochs { get; init; }

    /// <summary>Evaluate the splits after every epoch (true) or only after a stage's last epoch (false: earlier rows hold NaN; saves time in sweeps).</summary>
    public bool EvaluateEachEpoch { get; init; } = true;

    /// <summary>Checked between steps; a cancelled run keeps its last checkpoint and resumes from it next time.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Receives warnings (a corrupt checkpoint set aside, a fallback to the previous one); default: standard error.</summary>
    public Action<string> Warn { get; init; } = message => Console.Error.WriteLine($"warning: {message}");

    /// <summary>The datasets runs may open by name; null = <see cref="DatasetRegistry.Synthetic"/>.</summary>
    public DatasetRegistry? Datasets { get; init; }

    /// <summary>Progress to <paramref name="reporter"/> (the command line passes its Spectre.Console bars), by default plain lines on the console.</summary>
    public static TrainingOptions ForConsole(string? runsRoot = null, IProgressReporter? reporter = null) =>
        new() { Progress = ProgressReporters.To(reporter ?? new TextProgress(Console.Out)), RunsRoot = runsRoot };

    internal string Root => RunsRoot ?? ProjectPaths.RunsRoot;

    private static readonly DatasetRegistry SyntheticOnly = DatasetRegistry.Synthetic();

    /// <summary>The registry runs open datasets from.</summary>
    public DatasetRegistry DatasetsOrSynthetic => Datasets ?? SyntheticOnly;

    /// <summary>These options with <paramref name="datasets"/> where none were given.</summary>
    public TrainingOptions WithDatasetsIfUnset(DatasetRegistry datasets) => Datasets is not null ? this : this with { Datasets = datasets };
}

/// <summary>The loss became NaN or infinite: the run stops and its last good checkpoint stays as it was.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);

/// <summary>A run stopped on purpose (<see cref="TrainingOptions.StopAfterEpochs"/> or cancellation) after writing its checkpoint.</summary>
public sealed class TrainingInterruptedException(string message) : OperationCanceledException(message);

/// <summary>Trains one stage with checkpoints after every epoch, resuming from the stage's checkpoint when one exists.</summary>
internal sealed class StageTrainer
{
    public required string StageName { get; init; }
    public required Classifier Model { get; init; }
    public required IBatchSource Train { get; init; }
    public required IReadOnlyList<(string Split, IBatchSource Source)> Evaluation { get; init; }
    public required StageConfig Stage { get; init; }
    public required LabelMap Labels { get; init; }
    public required int Seed { get; init; }
    public required Precision Precision { get; init; }
    public required RunFolder Folder { get; init; }
    public required string CheckpointPath { get; init; }
    public required string ConfigJson { get; init; }
    public required string ConfigType { get; init; }
    public required ModelConfig ModelConfig { get; init; }
    public required bool FeaturesOnly { get; init; }
    public required TrainingOptions Options { get; init; }

    /// <summary>Column names of the stage's metrics table.</summary>
    public string[] Columns => ["epoch", "learning_rate", "train_loss", "train_top1_error", "seconds", "samples_per_second",
        .. Evaluation.SelectMany(e => new[] { $"{e.Split}_top1_error", $"{e.Split}_top5_error" })];

    public static optim.Optimizer CreateOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters, StageConfig stage) => stage.Optimizer switch
    {
        OptimizerKind.Sgd => new FusedSgd(parameters, stage.LearningRate, stage.Momentum, 0, stage.WeightDecay, stage.Nesterov && stage.Momentum > 0),
        OptimizerKind.Adam => optim.Adam(parameters, stage.LearningRate, stage.Beta1, stage.Beta2, 1e-8, stage.WeightDecay),
        OptimizerKind.AdamW => optim.AdamW(parameters, stage.LearningRate, stage.Beta1, stage.Beta2, 1e-8, stage.WeightDecay),
        _ => throw new ArgumentException($"unknown optimizer {stage.Optimizer}"),
    };

    /// <summary>Trains the remaining epochs; returns the metrics of every epoch of the stage (restored ones included).</summary>
    public MetricsTable Run()
    {
        var device = TorchRuntime.Device;
        ApplyPrecision(Precision, device);
        Model.to(device);
        using var optimizer = CreateOptimizer(Model.parameters(), Stage);
        var metrics = new MetricsTable(Columns);
        var startEpoch = 0;
        if (ReadLastGoodCheckpoint() is { } saved)
        {
            if (saved.Header.ConfigJson != ConfigJson || saved.Header.Stage != StageName)
                throw new InvalidDataException($"{CheckpointPath}: written for another configuration or stage ('{saved.Header.Stage}'); move it away to start this run afresh");
            if (!saved.Header.MetricsColumns.SequenceEqual(Columns))
                throw new InvalidDataException($"{CheckpointPath}: its metrics columns ({string.Join(", ", saved.Header.MetricsColumns)}) differ from this stage's; move it away to restart");
            saved.LoadInto(Model);
            Model.to(device);
            if (saved.HasOptimizerState) saved.LoadOptimizer(optimizer);
            foreach (var row in saved.Header.MetricsRows) metrics.Add(row);
            startEpoch = saved.Header.EpochsCompleted;
        }

        using var writer = Options.TensorBoard && startEpoch < Stage.Epochs ? new TensorBoardLog(Folder.File("tensorboard")) : null;
        var trainedThisCall = 0;
        for (int epoch = startEpoch; epoch < Stage.Epochs; epoch++)
        {
            // Each epoch draws from its own derived stream, so a resumed run repeats exactly what the killed one would have done.
            TorchRuntime.Seed(SeedMix.Combine(Seed, StageName, epoch));
            var clock = Stopwatch.StartNew();
            var (loss, error, lr) = TrainEpoch(optimizer, epoch, device);
            var seconds = clock.Elapsed.TotalSeconds;
            var done = epoch + 1 == Stage.Epochs;
            var evaluations = Options.EvaluateEachEpoch || done
                ? Evaluation.Select(e => Evaluator.Evaluate(Model, e.Source, e.Split, Labels.Level).Summary).ToList()
                : Evaluation.Select(e => new SplitEvaluation(e.Split, Labels.Level, e.Source.Count, double.NaN, double.NaN)).ToList();
            metrics.Add([epoch + 1, lr, loss, error, seconds, Train.Count / Math.Max(seconds, 1e-9),
                .. evaluations.SelectMany(e => new[] { e.Top1Error, e.Top5Error })]);
            writer?.Epoch(StageName, epoch + 1, loss, error, lr, evaluations.Where(e => !double.IsNaN(e.Top1Error)));
            // The previous epoch's checkpoint stays beside the new one until the stage ends: a resume falls back to it
            // when the newest turns out truncated or damaged.
            if (File.Exists(CheckpointPath)) File.Move(CheckpointPath, PreviousCheckpointPath(CheckpointPath), overwrite: true);
            Checkpoint.Write(CheckpointPath, Header(epoch + 1, metrics), Model, optimizer);
            Folder.WriteMetrics(metrics);
            Options.Progress?.Invoke(new TrainingProgress(StageName, Labels.Level, epoch, Stage.Epochs, Train.Count, Train.Count, loss, lr,
                Train.Count / Math.Max(seconds, 1e-9), clock.Elapsed, TimeSpan.FromSeconds(seconds * (Stage.Epochs - epoch - 1)), true, evaluations));
            trainedThisCall++;
            if (!done && (Options.StopAfterEpochs is { } stop && trainedThisCall >= stop || Options.Cancellation.IsCancellationRequested))
                throw new TrainingInterruptedException($"{StageName}: stopped after epoch {epoch + 1}/{Stage.Epochs}; the checkpoint {CheckpointPath} resumes it");
        }
        if (startEpoch == Stage.Epochs) Folder.WriteMetrics(metrics);
        if (File.Exists(PreviousCheckpointPath(CheckpointPath))) File.Delete(PreviousCheckpointPath(CheckpointPath));
        return metrics;
    }

    /// <summary>Where the checkpoint of the epoch before the newest is kept while a stage runs.</summary>
    public static string PreviousCheckpointPath(string checkpointPath) => checkpointPath + ".previous";

    /// <summary>
    /// The newest checkpoint that passes <see cref="Checkpoint.Read"/> (signature, format version, length, SHA-256): the
    /// stage's own, else the previous epoch's. A damaged one is never loaded: it is renamed to <c>*.corrupt</c> and reported.
    /// </summary>
    private Checkpoint.Contents? ReadLastGoodCheckpoint()
    {
        foreach (var path in new[] { CheckpointPath, PreviousCheckpointPath(CheckpointPath) })
        {
            if (!File.Exists(path)) continue;
            try { return Checkpoint.Read(path); }
            catch (InvalidDataException error)
            {
                var aside = path + ".corrupt";
                File.Move(path, aside, overwrite: true);
                var fallback = path == CheckpointPath && File.Exists(PreviousCheckpointPath(CheckpointPath));
                Options.Warn($"{error.Message}; not loaded, kept as {aside}; {(fallback ? "resuming from the previous epoch's checkpoint" : "no good checkpoint left, the stage restarts")}");
            }
        }
        return null;
    }

    public CheckpointHeader Header(int epochsCompleted, MetricsTable metrics) => new(
        Checkpoint.FormatVersion, BuildInfo.LibraryVersion, ConfigType, ConfigJson, ModelConfig, FeaturesOnly, Model.FeatureCount, Model.ClassCount,
        Labels, StageName, epochsCompleted, Stage.Epochs, metrics.Columns.ToArray(), metrics.Rows.Select(r => r.ToArray()).ToArray());

    private (double Loss, double Top1Error, double LearningRate) TrainEpoch(optim.Optimizer optimizer, int epoch, Device device)
    {
        Model.train();
        var step = new TrainingStep(Model, optimizer, Stage);
        double lossSum = 0, lr = Stage.LearningRateAt(epoch);
        long errors = 0, seen = 0;
        var clock = Stopwatch.StartNew();
        foreach (var batch in Train.Epoch(epoch))
        {
            using var owned = batch;
            Options.Cancellation.ThrowIfCancellationRequested();
            lr = Stage.LearningRateAt(epoch + (double)seen / Train.Count);
            var (lossValue, batchErrors) = step.Run(batch.Images, batch.Labels, lr, device);
            if (!float.IsFinite(lossValue))
                throw new TrainingDivergedException(
                    $"{StageName} [{Labels.Level}]: the loss became {lossValue} at epoch {epoch + 1}, after {seen} samples (learning rate {lr:g4}); " +
                    $"the run stopped and its last good checkpoint is kept{(File.Exists(CheckpointPath) ? $" ({CheckpointPath})" : " (none yet: it diverged in its first epoch)")}. " +
                    "Lower the learning rate, add warm-up or gradient clipping, or check the input for NaN.");
            errors += batchErrors;
            seen += batch.Size;
            lossSum += lossValue * batch.Size;
            if (Options.Progress is { } progress)
            {
                var rate = seen / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                var remaining = (Train.Count - seen + (long)(Stage.Epochs - epoch - 1) * Train.Count) / Math.Max(rate, 1e-9);
                progress(new TrainingProgress(StageName, Labels.Level, epoch, Stage.Epochs, (int)seen, Train.Count, lossValue, lr, rate, clock.Elapsed,
                    TimeSpan.FromSeconds(Math.Min(remaining, TimeSpan.MaxValue.TotalSeconds / 2)), false));
            }
        }
        if (seen == 0) throw new InvalidDataException($"{StageName}: the training source yielded no batches");
        return (lossSum / seen, (double)errors / seen, lr);
    }

    /// <summary>TF32 on CUDA when asked; TorchSharp 0.107 offers no autocast, so this is the mixed-precision speed-up available.</summary>
    internal static void ApplyPrecision(Precision precision, Device device)
    {
        if (device.type != DeviceType.CUDA) return;
        var tf32 = precision == Precision.TensorFloat32;
        backends.cuda.matmul.allow_tf32 = tf32;
        backends.cudnn.allow_tf32 = tf32;
    }
}

/// <summary>
/// One optimisation step: forward, (smoothed) cross-entropy, backward, optional gradient clipping, update; every
/// temporary in a dispose scope. A non-finite loss skips the update and is returned for the caller to stop on.
/// </summary>
public sealed class TrainingStep(Classifier model, optim.Optimizer optimizer, StageConfig stage)
{
    private readonly List<TorchSharp.Modules.Parameter> parameters = model.parameters().ToList();

    /// <summary>Runs the step at learning rate <paramref name="learningRate"/>; returns the batch's mean loss and its top-1 error count.</summary>
    public (float Loss, long Errors) Run(Tensor images, Tensor labels, double learningRate, Device device)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
        float lossValue;
        long errors;
        using (NewDisposeScope())
        {
            var input = images.to(device);
            var target = labels.to(ScalarType.Int64).to(device);
            var logits = model.call(input);
            var loss = nn.functional.cross_entropy(logits, target, label_smoothing: stage.LabelSmoothing);
            lossValue = loss.item<float>();
            if (!float.IsFinite(lossValue)) return (lossValue, 0);
            optimizer.zero_grad();
            loss.backward();
            if (stage.GradientClipNorm > 0) nn.utils.clip_grad_norm_(parameters, stage.GradientClipNorm);
            errors = logits.argmax(1).ne(target).sum().item<long>();
        }
        // The update runs outside our dispose scope: a scalar the optimizer creates on its first step and keeps would
        // otherwise be freed with the scope and read later (a rare native "toDouble" failure in Adam.step seen in CI).
        optimizer.step();
        return (lossValue, errors);
    }
}

/// <summary>Per-epoch scalars as TensorBoard event files (TorchSharp's SummaryWriter).</summary>
internal sealed class TensorBoardLog : IDisposable
{
    private readonly TorchSharp.Modules.SummaryWriter writer;

    public TensorBoardLog(string directory)
    {
        Directory.CreateDirectory(directory);
        writer = utils.tensorboard.SummaryWriter(directory, createRunName: false);
    }

    public void Epoch(string stage, int epoch, double loss, double top1Error, double learningRate, IEnumerable<SplitEvaluation> evaluations)
    {
        writer.add_scalar($"{stage}/train_loss", (float)loss, epoch);
        writer.add_scalar($"{stage}/train_top1_error", (float)top1Error, epoch);
        writer.add_scalar($"{stage}/learning_rate", (float)learningRate, epoch);
        foreach (var e in evaluations)
        {
            writer.add_scalar($"{stage}/{e.Split}_top1_error", (float)e.Top1Error, epoch);
            writer.add_scalar($"{stage}/{e.Split}_top5_error", (float)e.Top5Error, epoch);
        }
    }

    public void Dispose() { (writer as IDisposable)?.Dispose(); }
}
