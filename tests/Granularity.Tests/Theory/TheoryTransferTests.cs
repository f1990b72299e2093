using Granularity.Theory;
using TorchSharp;
using Xunit;
using static Granularity.Tests.Theory.TheoryTestSupport;

namespace Granularity.Tests.Theory;

public sealed class TheoryTransferTests
{
    public TheoryTransferTests() => EnsureNatives();

    [Fact]
    public void TheGroupedNetworkSumsTheFineLogitsOfEachSuperclassAndOwnsAllTheirNeurons()
    {
        var config = Small();
        using var data = new HierarchicalMultiViewData(config);
        using var init = new torch.Generator(3);
        using var fine = TwoLayerConvNet.For(config, LabelGranularity.Fine, init);
        using var grouped = TheoryTransferTraining.Grouped(fine, config.SubclassesPerSuperclass, torch.CPU);
        Assert.Equal((2, config.NeuronsPerOutput * config.SubclassesPerSuperclass), (grouped.Outputs, grouped.NeuronsPerOutput));
        using var generator = new torch.Generator(4);
        using var batch = data.Sample(50, hardShare: 0.5, generator);
        var fineLogits = Values(fine.call(batch.Inputs));
        var groupedLogits = Values(grouped.call(batch.Inputs));
        int k = config.SubclassesPerSuperclass, outputs = 2 * k;
        for (int b = 0; b < 50; b++)
            for (int y = 0; y < 2; y++)
            {
                var sum = Enumerable.Range(0, k).Sum(c => fineLogits[b * outputs + y * k + c]);
                Assert.Equal(sum, groupedLogits[b * 2 + y], 1e-4);
            }
        // A copy: training the grouped network leaves the fine model as it was.
        var before = Values(fine.Weights);
        using (torch.no_grad()) grouped.Weights.add_(1);
        Assert.Equal(before, Values(fine.Weights));
    }

    [Fact]
    public void GroupingAModelOfTheWrongShapeFailsNamingIt()
    {
        var config = Small();
        using var init = new torch.Generator(3);
        using var coarse = TwoLayerConvNet.For(config, LabelGranularity.Coarse, init);
        var error = Assert.Throws<ArgumentException>(() => TheoryTransferTraining.Grouped(coarse, config.SubclassesPerSuperclass, torch.CPU));
        Assert.Equal("fine", error.ParamName);
    }
}
