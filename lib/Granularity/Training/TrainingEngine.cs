using System.Runtime.CompilerServices;
using Granularity.Hierarchy;
using Granularity.Core;
using System.Diagnostics;
using Granularity.Data;
using Granularity.Runs;
using Granularity.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Training;

/// <summary>What a finished pretraining run reports: its level, classes, epochs and error at its own level.</summary>
public sealed record PretrainingSummary(
    string Protocol, string Level, int ClassCount, int Epochs, int Seed,
    IReadOnlyList<SplitEvaluation> OwnLevel, double Seconds, string Checkpoint, string LibraryVersion);

/// <summary>What a finished experiment reports: target-level errors per split, and the pretrained model's own-level errors.</summary>
public sealed record ExperimentSummary(
    string Protocol, string PretrainingLevel, int PretrainingClasses, string TargetLevel, int TargetClasses,
    TransferMode TransferMode, bool IsBaseline, int Seed,
    IReadOnlyList<SplitEvaluation> Target, IReadOnlyList<SplitEvaluation> PretrainedOwnLevel,
    string PretrainingRun, double Seconds, string LibraryVersion)
{
    /// <summary>The target-level evaluation of <paramref name="split"/>.</summary>
    public SplitEvaluation TargetSplit(string split) => Target.FirstOrDefault(t => t.Split == split)
        ?? throw new KeyNotFoundException($"no evaluation split '{split}' (splits: {string.Join(", ", Target.Select(t => t.Split))})");
}

/// <summary>A pretraining or experiment result with the folder it lives in.</summary>
public sealed record PretrainingResult(RunFolder Folder, PretrainingSummary Summary, bool FromCache);

/// <summary>An experiment's result with its folder (read per-sample results with <see cref="TrainingRuns"/>).</summary>
public sealed record ExperimentResult(RunFolder Folder, ExperimentSummary Summary, bool FromCache);

/// <summary>
/// The training engine: pretrain at any granularity, transfer to the target level, evaluate. Every entry point writes a
/// run folder (config.json, metrics.csv, summary.json, checkpoints, TensorBoard events), reuses a finished one, and
/// resumes an interrupted one from its last checkpoint.
/// </summary>
public static class TrainingEngine
{
    public const string PretrainingExperiment = "pretraining";
    public const string TransferExperiment = "training";
    public const string CheckpointFile = "checkpoint.ckpt";
    public const string ModelFile = "model.ckpt";
    public const string ProbeCheckpointFile = "probe.ckpt";

    /// <summary>The layers whose sources version pretraining and transfer runs.</summary>
    public static IReadOnlyList<string> VersionLayers { get; } = Layers.Closure("Training");

    /// <summary>This build's result version of training runs.</summary>
    public static string Version { get; } = ResultVersion.Compute(ResultVersion.Sources, VersionLayers);

