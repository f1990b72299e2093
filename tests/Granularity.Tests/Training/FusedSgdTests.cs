using Granularity.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Granularity.Tests.Training;

public sealed class FusedSgdTests
{
    [Theory]
    [InlineData(0.0, 0.0, 0.0, false)]
    [InlineData(0.0, 0.0, 1e-2, false)]
    [InlineData(0.9, 0.0, 1e-2, false)]
    [InlineData(0.9, 0.1, 1e-2, false)]
    [InlineData(0.9, 0.0, 1e-2, true)]
    public void FusedSgdTakesTheStepsOfTorchSharpsSgd(double momentum, double dampening, double weightDecay, bool nesterov)
    {
        Granularity.Core.TorchRuntime.EnsureNativesLoaded();
        using var scope = NewDisposeScope();
        manual_seed(7);
        var reference = nn.Linear(6, 3);
        var fused = nn.Linear(6, 3);
        fused.load_state_dict(reference.state_dict());
        using var referenceSgd = optim.SGD(reference.parameters(), 0.1, momentum, dampening, weightDecay, nesterov);
        using var fusedSgd = new FusedSgd(fused.parameters(), 0.1, momentum, dampening, weightDecay, nesterov);
        for (int step = 0; step < 5; step++)
        {
            var input = randn(8, 6);
            foreach (var (model, optimizer) in new (nn.Module<Tensor, Tensor>, optim.Optimizer)[] { (reference, referenceSgd), (fused, fusedSgd) })
            {
                optimizer.zero_grad();
                model.call(input).pow(2).mean().backward();
                optimizer.step();
            }
        }
        foreach (var (expected, actual) in reference.parameters().Zip(fused.parameters()))
            Assert.True(expected.allclose(actual, rtol: 1e-5, atol: 1e-6), $"max difference {(expected - actual).abs().max().item<float>()}");
    }

    [Fact]
    public void FusedSgdStateRoundTripsThroughTheOptimizerStateFormat()
    {
        Granularity.Core.TorchRuntime.EnsureNativesLoaded();
        using var scope = NewDisposeScope();
        manual_seed(3);
        var model = nn.Linear(4, 2);
        using var optimizer = new FusedSgd(model.parameters(), 0.05, 0.9, 0, 1e-3);
        optimizer.zero_grad();
        model.call(randn(5, 4)).sum().backward();
        optimizer.step();
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.save_state_dict(writer);
        using var restored = new FusedSgd(model.parameters(), 0.05, 0.9, 0, 1e-3);
        buffer.Position = 0;
        using (var reader = new BinaryReader(buffer)) restored.load_state_dict(reader);
        var saved = ((TorchSharp.Modules.SGD.State)optimizer.state_dict().State[0]).momentum_buffer!;
        var loaded = ((TorchSharp.Modules.SGD.State)restored.state_dict().State[0]).momentum_buffer!;
        Assert.True(saved.allclose(loaded));
    }
}
