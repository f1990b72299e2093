using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Granularity.Training.Models;

/// <summary>Shape of a Vision Transformer (Dosovitskiy et al. 2021): patch size, width, depth, heads, MLP width.</summary>
public sealed record VitShape(int ImageSize, int PatchSize, int Width, int Depth, int Heads, int MlpWidth)
{
    /// <summary>ViT-B/16 at 224 px: 86 M parameters (ViT paper, Table 1).</summary>
    public static VitShape B16(int imageSize = 224) => new(imageSize, 16, 768, 12, 12, 3072);

    /// <summary>A tiny ViT for tests and CPU smoke runs: 4 px patches, width 32, 2 blocks, 2 heads.</summary>
    public static VitShape Tiny(int imageSize = 16) => new(imageSize, 4, 32, 2, 2, 64);
}

/// <summary>
/// The ViT body: patch embedding, class token, learned position embeddings, pre-norm transformer blocks and a final
/// LayerNorm; the class token's final state is the feature vector.
/// </summary>
public sealed class VisionTransformerBody : nn.Module<Tensor, Tensor>, IFeatureBody
{
    private readonly Conv2d patchEmbedding;
    private readonly Parameter classToken;
    private readonly Parameter positionEmbedding;
    private readonly Dropout dropout;
    private readonly ModuleList<EncoderBlock> blocks;
    private readonly LayerNorm norm;

    public VisionTransformerBody(VitShape shape, double dropoutRate = 0.0) : base(nameof(VisionTransformerBody))
    {
        if (shape.ImageSize % shape.PatchSize != 0)
            throw new ArgumentException($"ImageSize {shape.ImageSize} must be a multiple of PatchSize {shape.PatchSize}");
        if (shape.Width % shape.Heads != 0)
            throw new ArgumentException($"Width {shape.Width} must be a multiple of Heads {shape.Heads}");
        Shape = shape;
        var patches = (shape.ImageSize / shape.PatchSize) * (shape.ImageSize / shape.PatchSize);
        patchEmbedding = nn.Conv2d(3, shape.Width, shape.PatchSize, stride: shape.PatchSize);
        classToken = nn.Parameter(zeros(1, 1, shape.Width));
        positionEmbedding = nn.Parameter(empty(1, patches + 1, shape.Width));
        nn.init.trunc_normal_(positionEmbedding, std: 0.02);
        dropout = nn.Dropout(dropoutRate);
        blocks = new ModuleList<EncoderBlock>(Enumerable.Range(0, shape.Depth).Select(_ => new EncoderBlock(shape.Width, shape.Heads, shape.MlpWidth, dropoutRate)).ToArray());
        norm = nn.LayerNorm(shape.Width, eps: 1e-6);
        RegisterComponents();
    }

    public VitShape Shape { get; }
    public int FeatureCount => Shape.Width;

    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        if (images.shape[2] != Shape.ImageSize || images.shape[3] != Shape.ImageSize)
            throw new ArgumentException($"this ViT takes {Shape.ImageSize}×{Shape.ImageSize} images, got {images.shape[2]}×{images.shape[3]}");
        var tokens = patchEmbedding.call(images).flatten(2).transpose(1, 2);
        var batch = tokens.shape[0];
        var x = cat(new[] { classToken.expand(batch, -1, -1), tokens }, 1) + positionEmbedding;
        x = dropout.call(x);
        foreach (var block in blocks) x = block.call(x);
        return norm.call(x.select(1, 0)).MoveToOuterDisposeScope();
    }

    private sealed class EncoderBlock : nn.Module<Tensor, Tensor>
    {
        private readonly LayerNorm norm1, norm2;
        private readonly Linear qkv, projection, fc1, fc2;
        private readonly Dropout dropout;
        private readonly int heads;

        public EncoderBlock(int width, int heads, int mlpWidth, double dropoutRate) : base(nameof(EncoderBlock))
        {
            this.heads = heads;
            norm1 = nn.LayerNorm(width, eps: 1e-6);
            qkv = nn.Linear(width, 3 * width);
            projection = nn.Linear(width, width);
            norm2 = nn.LayerNorm(width, eps: 1e-6);
            fc1 = nn.Linear(width, mlpWidth);
            fc2 = nn.Linear(mlpWidth, width);
            dropout = nn.Dropout(dropoutRate);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2]);
            var parts = qkv.call(norm1.call(x)).view(batch, length, 3, heads, width / heads).permute(2, 0, 3, 1, 4);
            var attended = nn.functional.scaled_dot_product_attention(parts[0], parts[1], parts[2]);
            x = x + dropout.call(projection.call(attended.transpose(1, 2).reshape(batch, length, width)));
            var mlp = fc2.call(dropout.call(nn.functional.gelu(fc1.call(norm2.call(x)))));
            return (x + dropout.call(mlp)).MoveToOuterDisposeScope();
        }
    }
}
