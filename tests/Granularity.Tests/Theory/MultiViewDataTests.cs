using Granularity.Theory;
using TorchSharp;
using Xunit;
using static Granularity.Tests.Theory.TheoryTestSupport;
using static TorchSharp.torch;

namespace Granularity.Tests.Theory;

public sealed class MultiViewDataTests
{
    public MultiViewDataTests() => EnsureNatives();

    [Theory]
    [InlineData(FeatureBasis.StandardBasis)]
    [InlineData(FeatureBasis.RandomOrthonormal)]
    public void FeaturesAreOrthonormal(FeatureBasis basis)
    {
        using var data = new HierarchicalMultiViewData(Small() with { Basis = basis });
        Assert.Equal(new long[] { 8, 60 }, data.Features.shape);
        using var gram = data.Features.matmul(data.Features.t());
        using var identity = eye(8);
        Assert.True(gram.allclose(identity, rtol: 0, atol: 1e-5), "features must be orthonormal");
        if (basis == FeatureBasis.RandomOrthonormal)
        {
            // Dense: not just a selection of coordinates.
            using var nonZero = data.Features.abs().gt(1e-6).sum();
            Assert.True(nonZero.item<long>() > 8 * 30);
        }
    }

    [Fact]
    public void WithoutNoiseEachPatchIsExactlyItsFeatureOrZero()
    {
        var config = Small() with { NoiseStd = 0, FeatureStrength = 2.5 };
        using var data = new HierarchicalMultiViewData(config);
        using var generator = new Generator(7);
        using var batch = data.Sample(300, hardShare: 0.5, generator);
        var inputs = Values(batch.Inputs);
        var roles = Longs(batch.PatchRoles);
        var fine = Longs(batch.FineLabels);
        var coarse = Longs(batch.CoarseLabels);
        var hard = batch.IsHard.cpu().data<bool>().ToArray();
        var features = Values(data.Features);
        int d = config.Dimension, p = config.Patches;
        for (int b = 0; b < batch.Count; b++)
        {
            Assert.Equal(fine[b] / config.SubclassesPerSuperclass, coarse[b]);
            Assert.Equal(hard[b] ? 0 : config.CommonPatches, Enumerable.Range(0, p).Count(i => roles[b * p + i] == (long)PatchRole.Common));
            Assert.Equal(config.FinePatches, Enumerable.Range(0, p).Count(i => roles[b * p + i] == (long)PatchRole.Fine));
            for (int patch = 0; patch < p; patch++)
            {
                var role = (PatchRole)roles[b * p + patch];
                int? row = role switch
                {
                    PatchRole.Common => HierarchicalMultiViewData.CommonFeatureRow((int)coarse[b]),
                    PatchRole.Fine => HierarchicalMultiViewData.FineFeatureRow((int)fine[b]),
                    _ => null,
                };
                for (int i = 0; i < d; i++)
                {
                    var expected = row is null ? 0f : 2.5f * features[row.Value * d + i];
                    Assert.Equal(expected, inputs[(b * p + patch) * d + i], 5);
                }
            }
        }
        var hardShare = hard.Count(h => h) / (double)hard.Length;
        Assert.InRange(hardShare, 0.4, 0.6);
    }

    [Fact]
    public void HardSamplesLackTheCommonFeatureButKeepTheFineOne()
    {
        using var data = new HierarchicalMultiViewData(Small());
        using var easy = data.TestSet(hard: false);
        using var hard = data.TestSet(hard: true);
        Assert.True(hard.IsHard.all().item<bool>());
        Assert.False(easy.IsHard.any().item<bool>());
        // Strongest projection of any patch on the sample's own common / fine feature, averaged over samples.
        double Strongest(MultiViewBatch batch, Tensor rows)
        {
            using var scope = NewDisposeScope();
            var own = data.Features.index_select(0, rows);                                   // [B, d]
            return batch.Inputs.matmul(own.unsqueeze(2)).squeeze(2).amax(1).mean().item<float>();
        }
        using var easyCommon = easy.CoarseLabels.clone();
        using var hardCommon = hard.CoarseLabels.clone();
        using var hardFine = hard.FineLabels.add(2);
        Assert.InRange(Strongest(easy, easyCommon), 0.8, 1.4);       // strength 1 plus noise
        Assert.InRange(Strongest(hard, hardCommon), -0.2, 0.45);      // noise only: max of 8 N(0, 0.15²)
        Assert.InRange(Strongest(hard, hardFine), 0.8, 1.4);
    }

    [Fact]
    public void TheSameSeedGivesTheSameDataAndAnotherSeedDoesNot()
    {
        foreach (var basis in new[] { FeatureBasis.StandardBasis, FeatureBasis.RandomOrthonormal })
        {
            using var first = new HierarchicalMultiViewData(Small(seed: 5) with { Basis = basis });
            using var second = new HierarchicalMultiViewData(Small(seed: 5) with { Basis = basis });
            using var other = new HierarchicalMultiViewData(Small(seed: 6) with { Basis = basis });
            Assert.True(first.Features.equal(second.Features).all().item<bool>());
            Assert.False(first.Features.equal(other.Features).all().item<bool>());
            using var a = first.TestSet(hard: false);
            using var b = second.TestSet(hard: false);
            Assert.True(a.Inputs.equal(b.Inputs).all().item<bool>());
            Assert.True(a.FineLabels.equal(b.FineLabels).all().item<bool>());
            using var g1 = new Generator(11);
            using var g2 = new Generator(11);
            using var s1 = first.Sample(16, 0.3, g1);
            using var s2 = second.Sample(16, 0.3, g2);
            Assert.True(s1.Inputs.equal(s2.Inputs).all().item<bool>());
            Assert.True(s1.IsHard.equal(s2.IsHard).all().item<bool>());
        }
    }

    [Fact]
    public void EasyAndHardTestSetsAreIndependentDraws()
    {
        using var data = new HierarchicalMultiViewData(Small());
        using var easy = data.TestSet(hard: false);
        using var hard = data.TestSet(hard: true);
        Assert.False(easy.FineLabels.equal(hard.FineLabels).all().item<bool>());
        Assert.Equal(200, easy.Count);
        Assert.Equal(new[] { "v0", "v1", "v0,0", "v0,1", "v0,2", "v1,0", "v1,1", "v1,2" }, data.FeatureNames);
    }

    [Fact]
    public void BadSampleArgumentsFailClearly()
    {
        using var data = new HierarchicalMultiViewData(Small());
        using var generator = new Generator(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Sample(0, 0, generator));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Sample(4, 1.5, generator));
    }
}
