using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Granularity.Training.Models;

/// <summary>How a ResNet treats its input before the residual stages.</summary>
public enum ResNetStem
{
    /// <summary>torchvision's 7×7 stride-2 convolution and 3×3 max pool (for 112 px and larger images).</summary>
    ImageNet,
    /// <summary>A 3×3 stride-1 convolution without pooling, the usual choice for 32 px images (CIFAR).</summary>
    SmallInput,
}

/// <summary>The torchvision ResNet body (v1.5: stride on the 3×3 convolution of a bottleneck), ending in global average pooling.</summary>
public sealed class ResNetBody : nn.Module<Tensor, Tensor>, IFeatureBody
{
    private readonly nn.Module<Tensor, Tensor> stem;
    private readonly Sequential layer1, layer2, layer3, layer4;

    private ResNetBody(string name, bool bottleneck, int[] blocks, ResNetStem stemKind) : base(name)
    {
        stem = stemKind == ResNetStem.ImageNet
            ? nn.Sequential(nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false), nn.BatchNorm2d(64), nn.ReLU(inplace: true), nn.MaxPool2d(3, stride: 2, padding: 1))
            : nn.Sequential(nn.Conv2d(3, 64, 3, stride: 1, padding: 1, bias: false), nn.BatchNorm2d(64), nn.ReLU(inplace: true));
        long inChannels = 64;
        Sequential Stage(long width, int count, long stride)
        {
            var modules = new List<nn.Module<Tensor, Tensor>>();
            for (int i = 0; i < count; i++)
            {
                nn.Module<Tensor, Tensor> block = bottleneck
                    ? new BottleneckBlock(inChannels, width, i == 0 ? stride : 1)
                    : new BasicBlock(inChannels, width, i == 0 ? stride : 1);
                modules.Add(block);
                inChannels = width * (bottleneck ? 4 : 1);
            }
            return nn.Sequential(modules);
        }
        layer1 = Stage(64, blocks[0], 1);
        layer2 = Stage(128, blocks[1], 2);
        layer3 = Stage(256, blocks[2], 2);
        layer4 = Stage(512, blocks[3], 2);
        FeatureCount = (int)inChannels;
        RegisterComponents();
        foreach (var (_, module) in named_modules())
        {
            if (module is Conv2d conv) nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
            else if (module is BatchNorm2d norm) { nn.init.ones_(norm.weight); nn.init.zeros_(norm.bias); }
        }
    }

    public static ResNetBody ResNet18(ResNetStem stem = ResNetStem.ImageNet) => new("ResNet18", false, [2, 2, 2, 2], stem);
    public static ResNetBody ResNet34(ResNetStem stem = ResNetStem.ImageNet) => new("ResNet34", false, [3, 4, 6, 3], stem);
    public static ResNetBody ResNet50(ResNetStem stem = ResNetStem.ImageNet) => new("ResNet50", true, [3, 4, 6, 3], stem);

    public int FeatureCount { get; }

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = stem.call(images);
        x = layer1.call(x);
        x = layer2.call(x);
        x = layer3.call(x);
        x = layer4.call(x);
        return x.mean(new long[] { 2, 3 }).MoveToOuterDisposeScope();
    }

    private sealed class BasicBlock : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1, conv2;
        private readonly BatchNorm2d bn1, bn2;
        private readonly nn.Module<Tensor, Tensor>? downsample;

        public BasicBlock(long inChannels, long width, long stride) : base(nameof(BasicBlock))
        {
            conv1 = nn.Conv2d(inChannels, width, 3, stride: stride, padding: 1, bias: false);
            bn1 = nn.BatchNorm2d(width);
            conv2 = nn.Conv2d(width, width, 3, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(width);
            if (stride != 1 || inChannels != width)
                downsample = nn.Sequential(nn.Conv2d(inChannels, width, 1, stride: stride, bias: false), nn.BatchNorm2d(width));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var y = bn1.call(conv1.call(x)).relu_();
            y = bn2.call(conv2.call(y));
            var identity = downsample is null ? x : downsample.call(x);
            return y.add_(identity).relu_().MoveToOuterDisposeScope();
        }
    }

    private sealed class BottleneckBlock : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1, conv2, conv3;
        private readonly BatchNorm2d bn1, bn2, bn3;
        private readonly nn.Module<Tensor, Tensor>? downsample;

        public BottleneckBlock(long inChannels, long width, long stride) : base(nameof(BottleneckBlock))
        {
            conv1 = nn.Conv2d(inChannels, width, 1, bias: false);
            bn1 = nn.BatchNorm2d(width);
            conv2 = nn.Conv2d(width, width, 3, stride: stride, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(width);
            conv3 = nn.Conv2d(width, width * 4, 1, bias: false);
            bn3 = nn.BatchNorm2d(width * 4);
            if (stride != 1 || inChannels != width * 4)
                downsample = nn.Sequential(nn.Conv2d(inChannels, width * 4, 1, stride: stride, bias: false), nn.BatchNorm2d(width * 4));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var y = bn1.call(conv1.call(x)).relu_();
            y = bn2.call(conv2.call(y)).relu_();
            y = bn3.call(conv3.call(y));
            var identity = downsample is null ? x : downsample.call(x);
            return y.add_(identity).relu_().MoveToOuterDisposeScope();
        }
    }
}