    /// <summary>Pretrains (or, at the target level, trains the baseline) and returns the run; a finished run is reused.</summary>
    public static PretrainingResult Pretrain(PretrainingConfig config, TrainingOptions? options = null, ITrainingData? data = null)
    {
        options ??= new TrainingOptions();
        config = config.Validated();
        var store = new RunStore(options.Root);
        var stored = store.TryRead<PretrainingConfig, PretrainingSummary>(PretrainingExperiment, config, Version);
        if (stored.IsFresh) return new(stored.Folder, stored.Summary!, true);
        var ownsData = data is null;
        data ??= options.DatasetsOrSynthetic.Open(config.Dataset, config.Seed);
        try
        {
            // Checked before any folder is created, so bad input leaves nothing behind.
            var labels = TrainingDatasets.RequireLevel(data, config.Level, "PretrainingConfig.Level");
            var folder = store.Open(PretrainingExperiment, config, Version, VersionLayers);
            var clock = Stopwatch.StartNew();
            TorchRuntime.Seed(SeedMix.Combine(config.Seed, "init"));
            using var model = config.Model.Create(labels.ClassCount);
            var train = data.Training(config.Level, config.Stage.BatchSize, SeedMix.Combine(config.Seed, "order-pretraining"));
            RequireClassCount(train, labels, "training");
            var evaluation = data.Evaluation(config.Level, EvaluationBatch(config.Stage));
            var trainer = new StageTrainer
            {
                StageName = "pretraining", Model = model, Train = train, Evaluation = evaluation,
                Stage = config.Stage, Labels = labels, Seed = config.Seed, Precision = config.Precision, Folder = folder,
                CheckpointPath = folder.File(CheckpointFile), ConfigJson = JsonFiles.Serialize(config), ConfigType = nameof(PretrainingConfig),
                ModelConfig = config.Model, FeaturesOnly = false, Options = options,
            };
            var metrics = trainer.Run();
            var own = evaluation.Select(e => Evaluator.Evaluate(model, e.Source, e.Split, labels.Level).Summary).ToList();
            // The finished checkpoint drops the optimiser state: transfers need only the weights.
            Checkpoint.Write(folder.File(CheckpointFile), trainer.Header(config.Stage.Epochs, metrics), model, optimizer: null);
            var summary = new PretrainingSummary(config.Protocol, labels.Level, labels.ClassCount, config.Stage.Epochs, config.Seed, own,
                PreviousSeconds(metrics) , CheckpointFile, BuildInfo.LibraryVersion);
            folder.WriteSummary(summary);
            return new(folder, summary, false);
        }
        finally
        {
            if (ownsData) data.Dispose();
        }
    }

    /// <summary>Runs one experiment: pretraining (reused when already done), head replacement, transfer, target evaluation.</summary>
    public static ExperimentResult Run(TrainingConfig config, TrainingOptions? options = null, ITrainingData? data = null)
    {
        options ??= new TrainingOptions();
        config = config.Validated();
        var store = new RunStore(options.Root);
        var stored = store.TryRead<TrainingConfig, ExperimentSummary>(TransferExperiment, config, Version);
        if (stored.IsFresh) return new(stored.Folder, stored.Summary!, true);
        var ownsData = data is null;
        data ??= options.DatasetsOrSynthetic.Open(config.Dataset, config.Seed);
        try
        {
            var targetLabels = TrainingDatasets.RequireLevel(data, config.TargetLevel, "TrainingConfig.TargetLevel");
            var pretrainingLabels = TrainingDatasets.RequireLevel(data, config.PretrainingLevel, "TrainingConfig.PretrainingLevel");
            var folder = store.Open(TransferExperiment, config, Version, VersionLayers);

            var pretrained = Pretrain(config.PretrainingPart(), options, data);
            var clock = Stopwatch.StartNew();
            var pretrainedCheckpoint = Checkpoint.Read(pretrained.Folder.File(CheckpointFile));
            pretrainedCheckpoint.RequireLabels(pretrainingLabels);
            using var body = pretrainedCheckpoint.CreateClassifier();
            var evaluation = data.Evaluation(config.TargetLevel, EvaluationBatch(config.Transfer));

            Classifier final;
            MetricsTable metrics;
            if (config.IsBaseline)
            {
                final = body;
                metrics = pretrained.Folder.ReadMetrics();
                folder.WriteMetrics(metrics);
            }
            else
            {
                (final, metrics) = Transfer(config, folder, body, targetLabels, data, options, pretrained.Folder.File(CheckpointFile));
            }
            var results = evaluation.Select(e => Evaluator.Evaluate(final, e.Source, e.Split, targetLabels.Level)).ToList();
            foreach (var (summaryOfSplit, samples) in results) TrainingRuns.WriteSamples(folder, summaryOfSplit.Split, samples);
            Checkpoint.Write(folder.File(ModelFile), new CheckpointHeader(Checkpoint.FormatVersion, BuildInfo.LibraryVersion, nameof(TrainingConfig),
                JsonFiles.Serialize(config), config.Model, false, final.FeatureCount, final.ClassCount, targetLabels, "final",
                metrics.Rows.Count, metrics.Rows.Count, metrics.Columns.ToArray(), metrics.Rows.Select(r => r.ToArray()).ToArray()), final, optimizer: null);
            if (File.Exists(folder.File(CheckpointFile))) File.Delete(folder.File(CheckpointFile));
            if (File.Exists(folder.File(ProbeCheckpointFile))) File.Delete(folder.File(ProbeCheckpointFile));
            if (!ReferenceEquals(final, body)) final.Dispose();
            var summary = new ExperimentSummary(config.Protocol, pretrainingLabels.Level, pretrainingLabels.ClassCount, targetLabels.Level,
                targetLabels.ClassCount, config.TransferMode, config.IsBaseline, config.Seed, results.Select(r => r.Summary).ToList(),
                pretrained.Summary.OwnLevel, Path.GetRelativePath(folder.Path, pretrained.Folder.Path),
                pretrained.Summary.Seconds + PreviousSeconds(metrics) * (config.IsBaseline ? 0 : 1), BuildInfo.LibraryVersion);
            folder.WriteSummary(summary);
            return new(folder, summary, false);
        }
        finally
        {
            if (ownsData)
            {
                ProbeFeatureCache.Forget(data);
                data.Dispose();
            }
        }
    }

