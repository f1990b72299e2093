using System.Text.Json.Serialization;
using Granularity.Training.Models;

namespace Granularity.Training;

/// <summary>The network families the engine can build.</summary>
public enum Architecture { SmallCnn, ResNet18, ResNet34, ResNet50, VitB16, VitTiny }

/// <summary>The update rule of a training stage.</summary>
public enum OptimizerKind { Sgd, Adam, AdamW }

/// <summary>How the learning rate moves within a stage (after any warm-up).</summary>
public enum LearningRateSchedule { Constant, Cosine }

/// <summary>How a pretrained body is adapted to the target labels.</summary>
public enum TransferMode
{
    /// <summary>New head, every weight trained (the paper's protocol).</summary>
    FullFineTuning,
    /// <summary>New head trained on frozen features (precomputed once); the body is untouched.</summary>
    LinearProbe,
    /// <summary>
    /// LP-then-FT (Kumar et al. 2022): a linear probe on frozen features (the <c>Probe</c> stage) initialises the new head,
    /// then every weight is fine-tuned (the <c>Transfer</c> stage). A random head sends large gradients into the body in the
    /// first steps and can overwrite pretrained features; a head that already fits the target does not.
    /// </summary>
    LinearProbeThenFineTuning,
}

/// <summary>
/// Arithmetic precision on CUDA. TorchSharp 0.107 has no autocast or gradient scaler, so true fp16/bf16 mixed precision
/// is not available; TF32 (tensor-core matmuls and convolutions with fp32 storage) is the guarded speed-up it does offer.
/// On CPU every value is ignored and the run is plain fp32.
/// </summary>
public enum Precision { Float32, TensorFloat32 }

/// <summary>A network: family, ResNet stem, input size, dropout (ViT only).</summary>
public sealed record ModelConfig(
    Architecture Architecture,
    ResNetStem Stem = ResNetStem.ImageNet,   // ResNet only: ImageNet (7×7/2 + max pool) or SmallInput (3×3/1)
    int ImageSize = 224,                     // px, square; ViT needs a multiple of its patch size
    double Dropout = 0.0,                    // ViT only; the ViT paper uses 0.1 when pretraining on ImageNet-21k
    int SmallCnnWidth = 256)                 // SmallCnn only: channels of the last conv = feature size (synthetic note §2)
{
    public ModelConfig Validated()
    {
        if (ImageSize < 8 || ImageSize > 1024) throw new ArgumentException($"ModelConfig.ImageSize must be in [8, 1024] px, got {ImageSize}");
        if (Dropout < 0 || Dropout >= 1) throw new ArgumentException($"ModelConfig.Dropout must be in [0, 1), got {Dropout}");
        if (SmallCnnWidth < 1) throw new ArgumentException($"ModelConfig.SmallCnnWidth must be ≥ 1, got {SmallCnnWidth}");
        if (Architecture == Architecture.VitB16 && ImageSize % 16 != 0) throw new ArgumentException($"ModelConfig.ImageSize must be a multiple of 16 for ViT-B/16, got {ImageSize}");
        if (Architecture == Architecture.VitTiny && ImageSize % 4 != 0) throw new ArgumentException($"ModelConfig.ImageSize must be a multiple of 4 for the tiny ViT, got {ImageSize}");
        return this;
    }

    /// <summary>A freshly initialised classifier with <paramref name="classCount"/> outputs (seed torch first for a repeatable init).</summary>
    public Classifier Create(int classCount)
    {
        Validated();
        TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> body = Architecture switch
        {
            Architecture.SmallCnn => new SmallCnnBody(SmallCnnWidth),
            Architecture.ResNet18 => ResNetBody.ResNet18(Stem),
            Architecture.ResNet34 => ResNetBody.ResNet34(Stem),
            Architecture.ResNet50 => ResNetBody.ResNet50(Stem),
            Architecture.VitB16 => new VisionTransformerBody(VitShape.B16(ImageSize), Dropout),
            Architecture.VitTiny => new VisionTransformerBody(VitShape.Tiny(ImageSize), Dropout),
            _ => throw new ArgumentException($"unknown architecture {Architecture}"),
        };
        return new Classifier(body, classCount);
    }
}

