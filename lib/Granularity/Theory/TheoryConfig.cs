using System.Text.Json.Serialization;

namespace Granularity.Theory;

/// <summary>How the orthonormal feature vectors are placed in R^d.</summary>
public enum FeatureBasis
{
    /// <summary>A seeded choice of distinct standard basis vectors e_i (features are single coordinates).</summary>
    StandardBasis,

    /// <summary>The orthonormal columns of the QR factor of a seeded Gaussian d × (2 + 2k) matrix (features are dense).</summary>
    RandomOrthonormal,
}

/// <summary>Which models a run trains: both side by side, or the coarse model alone (the length-of-training runs).</summary>
public enum TheoryModels
{
    Both,
    CoarseOnly,
}

/// <summary>Which labels a model is trained on: the 2 superclasses or the 2k subclasses.</summary>
public enum LabelGranularity
{
    Coarse,
    Fine,
}

/// <summary>
/// The theory experiment's settings: the hierarchical multi-view data model, the two-layer convolutional ReLU network
/// and its SGD training (paper §Theory; the values are ours, see notebook 01 and docs/benchmarks.md "Theory").
/// Each property checks its own range as it is set (also inside <c>with { … }</c>); relations between properties
/// (d ≥ 2 + 2k, CommonPatches + FinePatches ≤ Patches) are checked by <see cref="Validate"/>, which the factories,
/// the generator, the trainer and every run entry point call, so an inconsistent configuration never runs.
/// </summary>
public sealed record TheoryConfig
{
    private readonly int dimension = 200;
    private readonly int subclassesPerSuperclass = 6;
    private readonly int patches = 8;
    private readonly int commonPatches = 2;
    private readonly int finePatches = 2;
    private readonly double featureStrength = 1.0;
    private readonly double noiseStd = 0.15;
    private readonly double hardShareInTraining;
    private readonly int neuronsPerOutput = 10;
    private readonly double initStd = 0.01;
    private readonly double learningRate = 0.3;
    private readonly int batchSize = 64;
    private readonly int steps = 600;
    private readonly int evalEvery = 50;
    private readonly int testSamplesPerKind = 1000;
    private readonly int trainingSetSize;
    private readonly int coarseNeuronsPerOutput;
    private readonly int finalTestSamplesPerKind = 2000;
    private readonly int transferSamples = 1000;
    private readonly int transferSteps = 300;
    private readonly double transferLearningRate = 0.1;
    private readonly int seed;

    /// <summary>d: the input dimension of every patch (paper: d → ∞; ours 200 Quick, 1000 Paper).</summary>
    public int Dimension { get => dimension; init => dimension = Check(value, nameof(Dimension), 4, 1_000_000); }

    /// <summary>k: subclasses per superclass; there are always 2 superclasses (paper: k up to about d^0.4).</summary>
    public int SubclassesPerSuperclass { get => subclassesPerSuperclass; init => subclassesPerSuperclass = Check(value, nameof(SubclassesPerSuperclass), 2, 10_000); }

    /// <summary>P: patches per input.</summary>
    public int Patches { get => patches; init => patches = Check(value, nameof(Patches), 2, 1024); }

    /// <summary>Patches that carry the superclass's common feature in an easy sample (noise only in a hard one).</summary>
    public int CommonPatches { get => commonPatches; init => commonPatches = Check(value, nameof(CommonPatches), 1, 1024); }

    /// <summary>Patches that carry the subclass's fine feature (in easy and hard samples).</summary>
    public int FinePatches { get => finePatches; init => finePatches = Check(value, nameof(FinePatches), 1, 1024); }

    /// <summary>Norm of the feature added to a carrying patch (feature vectors are unit vectors).</summary>
    public double FeatureStrength { get => featureStrength; init => featureStrength = Check(value, nameof(FeatureStrength), 1e-6, 1e6); }