    /// <summary>Evaluates a checkpoint on a dataset's evaluation splits at <paramref name="level"/>; the head must fit that level.</summary>
    public static IReadOnlyList<(SplitEvaluation Summary, SampleResults Samples)> Evaluate(string checkpointPath, DatasetConfig dataset, string level, int seed,
        DatasetRegistry? datasets = null, int batchSize = 256)
    {
        using var data = (datasets ?? DatasetRegistry.Synthetic()).Open(dataset, seed);
        var labels = TrainingDatasets.RequireLevel(data, level, "level");
        var saved = Checkpoint.Read(checkpointPath);
        if (saved.Header.FeaturesOnly) throw new InvalidDataException($"{checkpointPath}: a linear probe in progress (a head without its body) cannot be evaluated on images");
        saved.RequireLabels(labels);
        using var model = saved.CreateClassifier();
        model.to(TorchRuntime.Device);
        return data.Evaluation(level, batchSize).Select(e => Evaluator.Evaluate(model, e.Source, e.Split, level)).ToList();
    }

    private static (Classifier Final, MetricsTable Metrics) Transfer(TrainingConfig config, RunFolder folder, Classifier pretrained, LabelMap target, ITrainingData data, TrainingOptions options, string pretrainedCheckpoint)
    {
        TorchRuntime.Seed(SeedMix.Combine(config.Seed, "new-head"));
        var model = pretrained.WithNewHead(target.ClassCount);
        var configJson = JsonFiles.Serialize(config);
        if (config.TransferMode == TransferMode.LinearProbe)
            return (model, ProbeHead(config, config.Transfer, folder.File(CheckpointFile), folder, model, target, data, options, pretrainedCheckpoint));
        if (config.TransferMode == TransferMode.LinearProbeThenFineTuning)
            ProbeHead(config, config.Probe!, folder.File(ProbeCheckpointFile), folder, model, target, data, options, pretrainedCheckpoint);

        var train = data.Training(config.TargetLevel, config.Transfer.BatchSize, SeedMix.Combine(config.Seed, "order-transfer"));
        RequireClassCount(train, target, "transfer");
        var trainer = new StageTrainer
        {
            StageName = "fine-tuning", Model = model, Train = train, Evaluation = data.Evaluation(config.TargetLevel, EvaluationBatch(config.Transfer)),
            Stage = config.Transfer, Labels = target, Seed = config.Seed, Precision = config.Precision, Folder = folder,
            CheckpointPath = folder.File(CheckpointFile), ConfigJson = configJson, ConfigType = nameof(TrainingConfig),
            ModelConfig = config.Model, FeaturesOnly = false, Options = options,
        };
        return (model, trainer.Run());
    }

