using Granularity.Theory;
using TorchSharp;
using Xunit;
using static Granularity.Tests.Theory.TheoryTestSupport;
using static TorchSharp.torch;

namespace Granularity.Tests.Theory;

public sealed class TwoLayerConvNetTests
{
    public TwoLayerConvNetTests() => EnsureNatives();

    [Fact]
    public void OutputsHaveTheExpectedShapes()
    {
        using var generator = new Generator(1);
        using var net = new TwoLayerConvNet(outputs: 6, neuronsPerOutput: 4, dimension: 30, initStd: 0.1, generator);
        using var inputs = randn(5, 8, 30);
        using var logits = net.call(inputs);
        using var activations = net.NeuronActivations(inputs);
        using var features = eye(10, 30);
        using var alignment = net.Alignment(features);
        Assert.Equal(new long[] { 5, 6 }, logits.shape);
        Assert.Equal(new long[] { 5, 6, 4 }, activations.shape);
        Assert.Equal(new long[] { 6, 10 }, alignment.shape);
        Assert.Equal(new long[] { 6, 4, 30 }, net.Weights.shape);
        Assert.Single(net.parameters());
        Assert.Throws<ArgumentException>(() => net.call(randn(5, 8, 29)));
    }

    [Fact]
    public void ForwardEqualsTheDefinitionSummedPatchByPatch()
    {
        using var generator = new Generator(2);
        using var net = new TwoLayerConvNet(outputs: 3, neuronsPerOutput: 2, dimension: 7, initStd: 1.0, generator);
        using var inputs = randn([4, 5, 7], generator: generator);
        var x = Values(inputs);
        var w = Values(net.Weights);
        var logits = Values(net.call(inputs));
        for (int b = 0; b < 4; b++)
            for (int j = 0; j < 3; j++)
            {
                double expected = 0;
                for (int r = 0; r < 2; r++)
                    for (int p = 0; p < 5; p++)
                    {
                        double dot = 0;
                        for (int i = 0; i < 7; i++) dot += w[(j * 2 + r) * 7 + i] * x[(b * 5 + p) * 7 + i];
                        expected += Math.Max(0, dot);
                    }
                // float32 sums of 70 products: a relative tolerance, not a fixed number of decimal places.
                Assert.InRange(Math.Abs(logits[b * 3 + j] - expected), 0, 1e-5 * Math.Max(1, Math.Abs(expected)));
            }
    }

    [Fact]
    public void GradientsFlowToTheWeightsAndAreFinite()
    {
        using var generator = new Generator(3);
        using var net = new TwoLayerConvNet(outputs: 4, neuronsPerOutput: 3, dimension: 20, initStd: 0.5, generator);
        using var inputs = randn(16, 8, 20);
        using var labels = randint(0, 4, new long[] { 16 });
        using var loss = nn.functional.cross_entropy(net.call(inputs), labels);
        loss.backward();
        var gradient = net.Weights.grad;
        Assert.NotNull(gradient);
        Assert.Equal(net.Weights.shape, gradient!.shape);
        Assert.False(gradient.isnan().any().item<bool>());
        Assert.True(gradient.abs().sum().item<float>() > 0);
        Assert.False(float.IsNaN(loss.item<float>()));
    }

