using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Theory;

/// <summary>What a patch of a sample carries.</summary>
public enum PatchRole
{
    /// <summary>The superclass's common feature (plus noise); only easy samples have such patches.</summary>
    Common = 0,

    /// <summary>The subclass's fine feature (plus noise).</summary>
    Fine = 1,

    /// <summary>Gaussian noise only (including the common-feature patches of a hard sample).</summary>
    Noise = 2,
}

/// <summary>
/// A batch of the hierarchical multi-view data: inputs [B, P, d], labels at both granularities, and for every sample
/// whether it is hard and what each of its patches carries. The batch owns its tensors.
/// </summary>
public sealed class MultiViewBatch : IDisposable
{
    internal MultiViewBatch(Tensor inputs, Tensor fineLabels, Tensor coarseLabels, Tensor isHard, Tensor patchRoles)
    {
        Inputs = inputs;
        FineLabels = fineLabels;
        CoarseLabels = coarseLabels;
        IsHard = isHard;
        PatchRoles = patchRoles;
    }

    /// <summary>float32 [B, P, d].</summary>
    public Tensor Inputs { get; }

    /// <summary>int64 [B]: subclass index y·k + c.</summary>
    public Tensor FineLabels { get; }

    /// <summary>int64 [B]: superclass y = subclass / k.</summary>
    public Tensor CoarseLabels { get; }

    /// <summary>bool [B]: true for a hard sample (no common feature).</summary>
    public Tensor IsHard { get; }

    /// <summary>int64 [B, P]: the <see cref="PatchRole"/> of every patch.</summary>
    public Tensor PatchRoles { get; }

    public int Count => (int)Inputs.shape[0];

    /// <summary>The labels a model trained at <paramref name="granularity"/> learns.</summary>
    public Tensor LabelsAt(LabelGranularity granularity) => granularity == LabelGranularity.Coarse ? CoarseLabels : FineLabels;

    /// <summary>The samples at <paramref name="indices"/> as a new batch.</summary>
    public MultiViewBatch Select(Tensor indices) => new(
        Inputs.index_select(0, indices), FineLabels.index_select(0, indices), CoarseLabels.index_select(0, indices),
        IsHard.index_select(0, indices), PatchRoles.index_select(0, indices));

    /// <summary>Moves the batch's tensors out of the current dispose scope (for batches that outlive a step).</summary>
    public MultiViewBatch MoveToOuterDisposeScope()
    {
        foreach (var tensor in new[] { Inputs, FineLabels, CoarseLabels, IsHard, PatchRoles }) tensor.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Detaches the batch's tensors from every dispose scope: the caller disposes the batch itself.</summary>
    public MultiViewBatch DetachFromDisposeScope()
    {
        foreach (var tensor in new[] { Inputs, FineLabels, CoarseLabels, IsHard, PatchRoles }) tensor.DetachFromDisposeScope();
        return this;
    }

    public void Dispose()
    {
        Inputs.Dispose();
        FineLabels.Dispose();
        CoarseLabels.Dispose();
        IsHard.Dispose();
        PatchRoles.Dispose();
    }
}

/// <summary>
/// The hierarchical multi-view data model: 2 superclasses × k subclasses, one common feature per superclass and one fine
/// feature per subclass, all orthonormal in R^d. A sample of subclass (y, c) has P patches: CommonPatches carry v_y,
/// FinePatches carry v_{y,c}, the rest are noise; a hard sample's common patches are noise too. Every patch gets
/// N(0, σ²I) noise, σ = <see cref="TheoryConfig.Sigma"/> (<see cref="GaussianNoise"/>). Sampling is one vectorised computation per batch and a pure function of
/// the generator's state.
/// </summary>
public sealed class HierarchicalMultiViewData : IDisposable
{
    /// <summary>Builds the features from <c>config.Seed</c>; the same seed gives the same features.</summary>
    public HierarchicalMultiViewData(TheoryConfig config)
    {
        Config = config.Validate();
        using var generator = NewGenerator(config.Seed, SeedStream.Features);
        // The data object owns these for its lifetime, whatever dispose scope it was built in.
        Features = MakeFeatures(config, generator).DetachFromDisposeScope();
        var baseRoles = Enumerable.Repeat((long)PatchRole.Common, config.CommonPatches)
            .Concat(Enumerable.Repeat((long)PatchRole.Fine, config.FinePatches))
            .Concat(Enumerable.Repeat((long)PatchRole.Noise, config.Patches - config.CommonPatches - config.FinePatches))
            .ToArray();
        this.baseRoles = baseRoles.Select(r => (PatchRole)r).ToArray();
        var values = Features.data<float>().ToArray();
        int d = config.Dimension;
        featureEntries = Enumerable.Range(0, config.FeatureCount)
            .Select(row => Enumerable.Range(0, d).Where(i => values[row * d + i] != 0).Select(i => (i, values[row * d + i])).ToArray())
            .ToArray();
    }

