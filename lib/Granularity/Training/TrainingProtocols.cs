using Granularity.Training.Models;

namespace Granularity.Training;

/// <summary>
/// The named protocols: the paper's two (hyperparameters the paper does not publish are standard recipes, marked [ours])
/// and the Quick CPU versions that follow docs/synthetic-hierarchy.md, "Training recipe".
/// </summary>
public static class TrainingProtocols
{
    /// <summary>Names accepted by <see cref="Named"/> and by the command line's <c>--protocol</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["quick", "quick-linear-probe", "inat2021-resnet34", "imagenet21k-vitb16"];

    /// <summary>The protocol called <paramref name="name"/> for one pretraining level, target level and seed.</summary>
    public static TrainingConfig Named(string name, string pretrainingLevel, string targetLevel, int seed) => name switch
    {
        "quick" => Quick(pretrainingLevel, targetLevel, seed),
        "quick-linear-probe" => QuickLinearProbe(pretrainingLevel, targetLevel, seed),
        "inat2021-resnet34" => Inat2021ResNet34(pretrainingLevel, targetLevel, seed),
        "imagenet21k-vitb16" => ImageNet21kVitB16(pretrainingLevel, targetLevel, seed),
        _ => throw new ArgumentException($"unknown protocol '{name}'; known: {string.Join(", ", Names)}"),
    };

    /// <summary>The default Quick dataset: the synthetic hierarchy, 4,000 training and 2,000 test images per split at 32 px.</summary>
    public static DatasetConfig QuickDataset => new(SyntheticHierarchyData.DatasetName, TrainSamples: 4000, EvaluationSamples: 2000, ImageSize: 32);

    /// <summary>
    /// Quick, full fine-tuning (synthetic note §2): BN small CNN with global max pool, Adam, batch 64, no augmentation and
    /// no weight decay; pretrain 6 epochs at lr 2e-3, new head, fine-tune 2 epochs at 1e-3; the baseline trains 8 epochs at 2e-3.
    /// </summary>
    public static TrainingConfig Quick(string pretrainingLevel = "leaf", string targetLevel = "coarse", int seed = 0) => new(
        Protocol: "quick",
        Dataset: QuickDataset,
        Model: new ModelConfig(Architecture.SmallCnn, ImageSize: 32),
        PretrainingLevel: pretrainingLevel,
        TargetLevel: targetLevel,
        Pretraining: new StageConfig(Epochs: 6, BatchSize: 64, OptimizerKind.Adam, LearningRate: 2e-3, LearningRateSchedule.Constant),
        Transfer: new StageConfig(Epochs: 2, BatchSize: 64, OptimizerKind.Adam, LearningRate: 1e-3, LearningRateSchedule.Constant),
        Baseline: new StageConfig(Epochs: 8, BatchSize: 64, OptimizerKind.Adam, LearningRate: 2e-3, LearningRateSchedule.Constant),
        TransferMode: TransferMode.FullFineTuning,
        Seed: seed);

    /// <summary>Quick with a linear probe (synthetic note §2): Adam lr 1e-2, 30 epochs over the frozen, precomputed 256-d features.</summary>
    public static TrainingConfig QuickLinearProbe(string pretrainingLevel = "leaf", string targetLevel = "coarse", int seed = 0) =>
        Quick(pretrainingLevel, targetLevel, seed) with
        {
            Protocol = "quick-linear-probe",
            Transfer = new StageConfig(Epochs: 30, BatchSize: 64, OptimizerKind.Adam, LearningRate: 1e-2, LearningRateSchedule.Constant),
            TransferMode = TransferMode.LinearProbe,
        };

