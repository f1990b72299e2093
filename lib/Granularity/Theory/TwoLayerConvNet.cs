using System.Runtime.Intrinsics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Granularity.Theory;

/// <summary>
/// The paper's two-layer convolutional ReLU network: F_j(X) = Σ_r Σ_p ReLU(⟨w_{j,r}, x_p⟩) for outputs j = 1…J with m
/// neurons each; the second layer is fixed to 1, so the only parameters are the first-layer weights W [J, m, d].
/// A forward pass over a batch [B, P, d] is one matrix product, one ReLU and one sum.
/// </summary>
public sealed class TwoLayerConvNet : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weights;

    /// <summary>Initialises W ~ N(0, initStd²) from <paramref name="generator"/> (on the CPU), then moves it to <paramref name="device"/>.</summary>
    public TwoLayerConvNet(int outputs, int neuronsPerOutput, int dimension, double initStd, Generator generator, Device? device = null)
        : this(outputs, neuronsPerOutput, dimension, initStd, generator, device, storage: null)
    {
    }

    /// <summary>
    /// As above, with the weights kept in <paramref name="storage"/> (a contiguous CPU float32 [outputs·m, d] view, for
    /// instance rows of a buffer another network shares, which lets <see cref="SgdStepPair"/> train both in one pair of
    /// products). The initial values are the same as without it.
    /// </summary>
    internal TwoLayerConvNet(int outputs, int neuronsPerOutput, int dimension, double initStd, Generator generator, Device? device, Tensor? storage)
        : base(nameof(TwoLayerConvNet))
    {
        if (outputs < 1) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "the network needs at least one output");
        if (neuronsPerOutput < 1) throw new ArgumentOutOfRangeException(nameof(neuronsPerOutput), neuronsPerOutput, "each output needs at least one neuron");
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "the patch dimension must be positive");
        Outputs = outputs;
        NeuronsPerOutput = neuronsPerOutput;
        Dimension = dimension;
        using (no_grad())
        {
            var initial = randn(new long[] { outputs, neuronsPerOutput, dimension }, generator: generator).mul_(initStd);
            if (storage is not null)
            {
                if (storage.device_type != DeviceType.CPU || storage.dtype != ScalarType.Float32 || !storage.is_contiguous()
                    || storage.dim() != 2 || storage.shape[0] != outputs * neuronsPerOutput || storage.shape[1] != dimension)
                    throw new ArgumentException($"weight storage must be a contiguous CPU float32 [{outputs * neuronsPerOutput}, {dimension}], got [{string.Join(", ", storage.shape)}] {storage.dtype} on {storage.device_type}", nameof(storage));
                storage.copy_(initial.view(outputs * neuronsPerOutput, dimension));
                initial.Dispose();
                initial = storage.view(outputs, neuronsPerOutput, dimension);
            }
            weights = new Parameter(device is null || storage is not null ? initial : initial.to(device));
        }
        RegisterComponents();
    }

    /// <summary>A network with the outputs <paramref name="granularity"/> needs and the sizes and init of <paramref name="config"/>.</summary>
    public static TwoLayerConvNet For(TheoryConfig config, LabelGranularity granularity, Generator generator, Device? device = null) =>
        new(config.OutputsFor(granularity), config.NeuronsFor(granularity), config.Dimension, config.InitStd, generator, device);

    /// <summary>As <see cref="For(TheoryConfig, LabelGranularity, Generator, Device?)"/>, on the CPU, with its weights kept in <paramref name="storage"/>.</summary>
    internal static TwoLayerConvNet For(TheoryConfig config, LabelGranularity granularity, Generator generator, Tensor storage) =>
        new(config.OutputsFor(granularity), config.NeuronsFor(granularity), config.Dimension, config.InitStd, generator, null, storage);

    public int Outputs { get; }
    public int NeuronsPerOutput { get; }
    public int Dimension { get; }

    /// <summary>W [J, m, d]: row (j, r) is the filter w_{j,r}.</summary>
    public Parameter Weights => weights;

    /// <summary>Logits F(X) [B, J] for inputs [B, P, d].</summary>
    public override Tensor forward(Tensor inputs) => NeuronActivations(inputs).sum(2);

    /// <summary>
    /// The pooled activation of every neuron, h_{j,r}(X) = Σ_p ReLU(⟨w_{j,r}, x_p⟩): [B, J, m]. Flattened to [B, J·m]
    /// these are the frozen features a re-fitted head reads.
    /// </summary>
    public Tensor NeuronActivations(Tensor inputs)
    {
        if (inputs.dim() != 3 || inputs.shape[2] != Dimension)
            throw new ArgumentException($"inputs must be [batch, patches, {Dimension}], got [{string.Join(", ", inputs.shape)}]", nameof(inputs));
        long batch = inputs.shape[0], patches = inputs.shape[1], filters = Outputs * NeuronsPerOutput;
        var preActivations = inputs.reshape(batch * patches, Dimension).matmul(weights.view(filters, Dimension).t());
        return preActivations.relu().view(batch, patches, Outputs, NeuronsPerOutput).sum(1);
    }

    /// <summary>
    /// One SGD step on the mean softmax cross-entropy of <paramref name="labels"/>, with the gradient in closed form:
    /// ∂L/∂w_{j,r} = Σ_b Σ_p 1[⟨w_{j,r}, x_{b,p}⟩ &gt; 0] · (softmax(F(X_b))_j − 1[y_b = j]) / B · x_{b,p}.
    /// Two matrix products (<see cref="Sgemm"/>) and a few element-wise passes, no autograd graph and no optimiser state;
    /// the update is written into W in place. <paramref name="flatInputs"/> is the batch as [B·P, d]. Returns the batch loss.
    /// </summary>
    public double SgdStep(Tensor flatInputs, Tensor labels, int batch, double learningRate)
    {
        long rows = flatInputs.shape[0], filters = Outputs * NeuronsPerOutput;
        if (flatInputs.dim() != 2 || flatInputs.shape[1] != Dimension || rows % batch != 0)
            throw new ArgumentException($"inputs must be [batch·patches, {Dimension}], got [{string.Join(", ", flatInputs.shape)}] for batch {batch}", nameof(flatInputs));
        long patches = rows / batch;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var filterMatrix = weights.view(filters, Dimension);
        var preActivations = empty(new long[] { rows, filters }, dtype: flatInputs.dtype, device: flatInputs.device);
        Sgemm.Multiply(flatInputs, false, filterMatrix, true, preActivations, 1f, 0f);
        if (preActivations.device_type == DeviceType.CPU && preActivations.dtype == ScalarType.Float32 && TensorMemory.Available)
        {
            var cpuLoss = ResidualInPlace(preActivations, (int)filters, 0, labels, batch, (int)patches);
            Sgemm.Multiply(preActivations, true, flatInputs, false, filterMatrix, (float)-learningRate, 1f);
            return cpuLoss;
        }
        var logits = preActivations.relu().view(batch, patches, Outputs, NeuronsPerOutput).sum(new long[] { 1, 3 });
        var logProbabilities = logits.log_softmax(1);
        var loss = logProbabilities.gather(1, labels.unsqueeze(1)).mean().neg().item<float>();
        var logitGradient = logProbabilities.exp_().scatter_add_(1, labels.unsqueeze(1), full(new long[] { batch, 1 }, -1f, device: flatInputs.device)).div_(batch);
        var preActivationGradient = preActivations.gt_(0).view(batch, patches, Outputs, NeuronsPerOutput).mul_(logitGradient.view(batch, 1, Outputs, 1));
        Sgemm.Multiply(preActivationGradient.view(rows, filters), true, flatInputs, false, filterMatrix, (float)-learningRate, 1f);
        return loss;
    }

    /// <summary>
    /// One SGD step of two networks on the same inputs as one pair of products: <paramref name="first"/>'s and
    /// <paramref name="second"/>'s weights must be consecutive rows of <paramref name="sharedWeights"/> [F₁ + F₂, d]
    /// (built with the storage constructor), which the step checks. The same update as two <see cref="SgdStep"/> calls;
    /// the coarse model's 20-filter products are too narrow for the BLAS kernels to run at full speed on their own.
    /// </summary>
    internal static (double First, double Second) SgdStepPair(TwoLayerConvNet first, TwoLayerConvNet second, Tensor sharedWeights,
        Tensor flatInputs, Tensor firstLabels, Tensor secondLabels, int batch, double learningRate)
    {
        int firstFilters = first.Outputs * first.NeuronsPerOutput, secondFilters = second.Outputs * second.NeuronsPerOutput, filters = firstFilters + secondFilters;
        long rows = flatInputs.shape[0];
        if (flatInputs.dim() != 2 || flatInputs.shape[1] != first.Dimension || second.Dimension != first.Dimension || rows % batch != 0)
            throw new ArgumentException($"inputs must be [batch·patches, {first.Dimension}], got [{string.Join(", ", flatInputs.shape)}] for batch {batch}", nameof(flatInputs));
        var rowBytes = (long)first.Dimension * sizeof(float);
        if (sharedWeights.shape[0] != filters || TensorMemory.Address(first.weights) != TensorMemory.Address(sharedWeights)
            || TensorMemory.Address(second.weights) != TensorMemory.Address(sharedWeights) + (nint)(firstFilters * rowBytes))
            throw new ArgumentException("the two networks' weights are not consecutive rows of the shared buffer", nameof(sharedWeights));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var preActivations = empty(new long[] { rows, filters }, dtype: flatInputs.dtype, device: flatInputs.device);
        Sgemm.Multiply(flatInputs, false, sharedWeights, true, preActivations, 1f, 0f);
        var patches = (int)(rows / batch);
        var firstLoss = first.ResidualInPlace(preActivations, filters, 0, firstLabels, batch, patches);
        var secondLoss = second.ResidualInPlace(preActivations, filters, firstFilters, secondLabels, batch, patches);
        Sgemm.Multiply(preActivations, true, flatInputs, false, sharedWeights, (float)-learningRate, 1f);
        return (firstLoss, secondLoss);
    }

    /// <summary>
    /// The CPU middle of <see cref="SgdStep"/> in two vectorised passes over this network's columns
    /// [<paramref name="columnOffset"/>, + J·m) of the pre-activations [B·P, <paramref name="rowLength"/>], no tensor
    /// calls: the pooled logits F_j(X_b) = Σ_p Σ_r ReLU(z), the softmax cross-entropy, and then, in place,
    /// z ← 1[z &gt; 0] · (softmax_j − 1[y_b = j]) / B, which is ∂L/∂z. Returns the mean loss.
    /// </summary>
    private unsafe double ResidualInPlace(Tensor preActivations, int rowLength, int columnOffset, Tensor labels, int batch, int patches)
    {
        int filters = Outputs * NeuronsPerOutput, outputs = Outputs, neurons = NeuronsPerOutput;
        var targets = labels.data<long>().ToArray();
        var z = new Span<float>((float*)TensorMemory.Address(preActivations), batch * patches * rowLength);
        var pooled = new float[filters];
        var perFilter = new float[filters];
        var logits = new double[outputs];
        double loss = 0;
        for (int b = 0; b < batch; b++)
        {
            Array.Clear(pooled);
            for (int p = 0; p < patches; p++) AddRelu(z.Slice((b * patches + p) * rowLength + columnOffset, filters), pooled);
            for (int j = 0; j < outputs; j++)
            {
                double sum = 0;
                for (int r = 0; r < neurons; r++) sum += pooled[j * neurons + r];
                logits[j] = sum;
            }
            double max = logits.Max(), normaliser = 0;
            for (int j = 0; j < outputs; j++) normaliser += Math.Exp(logits[j] - max);
            var target = (int)targets[b];
            loss += max + Math.Log(normaliser) - logits[target];
            for (int j = 0; j < outputs; j++)
            {
                var residual = (float)((Math.Exp(logits[j] - max) / normaliser - (j == target ? 1 : 0)) / batch);
                perFilter.AsSpan(j * neurons, neurons).Fill(residual);
            }
            for (int p = 0; p < patches; p++) MaskedResidual(z.Slice((b * patches + p) * rowLength + columnOffset, filters), perFilter);
        }
        GC.KeepAlive(preActivations);
        return loss / batch;
    }

    private static void AddRelu(ReadOnlySpan<float> row, Span<float> pooled)
    {
        int i = 0;
        for (; i + Vector512<float>.Count <= row.Length; i += Vector512<float>.Count)
            (Vector512.Create(pooled.Slice(i, Vector512<float>.Count)) + Vector512.Max(Vector512.Create(row.Slice(i, Vector512<float>.Count)), Vector512<float>.Zero))
                .CopyTo(pooled.Slice(i));
        for (; i < row.Length; i++) pooled[i] += Math.Max(row[i], 0f);
    }

    private static void MaskedResidual(Span<float> row, ReadOnlySpan<float> perFilter)
    {
        int i = 0;
        for (; i + Vector512<float>.Count <= row.Length; i += Vector512<float>.Count)
        {
            var values = Vector512.Create((ReadOnlySpan<float>)row.Slice(i, Vector512<float>.Count));
            Vector512.ConditionalSelect(Vector512.GreaterThan(values, Vector512<float>.Zero), Vector512.Create(perFilter.Slice(i, Vector512<float>.Count)), Vector512<float>.Zero)
                .CopyTo(row.Slice(i));
        }
        for (; i < row.Length; i++) row[i] = row[i] > 0 ? perFilter[i] : 0f;
    }

    /// <summary>Alignment max_r ⟨w_{j,r}, v_f⟩ of each output j with each feature row v_f of <paramref name="features"/> [F, d]: [J, F].</summary>
    public Tensor Alignment(Tensor features) => weights.matmul(features.t()).amax(1);
}
