using Granularity.Training;
using Granularity.Training.Models;
using Xunit;
using static TorchSharp.torch;

namespace Granularity.Tests.Training;

[Collection(TrainingCollection.Name)]
public sealed class TrainingModelTests
{
    [Theory]
    [InlineData(Architecture.SmallCnn, ResNetStem.ImageNet, 16, 256)]
    [InlineData(Architecture.ResNet18, ResNetStem.SmallInput, 16, 512)]
    [InlineData(Architecture.ResNet34, ResNetStem.ImageNet, 32, 512)]
    [InlineData(Architecture.ResNet50, ResNetStem.ImageNet, 32, 2048)]
    [InlineData(Architecture.VitTiny, ResNetStem.ImageNet, 16, 32)]
    public void ModelsMapImagesToFeaturesAndLogits(Architecture architecture, ResNetStem stem, int size, int features)
    {
        using var model = new ModelConfig(architecture, stem, ImageSize: size).Create(7);
        using var images = rand(2, 3, size, size);
        using var logits = model.call(images);
        using var feature = model.Features(images);
        Assert.Equal(new long[] { 2, 7 }, logits.shape);
        Assert.Equal(new long[] { 2, features }, feature.shape);
        Assert.False(logits.isnan().any().item<bool>());
    }

    [Fact]
    public void ParameterCountsMatchTheReferenceNetworks()
    {
        static long Count(ModelConfig config, int classes) { using var m = config.Create(classes); return m.parameters().Sum(p => p.numel()); }
        Assert.Equal(11_689_512, Count(new ModelConfig(Architecture.ResNet18), 1000));   // torchvision resnet18
        Assert.Equal(21_797_672, Count(new ModelConfig(Architecture.ResNet34), 1000));   // torchvision resnet34
        Assert.Equal(25_557_032, Count(new ModelConfig(Architecture.ResNet50), 1000));   // torchvision resnet50
        Assert.Equal(86_567_656, Count(new ModelConfig(Architecture.VitB16), 1000));     // timm vit_base_patch16_224
    }
}