    /// <summary>
    /// iNaturalist 2021 (paper §5, [likely]): ResNet-34 at 224 px on train_mini for pretraining and fine-tuning, target the
    /// 11 supercategories. Hyperparameters [ours], the standard ResNet ImageNet recipe (Goyal et al. 2017; torchvision):
    /// SGD momentum 0.9, batch 256, lr 0.1, weight decay 1e-4, 5 warm-up epochs, cosine to 0; pretrain 90 epochs; fine-tune
    /// 30 epochs at lr 0.01 (one tenth, the usual fine-tuning rate); the baseline trains 120 epochs so every run sees the
    /// same number of epochs.
    /// </summary>
    public static TrainingConfig Inat2021ResNet34(string pretrainingLevel = "species", string targetLevel = "supercategory", int seed = 0) => new(
        Protocol: "inat2021-resnet34",
        Dataset: new DatasetConfig("inat2021-train-mini", ImageSize: 224),
        Model: new ModelConfig(Architecture.ResNet34, ResNetStem.ImageNet, ImageSize: 224),
        PretrainingLevel: pretrainingLevel,
        TargetLevel: targetLevel,
        Pretraining: new StageConfig(90, 256, OptimizerKind.Sgd, 0.1, LearningRateSchedule.Cosine, WarmupEpochs: 5, Momentum: 0.9, WeightDecay: 1e-4),
        Transfer: new StageConfig(30, 256, OptimizerKind.Sgd, 0.01, LearningRateSchedule.Cosine, WarmupEpochs: 0, Momentum: 0.9, WeightDecay: 1e-4),
        Baseline: new StageConfig(120, 256, OptimizerKind.Sgd, 0.1, LearningRateSchedule.Cosine, WarmupEpochs: 5, Momentum: 0.9, WeightDecay: 1e-4),
        TransferMode: TransferMode.FullFineTuning,
        Seed: seed,
        Precision: Precision.TensorFloat32);

    /// <summary>
    /// ImageNet-21k → ImageNet-1k with ViT-B/16 (paper §5, [likely]). The ViT paper's recipe stands in [ours]: pretraining
    /// 90 epochs, Adam(W) β=(0.9, 0.999), batch 4096, lr 1e-3, weight decay 0.03, dropout 0.1, 10k warm-up steps (≈ 3 epochs
    /// of 14 M images); fine-tuning with SGD momentum 0.9, batch 512, lr 0.003, no weight decay, gradient clipping at 1,
    /// 20k steps (≈ 8 epochs of 1.28 M images), 500 warm-up steps (≈ 0.2 epochs). Deviations [ours]: cosine instead of the
    /// ViT paper's linear decay when pretraining; fine-tuning at 224 px rather than 384 (no position-embedding
    /// interpolation); the baseline is the ViT paper's ImageNet-1k-only recipe (300 epochs, lr 3e-3, weight decay 0.3).
    /// ImageNet-21k images that duplicate ImageNet-1k validation images are left out of pretraining, as BiT and ViT do
    /// (<see cref="DatasetConfig.Deduplication"/>; `granularity data dedup` makes the list).
    /// </summary>
    public static TrainingConfig ImageNet21kVitB16(string pretrainingLevel = "imagenet21k-leaf", string targetLevel = "imagenet1k", int seed = 0) => new(
        Protocol: "imagenet21k-vitb16",
        Dataset: new DatasetConfig("imagenet21k-to-1k", ImageSize: 224, Deduplication: DatasetConfig.ImageNet1kValidationDuplicates),
        Model: new ModelConfig(Architecture.VitB16, ImageSize: 224, Dropout: 0.1),
        PretrainingLevel: pretrainingLevel,
        TargetLevel: targetLevel,
        Pretraining: new StageConfig(90, 4096, OptimizerKind.AdamW, 1e-3, LearningRateSchedule.Cosine, WarmupEpochs: 3, WeightDecay: 0.03),
        Transfer: new StageConfig(8, 512, OptimizerKind.Sgd, 0.003, LearningRateSchedule.Cosine, WarmupEpochs: 0.2, Momentum: 0.9, GradientClipNorm: 1.0),
        Baseline: new StageConfig(300, 4096, OptimizerKind.AdamW, 3e-3, LearningRateSchedule.Cosine, WarmupEpochs: 3, WeightDecay: 0.3),
        TransferMode: TransferMode.FullFineTuning,
        Seed: seed,
        Precision: Precision.TensorFloat32);
}
