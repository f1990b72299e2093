using System.Text.Json.Serialization;
using Granularity.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Granularity.Theory;

/// <summary>Superclass errors of one predictor on the final easy and hard test sets, as counts so binomial intervals can be drawn.</summary>
public sealed record TestErrors(int EasyWrong, int HardWrong, int SamplesPerKind)
{
    [JsonIgnore] public double EasyError => (double)EasyWrong / SamplesPerKind;
    [JsonIgnore] public double HardError => (double)HardWrong / SamplesPerKind;

    /// <summary>Wilson 95% interval of the hard-sample error of this one run.</summary>
    [JsonIgnore] public Estimate HardInterval => Statistics.Wilson(HardWrong, SamplesPerKind);

    /// <summary>Wilson 95% interval of the easy-sample error of this one run.</summary>
    [JsonIgnore] public Estimate EasyInterval => Statistics.Wilson(EasyWrong, SamplesPerKind);
}

/// <summary>
/// The fine model moved to the coarse task five ways (Theorem 2), each scored on the same easy and hard test samples:
/// <list type="bullet">
/// <item><c>max_subclass</c> (<see cref="Readout"/>): superclass of the best subclass logit, no training;</item>
/// <item><c>linear_head</c> (<see cref="LinearProbe"/>): a fresh linear head on the frozen, standardised pooled features;</item>
/// <item><c>head_first_layer</c> (<see cref="FineTuned"/>): that head and the first layer trained together;</item>
/// <item><c>grouped</c> (<see cref="Grouped"/>): the network's own coarse form, output y owning all m·k neurons of
/// y's subclasses with the second layer fixed at 1, no training;</item>
/// <item><c>grouped_sgd</c> (<see cref="GroupedSgd"/>): that grouped network trained by coarse SGD on the easy target set.</item>
/// </list>
/// The trained transfers see the same easy-only target set, the same minibatch sequence and the same number of steps.
/// </summary>
public sealed record TheoryTransfer(TestErrors Readout, TestErrors LinearProbe, TestErrors FineTuned, TestErrors Grouped, TestErrors GroupedSgd)
{
    /// <summary>The transfers by their headline names (docs: theory-base headline format), in a fixed order.</summary>
    [JsonIgnore]
    public IReadOnlyList<(string Name, TestErrors Errors)> Named =>
        [("grouped", Grouped), ("grouped_sgd", GroupedSgd), ("linear_head", LinearProbe), ("head_first_layer", FineTuned), ("max_subclass", Readout)];
}

/// <summary>
/// Trains the transfers of <see cref="TheoryTransfer"/> and scores every model on the large final test sets.
/// The head reads the standardised pooled activations h_{j,r}(X) (J·m features; mean and scale fixed from the frozen
/// pretrained features on the target set) and starts at zero; probe and fine-tuning see the same minibatches.
/// </summary>
public static class TheoryTransferTraining
{
    private const int ChunkSize = 500;

    /// <summary>Errors of the trainer's coarse model (and, when both models were trained, of the five transfers of its fine model).</summary>
    public static (TestErrors Coarse, TheoryTransfer? Transfer) Evaluate(TheoryTrainer trainer)
    {
        // Every tensor of the transfers (target set, heads, the fine-tuned copy, gradients) belongs to this scope.
        using var scope = NewDisposeScope();
        var config = trainer.Config;
        var coarseNet = trainer.Coarse.Net;
        if (config.Models == TheoryModels.CoarseOnly)
        {
            var only = FinalErrors(trainer, x => coarseNet.call(x).argmax(1));
            return (only[0], null);
        }
        var fineNet = trainer.Fine.Net;
        var k = config.SubclassesPerSuperclass;
        using var target = NewTargetSet(trainer);
        using var probe = new CoarseHead(fineNet, target.Inputs, trainer.Device);
        using var tuned = new CoarseHead(fineNet, target.Inputs, trainer.Device);
        using var tunedNet = Copy(fineNet, trainer.Device);
        using var grouped = Grouped(fineNet, k, trainer.Device);
        using var groupedSgd = Grouped(fineNet, k, trainer.Device);
        Train(probe, null, target, config, trainer.Device);
        Train(tuned, tunedNet, target, config, trainer.Device);
        TrainGrouped(groupedSgd, target, config, trainer.Device);
        var errors = FinalErrors(trainer,
            x => coarseNet.call(x).argmax(1),
            x => fineNet.call(x).argmax(1).div(k, rounding_mode: RoundingMode.floor),
            x => probe.Logits(fineNet, x).argmax(1),
            x => tuned.Logits(tunedNet, x).argmax(1),
            x => grouped.call(x).argmax(1),
            x => groupedSgd.call(x).argmax(1));
        return (errors[0], new TheoryTransfer(errors[1], errors[2], errors[3], errors[4], errors[5]));
    }