    /// <summary>σ: standard deviation of the Gaussian noise added to every coordinate of every patch.</summary>
    public double NoiseStd { get => noiseStd; init => noiseStd = Check(value, nameof(NoiseStd), 0, 100); }

    /// <summary>Share of hard samples (common feature missing) in the training stream; the paper trains on easy samples (0).</summary>
    public double HardShareInTraining { get => hardShareInTraining; init => hardShareInTraining = Check(value, nameof(HardShareInTraining), 0, 1); }

    /// <summary>m: neurons (convolution filters) per output; the second layer is fixed to 1.</summary>
    public int NeuronsPerOutput { get => neuronsPerOutput; init => neuronsPerOutput = Check(value, nameof(NeuronsPerOutput), 1, 100_000); }

    /// <summary>σ₀: standard deviation of the Gaussian initialisation of the first layer (small init, paper).</summary>
    public double InitStd { get => initStd; init => initStd = Check(value, nameof(InitStd), 0, 10); }

    /// <summary>η: SGD learning rate on the mean softmax cross-entropy of a batch.</summary>
    public double LearningRate { get => learningRate; init => learningRate = Check(value, nameof(LearningRate), 1e-9, 1e3); }

    /// <summary>Samples per SGD step.</summary>
    public int BatchSize { get => batchSize; init => batchSize = Check(value, nameof(BatchSize), 1, 1_000_000); }

    /// <summary>SGD steps for each of the coarse and the fine model.</summary>
    public int Steps { get => steps; init => steps = Check(value, nameof(Steps), 1, 100_000_000); }

    /// <summary>Steps between two evaluations written to metrics.csv (step 0 and the last step are always evaluated).</summary>
    public int EvalEvery { get => evalEvery; init => evalEvery = Check(value, nameof(EvalEvery), 1, 100_000_000); }

    /// <summary>Size of each of the two fixed test sets: easy samples and hard samples.</summary>
    public int TestSamplesPerKind { get => testSamplesPerKind; init => testSamplesPerKind = Check(value, nameof(TestSamplesPerKind), 10, 10_000_000); }

    /// <summary>0: fresh samples every step (online SGD, the default); N &gt; 0: a fixed training set of N samples, reshuffled every epoch.</summary>
    public int TrainingSetSize { get => trainingSetSize; init => trainingSetSize = Check(value, nameof(TrainingSetSize), 0, 100_000_000); }

    /// <summary>Neurons per output of the coarse model; 0 (default): m, as the fine model. m·k gives it as many filters as the fine model (capacity control).</summary>
    public int CoarseNeuronsPerOutput { get => coarseNeuronsPerOutput; init => coarseNeuronsPerOutput = Check(value, nameof(CoarseNeuronsPerOutput), 0, 1_000_000); }

    /// <summary>Easy and hard samples each in the final test sets (drawn in chunks from their own streams): 10,000 resolve a 0.02 error difference.</summary>
    public int FinalTestSamplesPerKind { get => finalTestSamplesPerKind; init => finalTestSamplesPerKind = Check(value, nameof(FinalTestSamplesPerKind), 10, 100_000_000); }

    /// <summary>Target-task training set of the transfers: this many easy samples with coarse labels (Theorem 2's target data).</summary>
    public int TransferSamples { get => transferSamples; init => transferSamples = Check(value, nameof(TransferSamples), 10, 10_000_000); }

    /// <summary>SGD steps (batch BatchSize) of each transfer: the linear probe and the full fine-tuning get the same budget.</summary>
    public int TransferSteps { get => transferSteps; init => transferSteps = Check(value, nameof(TransferSteps), 1, 10_000_000); }

    /// <summary>SGD learning rate of every transfer parameter (head and, when fine-tuning, the first layer); fixed before the runs, not tuned.</summary>
    public double TransferLearningRate { get => transferLearningRate; init => transferLearningRate = Check(value, nameof(TransferLearningRate), 1e-9, 1e3); }

    /// <summary>Both models, or the coarse model alone.</summary>
    public TheoryModels Models { get; init; } = TheoryModels.Both;