/// <summary>One optimisation stage (pretraining, baseline or transfer): epochs, batch, optimiser, schedule and regularisers.</summary>
public sealed record StageConfig(
    int Epochs,
    int BatchSize,
    OptimizerKind Optimizer,
    double LearningRate,                                   // peak, after warm-up
    LearningRateSchedule Schedule = LearningRateSchedule.Cosine,
    double WarmupEpochs = 0,                               // linear warm-up from 0, in (fractional) epochs
    double MinLearningRateFraction = 0,                    // cosine floor as a fraction of the peak
    double Momentum = 0.9,                                 // SGD only
    bool Nesterov = false,                                 // SGD only
    double Beta1 = 0.9, double Beta2 = 0.999,              // Adam/AdamW only
    double WeightDecay = 0,                                // SGD/Adam: L2 added to the gradient; AdamW: decoupled
    double LabelSmoothing = 0,                             // ε of the smoothed cross-entropy
    double GradientClipNorm = 0)                           // max global L2 norm of the gradient; 0 = off
{
    public StageConfig Validated(string stage)
    {
        void Check(bool ok, string field, string range, object value) { if (!ok) throw new ArgumentException($"{stage}.{field} must be {range}, got {value}"); }
        Check(Epochs >= 1, nameof(Epochs), "≥ 1", Epochs);
        Check(BatchSize >= 1, nameof(BatchSize), "≥ 1", BatchSize);
        Check(LearningRate > 0 && LearningRate < 100, nameof(LearningRate), "in (0, 100)", LearningRate);
        Check(WarmupEpochs >= 0 && WarmupEpochs < Epochs, nameof(WarmupEpochs), $"in [0, Epochs={Epochs})", WarmupEpochs);
        Check(MinLearningRateFraction >= 0 && MinLearningRateFraction <= 1, nameof(MinLearningRateFraction), "in [0, 1]", MinLearningRateFraction);
        Check(Momentum >= 0 && Momentum < 1, nameof(Momentum), "in [0, 1)", Momentum);
        Check(Beta1 >= 0 && Beta1 < 1 && Beta2 >= 0 && Beta2 < 1, "Beta1/Beta2", "in [0, 1)", $"{Beta1}/{Beta2}");
        Check(WeightDecay >= 0 && WeightDecay < 10, nameof(WeightDecay), "in [0, 10)", WeightDecay);
        Check(LabelSmoothing >= 0 && LabelSmoothing < 1, nameof(LabelSmoothing), "in [0, 1)", LabelSmoothing);
        Check(GradientClipNorm >= 0, nameof(GradientClipNorm), "≥ 0 (0 = off)", GradientClipNorm);
        return this;
    }

    /// <summary>The learning rate at a point of the stage measured in epochs (fractional): linear warm-up, then constant or cosine.</summary>
    public double LearningRateAt(double epochProgress)
    {
        if (WarmupEpochs > 0 && epochProgress < WarmupEpochs) return LearningRate * Math.Max(epochProgress, 1e-3 * WarmupEpochs) / WarmupEpochs;
        if (Schedule == LearningRateSchedule.Constant) return LearningRate;
        var t = Math.Clamp((epochProgress - WarmupEpochs) / (Epochs - WarmupEpochs), 0, 1);
        var floor = LearningRate * MinLearningRateFraction;
        return floor + (LearningRate - floor) * 0.5 * (1 + Math.Cos(Math.PI * t));
    }
}