    /// <summary>
    /// Trains <paramref name="model"/>'s head as a linear probe on the frozen body's features (computed once; synthetic
    /// note §2) and copies the result into the head; returns the probe stage's metrics. The readouts of one pretrained body
    /// (LP and LP-then-FT) probe the same features, so the last body's are kept (<see cref="ProbeFeatureCache"/>).
    /// </summary>
    private static MetricsTable ProbeHead(TrainingConfig config, StageConfig stage, string checkpointPath, RunFolder folder, Classifier model, LabelMap target, ITrainingData data, TrainingOptions options, string pretrainedCheckpoint)
    {
        var device = TorchRuntime.Device;
        model.to(device);
        var (features, kept) = ProbeFeatureCache.GetOrCompute(pretrainedCheckpoint, data, config.TargetLevel, () => new ProbeFeatureSet(
            Features(model, data.TrainingForFeatures(config.TargetLevel, EvaluationBatch(stage))),
            data.Evaluation(config.TargetLevel, EvaluationBatch(stage)).Select(e => (e.Split, Features(model, e.Source))).ToList()));
        using var trainFeatures = features.Train.Source(target, stage.BatchSize, shuffle: true, SeedMix.Combine(config.Seed, "order-transfer"));
        var evaluationFeatures = features.Evaluation
            .Select(e => (e.Split, (IBatchSource)e.Features.Source(target, EvaluationBatch(stage), shuffle: false, 0))).ToList();
        if (!kept) features.Dispose();
        try
        {
            TorchRuntime.Seed(SeedMix.Combine(config.Seed, "new-head"));
            using var probe = new Classifier(new FeatureVectorBody(model.FeatureCount), target.ClassCount);
            var trainer = new StageTrainer
            {
                StageName = "linear-probe", Model = probe, Train = trainFeatures, Evaluation = evaluationFeatures,
                Stage = stage, Labels = target, Seed = config.Seed, Precision = config.Precision, Folder = folder,
                CheckpointPath = checkpointPath, ConfigJson = JsonFiles.Serialize(config), ConfigType = nameof(TrainingConfig),
                ModelConfig = config.Model, FeaturesOnly = true, Options = options,
            };
            var metrics = trainer.Run();
            using (no_grad())
            {
                model.Head.weight!.copy_(probe.Head.weight!);
                model.Head.bias!.copy_(probe.Head.bias!);
            }
            return metrics;
        }
        finally
        {
            foreach (var (_, source) in evaluationFeatures) ((IDisposable)source).Dispose();
        }
    }

    /// <summary>The body's features over every batch of <paramref name="source"/> (N×F×1×1) with their labels.</summary>
    private static ProbeFeatures Features(Classifier model, IBatchSource source)
    {
        var device = TorchRuntime.Device;
        model.eval();
        var features = new List<Tensor>();
        var labelList = new List<long>();
        using (no_grad())
        {
            foreach (var batch in source.Epoch(0))
            {
                using var owned = batch;
                using var scope = NewDisposeScope();
                features.Add(model.Features(batch.Images.to(device)).cpu().MoveToOuterDisposeScope());
                labelList.AddRange(batch.Labels.to(ScalarType.Int64).cpu().data<long>().ToArray());
            }
        }
        model.train();
        using var all = cat(features, 0);
        foreach (var f in features) f.Dispose();
        return new ProbeFeatures(all.unsqueeze(-1).unsqueeze(-1), labelList.ToArray());
    }

    private static void RequireClassCount(IBatchSource source, LabelMap labels, string what)
    {
        if (source.ClassCount != labels.ClassCount)
            throw new InvalidDataException($"the {what} source yields {source.ClassCount} classes but level '{labels.Level}' has {labels.ClassCount}");
    }