    [Theory]
    [InlineData(2, 5, 40)]
    [InlineData(6, 3, 300)]
    public void ClosedFormSgdStepEqualsAutogradSgd(int outputs, int neurons, int dimension)
    {
        using var g1 = new Generator(5);
        using var g2 = new Generator(5);
        using var closedForm = new TwoLayerConvNet(outputs, neurons, dimension, initStd: 0.3, g1);
        using var autograd = new TwoLayerConvNet(outputs, neurons, dimension, initStd: 0.3, g2);
        using var optimizer = optim.SGD(autograd.parameters(), 0.2);
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            var inputs = randn(12, 6, dimension);
            var labels = randint(0, outputs, new long[] { 12 });
            var loss = closedForm.SgdStep(inputs.view(72, dimension), labels, batch: 12, learningRate: 0.2);
            optimizer.zero_grad();
            var reference = nn.functional.cross_entropy(autograd.call(inputs), labels);
            reference.backward();
            optimizer.step();
            var expected = reference.item<float>();
            Assert.True(Math.Abs(expected - loss) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"step {step}: loss {loss} vs autograd {expected}");
            var difference = closedForm.Weights.sub(autograd.Weights).abs().max().item<float>();
            var scale = autograd.Weights.abs().max().item<float>();
            Assert.True(difference <= 1e-5 * Math.Max(1, scale), $"step {step}: weights differ by {difference} of {scale} ({Sgemm.Backend})");
        }
        Assert.Throws<ArgumentException>(() => closedForm.SgdStep(randn(10, dimension), randint(0, outputs, new long[] { 4 }), 4, 0.1));
    }

    [Fact]
    public void APairStepOnSharedWeightsEqualsTwoSeparateSteps()
    {
        const int dimension = 90;
        using var shared = empty(2 * 4 + 6 * 3, dimension);
        using var gA = new Generator(11);
        using var gB = new Generator(12);
        using var coarse = new TwoLayerConvNet(2, 4, dimension, 0.3, gA, null, shared.narrow(0, 0, 8));
        using var fine = new TwoLayerConvNet(6, 3, dimension, 0.3, gB, null, shared.narrow(0, 8, 18));
        using var gA2 = new Generator(11);
        using var gB2 = new Generator(12);
        using var coarseAlone = new TwoLayerConvNet(2, 4, dimension, 0.3, gA2);
        using var fineAlone = new TwoLayerConvNet(6, 3, dimension, 0.3, gB2);
        Assert.True(coarse.Weights.equal(coarseAlone.Weights).all().item<bool>(), "the storage constructor draws the same initial weights");
        Assert.True(fine.Weights.equal(fineAlone.Weights).all().item<bool>());
        using var data = new Generator(13);
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            var inputs = randn(new long[] { 10, 5, dimension }, generator: data).view(50, dimension);
            var fineLabels = randint(0, 6, new long[] { 10 }, generator: data);
            var coarseLabels = fineLabels.div(3, rounding_mode: RoundingMode.floor);
            var (coarseLoss, fineLoss) = TwoLayerConvNet.SgdStepPair(coarse, fine, shared, inputs, coarseLabels, fineLabels, 10, 0.2);
            // The products differ in width (26 filters against 8 and 18), so float32 sums may round apart: relative tolerance.
            var expectedCoarse = coarseAlone.SgdStep(inputs, coarseLabels, 10, 0.2);
            var expectedFine = fineAlone.SgdStep(inputs, fineLabels, 10, 0.2);
            Assert.True(Math.Abs(expectedCoarse - coarseLoss) <= 1e-5 * Math.Max(1, Math.Abs(expectedCoarse)), $"step {step}: coarse loss {coarseLoss} vs {expectedCoarse}");
            Assert.True(Math.Abs(expectedFine - fineLoss) <= 1e-5 * Math.Max(1, Math.Abs(expectedFine)), $"step {step}: fine loss {fineLoss} vs {expectedFine}");
            Assert.True(coarse.Weights.allclose(coarseAlone.Weights, rtol: 1e-5, atol: 1e-6), $"step {step}: coarse weights differ");
            Assert.True(fine.Weights.allclose(fineAlone.Weights, rtol: 1e-5, atol: 1e-6), $"step {step}: fine weights differ");
        }
        // Weights that are not consecutive rows of the buffer are refused, not silently mis-updated.
        using var inputsAgain = randn(50, dimension);
        using var labelsAgain = zeros(10, dtype: ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => TwoLayerConvNet.SgdStepPair(fine, coarse, shared, inputsAgain, labelsAgain, labelsAgain, 10, 0.2));
        Assert.Throws<ArgumentException>(() => TwoLayerConvNet.SgdStepPair(coarseAlone, fineAlone, shared, inputsAgain, labelsAgain, labelsAgain, 10, 0.2));
    }

    [Fact]
    public void InitialisationIsSmallAndSeeded()
    {
        using var g1 = new Generator(4);
        using var g2 = new Generator(4);
        using var a = new TwoLayerConvNet(2, 10, 200, 0.01, g1);
        using var b = new TwoLayerConvNet(2, 10, 200, 0.01, g2);
        Assert.True(a.Weights.equal(b.Weights).all().item<bool>());
        Assert.InRange(a.Weights.std().item<float>(), 0.009, 0.011);
    }
}