    /// <summary>
    /// The fine model's own coarse form: a 2-output network whose output y owns the m·k filters of y's subclasses
    /// (subclass y·k + c are rows y·k … y·k + k − 1, so this is a reshape), second layer fixed at 1:
    /// G_y(X) = Σ_c F_{y·k+c}(X).
    /// </summary>
    public static TwoLayerConvNet Grouped(TwoLayerConvNet fine, int subclassesPerSuperclass, Device device)
    {
        if (fine.Outputs != 2 * subclassesPerSuperclass)
            throw new ArgumentException($"a fine model of 2·{subclassesPerSuperclass} outputs was expected, got {fine.Outputs}", nameof(fine));
        using var generator = new Generator(0);
        var grouped = new TwoLayerConvNet(2, fine.NeuronsPerOutput * subclassesPerSuperclass, fine.Dimension, 0, generator, device);
        using (no_grad()) grouped.Weights.copy_(fine.Weights.reshape(2, fine.NeuronsPerOutput * subclassesPerSuperclass, fine.Dimension));
        return grouped;
    }

    /// <summary>
    /// Coarse SGD of the grouped network on the target set: the pretraining loss, optimiser and learning rate
    /// (<see cref="TheoryConfig.LearningRate"/>) of the same network form, TransferSteps steps over the same minibatch sequence as the heads.
    /// </summary>
    private static void TrainGrouped(TwoLayerConvNet grouped, MultiViewBatch target, TheoryConfig config, Device device)
    {
        ForEachMinibatch(target, config, device, indices =>
        {
            var inputs = target.Inputs.index_select(0, indices).contiguous();
            var labels = target.CoarseLabels.index_select(0, indices);
            grouped.SgdStep(inputs.view(indices.shape[0] * config.Patches, config.Dimension), labels, (int)indices.shape[0], config.LearningRate);
        });
    }

    /// <summary>
    /// TransferSteps minibatches of BatchSize target samples, drawn without replacement from seeded permutations (a new
    /// one when too few unused samples remain): <paramref name="step"/> runs inside a dispose scope on each batch's
    /// indices, <paramref name="afterStep"/> after that scope. Every transfer sees the same sequence.
    /// </summary>
    private static void ForEachMinibatch(MultiViewBatch target, TheoryConfig config, Device device, Action<Tensor> step, Action? afterStep = null)
    {
        using var generator = HierarchicalMultiViewData.NewGenerator(config.Seed, HierarchicalMultiViewData.SeedStream.Transfer);
        var size = Math.Min(config.BatchSize, target.Count);
        Tensor? order = null;
        var position = 0;
        try
        {
            for (int done = 0; done < config.TransferSteps; done++)
            {
                if (order is null || position + size > target.Count)
                {
                    order?.Dispose();
                    order = randperm(target.Count, generator: generator).to(device);
                    position = 0;
                }
                using (var scope = NewDisposeScope())
                {
                    step(order.narrow(0, position, size));
                }
                afterStep?.Invoke();
                position += size;
            }
        }
        finally
        {
            order?.Dispose();
        }
    }

    /// <summary>
    /// Counts superclass errors of each predictor on FinalTestSamplesPerKind easy and as many hard samples, drawn in
    /// chunks from their own seed streams (every predictor sees the same samples).
    /// </summary>
    public static TestErrors[] FinalErrors(TheoryTrainer trainer, params Func<Tensor, Tensor>[] predictSuperclass)
    {
        var config = trainer.Config;
        var wrong = new int[predictSuperclass.Length, 2];
        using var noGrad = no_grad();
        for (int kind = 0; kind < 2; kind++)
        {
            using var generator = HierarchicalMultiViewData.NewGenerator(config.Seed,
                kind == 0 ? HierarchicalMultiViewData.SeedStream.FinalEasyTest : HierarchicalMultiViewData.SeedStream.FinalHardTest);
            for (int done = 0; done < config.FinalTestSamplesPerKind; done += ChunkSize)
            {
                using var scope = NewDisposeScope();
                var count = Math.Min(ChunkSize, config.FinalTestSamplesPerKind - done);
                var chunk = trainer.Data.Sample(count, kind == 0 ? 0.0 : 1.0, generator);
                var inputs = chunk.Inputs.to(trainer.Device);
                var labels = chunk.CoarseLabels.to(trainer.Device);
                for (int p = 0; p < predictSuperclass.Length; p++)
                    wrong[p, kind] += (int)predictSuperclass[p](inputs).ne(labels).sum().item<long>();
            }
        }
        return Enumerable.Range(0, predictSuperclass.Length)
            .Select(p => new TestErrors(wrong[p, 0], wrong[p, 1], config.FinalTestSamplesPerKind)).ToArray();
    }