    /// <summary>Placement of the features in R^d.</summary>
    public FeatureBasis Basis { get; init; } = FeatureBasis.StandardBasis;

    /// <summary>Seeds the features, the training stream, the test sets and both initialisations.</summary>
    public int Seed { get => seed; init => seed = Check(value, nameof(Seed), 0, int.MaxValue); }

    /// <summary>The number of superclasses: always 2 in this model.</summary>
    [JsonIgnore] public int Superclasses => 2;

    /// <summary>2k: the number of subclasses (outputs of a fine model).</summary>
    [JsonIgnore] public int Subclasses => Superclasses * SubclassesPerSuperclass;

    /// <summary>2 + 2k: the common features first, then the fine features in subclass order.</summary>
    [JsonIgnore] public int FeatureCount => Superclasses + Subclasses;

    /// <summary>Outputs of a model trained at <paramref name="granularity"/>.</summary>
    public int OutputsFor(LabelGranularity granularity) => granularity == LabelGranularity.Coarse ? Superclasses : Subclasses;

    /// <summary>Neurons per output of a model trained at <paramref name="granularity"/>.</summary>
    public int NeuronsFor(LabelGranularity granularity) =>
        granularity == LabelGranularity.Coarse && CoarseNeuronsPerOutput > 0 ? CoarseNeuronsPerOutput : NeuronsPerOutput;

    /// <summary>Quick mode: d = 200, k = 6, 600 steps; a run of both models takes seconds on one CPU core.</summary>
    public static TheoryConfig Quick() => new TheoryConfig().Validate();

    /// <summary>The asymptotic regime: d = 1000, k = 16 ≈ d^0.4, 1,000 steps (evaluated every 100: at d = 1000 an evaluation costs about as much as 40 steps).</summary>
    public static TheoryConfig Full() => new TheoryConfig { Dimension = 1000, SubclassesPerSuperclass = 16, Steps = 1000, EvalEvery = 100, FinalTestSamplesPerKind = 10_000, TransferSamples = 2000 }.Validate();

    /// <summary>Checks the relations between fields; returns this configuration so calls chain.</summary>
    public TheoryConfig Validate()
    {
        if (Dimension < FeatureCount)
            throw new ArgumentException($"{nameof(Dimension)} must be at least the number of orthonormal features 2 + 2·{nameof(SubclassesPerSuperclass)} = {FeatureCount}, got {Dimension}", nameof(Dimension));
        if (CommonPatches + FinePatches > Patches)
            throw new ArgumentException($"{nameof(CommonPatches)} + {nameof(FinePatches)} must be at most {nameof(Patches)} = {Patches}, got {CommonPatches} + {FinePatches}", nameof(Patches));
        if (!Enum.IsDefined(Models))
            throw new ArgumentException($"{nameof(Models)} must be {string.Join(" or ", Enum.GetNames<TheoryModels>())}, got {(int)Models}", nameof(Models));
        if (!Enum.IsDefined(Basis))
            throw new ArgumentException($"{nameof(Basis)} must be {string.Join(" or ", Enum.GetNames<FeatureBasis>())}, got {(int)Basis}", nameof(Basis));
        return this;
    }

    /// <summary>A short label such as "d=200 k=6 σ=0.15 hard=0 seed=0" for tables and legends.</summary>
    [JsonIgnore]
    public string Label =>
        FormattableString.Invariant($"d={Dimension} k={SubclassesPerSuperclass} σ={NoiseStd:0.###} hard={HardShareInTraining:0.###} seed={Seed}");

    private static int Check(int value, string name, int min, int max) =>
        value >= min && value <= max ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [{min}, {max}], got {value}");

    private static double Check(double value, string name, double min, double max) =>
        !double.IsNaN(value) && value >= min && value <= max ? value
            : throw new ArgumentOutOfRangeException(name, value, FormattableString.Invariant($"{name} must be in [{min}, {max}], got {value}"));
}