    public TheoryConfig Config { get; }

    /// <summary>float32 [2 + 2k, d], orthonormal rows: v_0, v_1 (common), then v_{y,c} at row 2 + y·k + c (fine).</summary>
    public Tensor Features { get; }

    private readonly PatchRole[] baseRoles;
    private readonly (int Index, float Value)[][] featureEntries;   // each feature's non-zero coordinates (one for the standard basis)

    /// <summary>The superclass of subclass <paramref name="fineLabel"/>.</summary>
    public int CoarseLabelOf(int fineLabel) => fineLabel / Config.SubclassesPerSuperclass;

    /// <summary>Row of <see cref="Features"/> holding superclass <paramref name="superclass"/>'s common feature.</summary>
    public static int CommonFeatureRow(int superclass) => superclass;

    /// <summary>Row of <see cref="Features"/> holding subclass <paramref name="subclass"/>'s fine feature.</summary>
    public static int FineFeatureRow(int subclass) => 2 + subclass;

    /// <summary>Names of the feature rows: "v0", "v1", then "v0,0" … "v1,k-1".</summary>
    public IReadOnlyList<string> FeatureNames =>
        Enumerable.Range(0, Config.FeatureCount).Select(row => row < 2 ? $"v{row}"
            : $"v{(row - 2) / Config.SubclassesPerSuperclass},{(row - 2) % Config.SubclassesPerSuperclass}").ToList();