    private static MultiViewBatch NewTargetSet(TheoryTrainer trainer)
    {
        using var generator = HierarchicalMultiViewData.NewGenerator(trainer.Config.Seed, HierarchicalMultiViewData.SeedStream.Transfer);
        var easy = trainer.Data.Sample(trainer.Config.TransferSamples, hardShare: 0, generator);
        return trainer.Device.type == DeviceType.CPU ? easy
            : new MultiViewBatch(easy.Inputs.to(trainer.Device), easy.FineLabels.to(trainer.Device), easy.CoarseLabels.to(trainer.Device), easy.IsHard.to(trainer.Device), easy.PatchRoles.to(trainer.Device));
    }

    private static TwoLayerConvNet Copy(TwoLayerConvNet net, Device device)
    {
        using var generator = new Generator(0);
        var copy = new TwoLayerConvNet(net.Outputs, net.NeuronsPerOutput, net.Dimension, 0, generator, device);
        using (no_grad()) copy.Weights.copy_(net.Weights);
        return copy;
    }

    /// <summary>SGD on cross-entropy of the coarse labels; <paramref name="firstLayer"/> null freezes the features (linear probe).</summary>
    private static void Train(CoarseHead head, TwoLayerConvNet? firstLayer, MultiViewBatch target, TheoryConfig config, Device device)
    {
        var parameters = head.Parameters.Concat(firstLayer is null ? [] : [firstLayer.Weights]).ToArray();
        using var optimizer = optim.SGD(parameters, config.TransferLearningRate);
        ForEachMinibatch(target, config, device, indices =>
        {
            var labels = target.CoarseLabels.index_select(0, indices);
            optimizer.zero_grad();
            var loss = firstLayer is null
                ? nn.functional.cross_entropy(head.LogitsFromFeatures(head.FrozenFeatures.index_select(0, indices)), labels)
                : nn.functional.cross_entropy(head.Logits(firstLayer, target.Inputs.index_select(0, indices)), labels);
            loss.backward();
        }, () => optimizer.step());
    }

    /// <summary>A 2-way linear head over the standardised pooled activations of a network.</summary>
    private sealed class CoarseHead : IDisposable
    {
        private readonly Tensor mean, scale;
        private readonly Parameter weight, bias;

        public CoarseHead(TwoLayerConvNet net, Tensor targetInputs, Device device)
        {
            using var noGrad = no_grad();
            var features = Pooled(net, targetInputs);
            mean = features.mean(new long[] { 0 }, keepdim: true);
            scale = features.std(0, keepdim: true).clamp_min(1e-6);
            FrozenFeatures = features.sub(mean).div(scale);
            weight = new Parameter(zeros(new long[] { features.shape[1], 2 }, device: device));
            bias = new Parameter(zeros(new long[] { 2 }, device: device));
        }

        /// <summary>The standardised features of the target set under the pretrained (frozen) first layer.</summary>
        public Tensor FrozenFeatures { get; }

        public Parameter[] Parameters => [weight, bias];

        public Tensor LogitsFromFeatures(Tensor standardised) => standardised.matmul(weight).add(bias);

        public Tensor Logits(TwoLayerConvNet net, Tensor inputs) => LogitsFromFeatures(Pooled(net, inputs).sub(mean).div(scale));

        public void Dispose()
        {
            foreach (var tensor in new[] { mean, scale, FrozenFeatures, weight, bias }) tensor.Dispose();
        }

        private static Tensor Pooled(TwoLayerConvNet net, Tensor inputs)
        {
            var parts = new List<Tensor>();
            for (long start = 0; start < inputs.shape[0]; start += ChunkSize)
                parts.Add(net.NeuronActivations(inputs.narrow(0, start, Math.Min(ChunkSize, inputs.shape[0] - start))).flatten(1));
            return parts.Count == 1 ? parts[0] : cat(parts, 0);
        }
    }
}