/// <summary>Which labelled images a run trains and evaluates on (see <see cref="TrainingDatasets"/> for the names).</summary>
public sealed record DatasetConfig(
    string Name,                 // a name registered in TrainingDatasets (e.g. "synthetic-hierarchy")
    int TrainSamples = 0,        // 0 = the dataset's own size
    int EvaluationSamples = 0,   // per evaluation split; 0 = the dataset's own size
    int ImageSize = 0,           // px the loader yields; 0 = the model's ImageSize
    double HardTrainingShare = -1, // synthetic datasets only: share of hard training images in [0, 1]; < 0 = the dataset's default
    // The de-duplication step by name: "imagenet1k-val" drops the pretraining images that duplicate ImageNet-1k validation
    // images (BiT, ViT); "none" or null = off. Left out of the JSON when null, so configs without it keep their keys.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Deduplication = null)
{
    /// <summary>The de-duplication step that removes ImageNet-1k validation duplicates from ImageNet-21k pretraining.</summary>
    public const string ImageNet1kValidationDuplicates = "imagenet1k-val";

    /// <summary>The names <see cref="Deduplication"/> accepts.</summary>
    public static readonly IReadOnlyList<string> DeduplicationNames = ["none", ImageNet1kValidationDuplicates];

    /// <summary>Whether a de-duplication step is on.</summary>
    [JsonIgnore] public bool Deduplicates => Deduplication is not (null or "none");

    public DatasetConfig Validated()
    {
        if (Deduplication is not null && !DeduplicationNames.Contains(Deduplication))
            throw new ArgumentException($"DatasetConfig.Deduplication must be one of {string.Join(", ", DeduplicationNames)} (or null), got '{Deduplication}'");
        if (string.IsNullOrWhiteSpace(Name)) throw new ArgumentException("DatasetConfig.Name must name a registered dataset, got an empty string");
        if (TrainSamples < 0 || EvaluationSamples < 0) throw new ArgumentException($"DatasetConfig sample counts must be ≥ 0 (0 = all), got {TrainSamples}/{EvaluationSamples}");
        if (HardTrainingShare > 1) throw new ArgumentException($"DatasetConfig.HardTrainingShare must be in [0, 1] (or < 0 for the dataset's default), got {HardTrainingShare}");
        return this;
    }
}

/// <summary>
/// Pretraining on the labels of one granularity level (or the baseline: training directly on the target level).
/// Its run folder holds the pretrained checkpoint that transfers reuse.
/// </summary>
public sealed record PretrainingConfig(
    string Protocol,             // the named protocol this came from (documentation; part of the cache key)
    DatasetConfig Dataset,
    ModelConfig Model,
    string Level,                // the PretrainingLevel: a level name of the dataset's hierarchy
    StageConfig Stage,
    int Seed,                    // seeds the init, the data order and every epoch's torch generator
    Precision Precision = Precision.Float32)
{
    public PretrainingConfig Validated()
    {
        Dataset.Validated(); Model.Validated(); Stage.Validated("Pretraining");
        if (string.IsNullOrWhiteSpace(Level)) throw new ArgumentException("PretrainingConfig.Level must name a level of the dataset's hierarchy");
        if (Seed < 0) throw new ArgumentException($"PretrainingConfig.Seed must be ≥ 0, got {Seed}");
        return this;
    }
}

/// <summary>
/// One experiment of the paper: pretrain at <see cref="PretrainingLevel"/>, replace the head, transfer to
/// <see cref="TargetLevel"/> and evaluate there. When the two levels are equal the run is the baseline: the
/// <see cref="Baseline"/> stage trains on the target labels directly and no transfer follows.
/// </summary>
public sealed record TrainingConfig(
    string Protocol,
    DatasetConfig Dataset,
    ModelConfig Model,
    string PretrainingLevel,
    string TargetLevel,
    StageConfig Pretraining,
    StageConfig Transfer,
    StageConfig Baseline,
    TransferMode TransferMode,
    int Seed,
    Precision Precision = Precision.Float32,
    StageConfig? Probe = null)                 // LinearProbeThenFineTuning only: the linear probe that initialises the head
{
    /// <summary>True when this is the baseline (pretraining level = target level).</summary>
    public bool IsBaseline => PretrainingLevel == TargetLevel;

    public TrainingConfig Validated()
    {
        Dataset.Validated(); Model.Validated();
        Pretraining.Validated("Pretraining"); Transfer.Validated("Transfer"); Baseline.Validated("Baseline");
        if (TransferMode == TransferMode.LinearProbeThenFineTuning && Probe is null)
            throw new ArgumentException("TrainingConfig.Probe must be set (the linear-probe stage) when TransferMode is LinearProbeThenFineTuning");
        Probe?.Validated("Probe");
        if (string.IsNullOrWhiteSpace(PretrainingLevel)) throw new ArgumentException("TrainingConfig.PretrainingLevel must name a level of the dataset's hierarchy");
        if (string.IsNullOrWhiteSpace(TargetLevel)) throw new ArgumentException("TrainingConfig.TargetLevel must name a level of the dataset's hierarchy");
        if (Seed < 0) throw new ArgumentException($"TrainingConfig.Seed must be ≥ 0, got {Seed}");
        return this;
    }

    /// <summary>The pretraining this experiment starts from (for the baseline: the whole training on the target level).</summary>
    public PretrainingConfig PretrainingPart() => IsBaseline
        ? new(Protocol, Dataset, Model, TargetLevel, Baseline, Seed, Precision)
        : new(Protocol, Dataset, Model, PretrainingLevel, Pretraining, Seed, Precision);
}