    /// <summary>
    /// Draws <paramref name="count"/> samples with uniformly random subclasses; each is hard with probability
    /// <paramref name="hardShare"/>. The positions of the common and fine patches are shuffled per sample.
    /// </summary>
    public MultiViewBatch Sample(int count, double hardShare, Generator generator)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "a batch needs at least one sample");
        if (hardShare is < 0 or > 1 || double.IsNaN(hardShare)) throw new ArgumentOutOfRangeException(nameof(hardShare), hardShare, "the share of hard samples must be in [0, 1]");
        var config = Config;
        int patches = config.Patches, d = config.Dimension;
        using var scope = NewDisposeScope();
        // One row of uniforms per sample: its subclass, whether it is hard, and the sort keys that shuffle its patches.
        var uniforms = rand(new long[] { count, 2 + patches }, dtype: ScalarType.Float64, generator: generator).data<double>().ToArray();
        var fine = new long[count];
        var coarse = new long[count];
        var isHard = new bool[count];
        var roles = new long[count * patches];
        var keys = new double[patches];
        var order = new int[patches];
        // The batch is written in place, or in a managed array where a tensor's memory cannot be (see TensorMemory).
        var managed = TensorMemory.Available ? null : new float[count * patches * d];
        var inputs = managed is null ? empty(new long[] { count, patches, d }) : null;
        var noise = managed ?? InputsSpan(inputs!);
        GaussianNoise.Fill(noise, (float)config.Sigma, GaussianNoise.SeedFrom(generator));
        var strength = (float)config.FeatureStrength;
        for (int b = 0; b < count; b++)
        {
            var row = uniforms.AsSpan(b * (2 + patches), 2 + patches);
            fine[b] = Math.Min((long)(row[0] * config.Subclasses), config.Subclasses - 1);
            coarse[b] = fine[b] / config.SubclassesPerSuperclass;
            isHard[b] = row[1] < hardShare;
            row.Slice(2).CopyTo(keys);
            for (int p = 0; p < patches; p++) order[p] = p;
            Array.Sort(keys, order);   // a uniformly random permutation of the base roles
            for (int p = 0; p < patches; p++)
            {
                var role = baseRoles[order[p]];
                if (role == PatchRole.Common && isHard[b]) role = PatchRole.Noise;
                roles[b * patches + p] = (long)role;
                if (role == PatchRole.Noise) continue;
                var feature = role == PatchRole.Common ? CommonFeatureRow((int)coarse[b]) : FineFeatureRow((int)fine[b]);
                var patch = noise.Slice((b * patches + p) * d, d);
                foreach (var (index, value) in featureEntries[feature]) patch[index] += strength * value;
            }
        }
        GC.KeepAlive(inputs);
        inputs ??= tensor(managed!).view(count, patches, d);
        var batch = new MultiViewBatch(inputs, tensor(fine), tensor(coarse), tensor(isHard), tensor(roles).view(count, patches));
        return batch.MoveToOuterDisposeScope();
    }

    private static unsafe Span<float> InputsSpan(Tensor inputs) => new((float*)TensorMemory.Address(inputs), checked((int)inputs.numel()));

    /// <summary>A fixed test set of easy (<paramref name="hard"/> = false) or hard samples, drawn from its own seed stream.</summary>
    public MultiViewBatch TestSet(bool hard, int? count = null)
    {
        using var generator = NewGenerator(Config.Seed, hard ? SeedStream.HardTest : SeedStream.EasyTest);
        return Sample(count ?? Config.TestSamplesPerKind, hard ? 1.0 : 0.0, generator);
    }

    /// <summary>Projections ⟨x_p, v_f⟩ of every patch of sample <paramref name="index"/> on every feature: [P, 2 + 2k].</summary>
    public float[,] PatchProjections(MultiViewBatch batch, int index)
    {
        using var scope = NewDisposeScope();
        var projections = batch.Inputs[index].matmul(Features.t()).cpu();
        var values = projections.data<float>().ToArray();
        var result = new float[Config.Patches, Config.FeatureCount];
        for (int p = 0; p < Config.Patches; p++)
            for (int f = 0; f < Config.FeatureCount; f++) result[p, f] = values[p * Config.FeatureCount + f];
        return result;
    }

    public void Dispose()
    {
        Features.Dispose();
    }

    /// <summary>The independent random streams of one seed.</summary>
    internal enum SeedStream { Features = 1, Training = 2, EasyTest = 3, HardTest = 4, HeadTraining = 5, CoarseInit = 6, FineInit = 7, Transfer = 8, FinalEasyTest = 9, FinalHardTest = 10 }

    /// <summary>A CPU generator for one stream of one seed (streams never share state, so adding a stream changes no other).</summary>
    internal static Generator NewGenerator(int seed, SeedStream stream) =>
        new((ulong)seed * 1_000_003UL + (ulong)stream * 7_919UL + 17UL, CPU);

    private static Tensor MakeFeatures(TheoryConfig config, Generator generator)
    {
        int count = config.FeatureCount, d = config.Dimension;
        using var scope = NewDisposeScope();
        Tensor features;
        if (config.Basis == FeatureBasis.StandardBasis)
        {
            var coordinates = randperm(d, generator: generator).narrow(0, 0, count);
            features = zeros(count, d).scatter_(1, coordinates.unsqueeze(1), ones(count, 1));
        }
        else
        {
            var gaussian = randn(new long[] { d, count }, dtype: ScalarType.Float64, generator: generator);
            var (q, _) = linalg.qr(gaussian, linalg.QRMode.Reduced);
            features = q.t().contiguous().to(ScalarType.Float32);
        }
        return features.MoveToOuterDisposeScope();
    }
}