    // Forward-only passes take larger batches than training (at least 256): 1.3–1.6× fewer seconds per image on two CPU cores.
    private static int EvaluationBatch(StageConfig stage) => Math.Min(Math.Max(stage.BatchSize, 256), 512);

    private static double PreviousSeconds(MetricsTable metrics) => metrics.Rows.Count == 0 ? 0 : metrics.Column("seconds").Sum();
}

/// <summary>A frozen body's features of one split (N×F×1×1, on the CPU) and the split's labels.</summary>
internal sealed record ProbeFeatures(Tensor Values, long[] Labels)
{
    /// <summary>An in-memory source over these features (a view: disposing it leaves them intact).</summary>
    public InMemoryBatchSource Source(LabelMap labels, int batchSize, bool shuffle, int seed) =>
        new(Values, Labels, labels.ClassCount, batchSize, shuffle, seed);
}

/// <summary>The probe features of a frozen body on the training split and on each evaluation split.</summary>
internal sealed record ProbeFeatureSet(ProbeFeatures Train, List<(string Split, ProbeFeatures Features)> Evaluation)
{
    public long Values => Train.Values.numel() + Evaluation.Sum(e => e.Features.Values.numel());

    public void Dispose()
    {
        Train.Values.Dispose();
        foreach (var (_, split) in Evaluation) split.Values.Dispose();
    }
}

/// <summary>
/// The probe features of the last pretrained body read out on a dataset instance, keyed by the body's checkpoint (path,
/// length, write time) and the target level: the linear probe and LP-then-FT of one pretraining run then compute them
/// once. Kept per dataset instance (freed with it), one body at a time; more than <see cref="MaxValues"/> floats are not kept.
/// </summary>
internal static class ProbeFeatureCache
{
    public const long MaxValues = 64L << 20;

    private sealed class Entry
    {
        public (string Checkpoint, long Length, DateTime Written, string Level)? Key;
        public ProbeFeatureSet? Features;
        public int Computations;
    }

    private static readonly ConditionalWeakTable<ITrainingData, Entry> Entries = new();

    /// <summary>The kept features when the key matches, else newly computed ones (kept when small enough; Kept false: the caller disposes them).</summary>
    public static (ProbeFeatureSet Features, bool Kept) GetOrCompute(string checkpoint, ITrainingData data, string level, Func<ProbeFeatureSet> compute)
    {
        var file = new FileInfo(checkpoint);
        var wanted = (Path.GetFullPath(checkpoint), file.Exists ? file.Length : -1, file.Exists ? file.LastWriteTimeUtc : default, level);
        var entry = Entries.GetValue(data, _ => new Entry());
        lock (entry)
        {
            if (entry.Features is { } hit && entry.Key == wanted) return (hit, true);
            Clear(entry);
            var computed = compute();
            entry.Computations++;
            if (!file.Exists || computed.Values > MaxValues) return (computed, false);
            (entry.Key, entry.Features) = (wanted, computed);
            return (computed, true);
        }
    }

    /// <summary>
    /// Frees the features kept for <paramref name="data"/> when the returned handle is disposed: kept tensors are released
    /// here, on the thread that trains, never by finalizers.
    /// </summary>
    public static IDisposable Holding(ITrainingData data) => new Release(data);

    /// <summary>Frees the features kept for <paramref name="data"/> now.</summary>
    public static void Forget(ITrainingData data)
    {
        if (!Entries.TryGetValue(data, out var entry)) return;
        lock (entry) Clear(entry);
    }

    private static void Clear(Entry entry)
    {
        entry.Features?.Dispose();
        (entry.Key, entry.Features) = (null, null);
    }

    private sealed class Release(ITrainingData data) : IDisposable
    {
        public void Dispose() => Forget(data);
    }

    /// <summary>How often features were computed for <paramref name="data"/> (for tests).</summary>
    public static int Computations(ITrainingData data) => Entries.TryGetValue(data, out var entry) ? entry.Computations : 0;
}
