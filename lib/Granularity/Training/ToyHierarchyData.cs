using Granularity.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Training;

/// <summary>
/// A small in-memory hierarchical image set for the engine's tests and Quick smoke runs, after the generator of
/// shared/notes/synthetic-hierarchy.md §1 (4 superclasses × 2 middle classes × 2 leaves; a superclass colour tint as the
/// common feature; a 5×5 leaf glyph; one distractor glyph; Gaussian noise). Levels: coarse (4), mid (8), leaf (16).
/// Evaluation splits: "easy" (tint present) and "hard" (tint absent).
/// </summary>
public sealed class ToyHierarchyData : ITrainingData
{
    public const string DatasetName = "toy-hierarchy";
    private const int Superclasses = 4, MidPerSuper = 2, LeavesPerMid = 2, LeafCount = Superclasses * MidPerSuper * LeavesPerMid;
    private const int Glyph = 5;

    private readonly Split train, easy, hard;

    private ToyHierarchyData(Split train, Split easy, Split hard) { this.train = train; this.easy = easy; this.hard = hard; }

    public IReadOnlyList<string> Levels { get; } = ["coarse", "mid", "leaf"];

    /// <summary>Builds the world and the three splits from <paramref name="seed"/> (sizes default to 4,000 / 2,000 / 2,000 at 32 px).</summary>
    public static ToyHierarchyData Create(DatasetConfig config, int seed, double trainHardShare = 0.10)
    {
        var size = config.ImageSize > 0 ? config.ImageSize : 32;
        if (size < Glyph + 2) throw new ArgumentException($"DatasetConfig.ImageSize must be ≥ {Glyph + 2} px for {DatasetName}, got {size}");
        var trainCount = config.TrainSamples > 0 ? config.TrainSamples : 4000;
        var evalCount = config.EvaluationSamples > 0 ? config.EvaluationSamples : 2000;
        var world = new Random(SeedMix.Combine(seed, "world"));
        var glyphs = new List<bool[]>();
        while (glyphs.Count < LeafCount + 16)
        {
            var pattern = Enumerable.Range(0, Glyph * Glyph).Select(_ => world.NextDouble() < 0.5).ToArray();
            var ones = pattern.Count(b => b);
            if (ones < 8 || ones > 17) continue;
            if (glyphs.Any(g => g.Zip(pattern).Count(p => p.First != p.Second) < 6)) continue;
            glyphs.Add(pattern);
        }
        return new ToyHierarchyData(
            Split.Generate(glyphs, trainCount, size, trainHardShare, new Random(SeedMix.Combine(seed, "train"))),
            Split.Generate(glyphs, evalCount, size, 0.0, new Random(SeedMix.Combine(seed, "easy"))),
            Split.Generate(glyphs, evalCount, size, 1.0, new Random(SeedMix.Combine(seed, "hard"))));
    }

    public LabelMap Labels(string level) => level switch
    {
        "coarse" => new(level, Superclasses, Enumerable.Range(0, LeafCount).Select(l => l / (MidPerSuper * LeavesPerMid)).ToArray()),
        "mid" => new(level, Superclasses * MidPerSuper, Enumerable.Range(0, LeafCount).Select(l => l / LeavesPerMid).ToArray()),
        "leaf" => new(level, LeafCount, Enumerable.Range(0, LeafCount).ToArray()),
        _ => throw new ArgumentException($"level '{level}' is not a level of {DatasetName} (levels: {string.Join(", ", Levels)})"),
    };

    public IBatchSource Training(string level, int batchSize, int seed) => train.Source(Labels(level), batchSize, shuffle: true, seed);
    public IBatchSource TrainingForFeatures(string level, int batchSize) => train.Source(Labels(level), batchSize, shuffle: false, 0);

    public IReadOnlyList<(string Split, IBatchSource Source)> Evaluation(string level, int batchSize) =>
        [("easy", easy.Source(Labels(level), batchSize, false, 0)), ("hard", hard.Source(Labels(level), batchSize, false, 0))];

    /// <summary>Leaf label of every training sample (so tests can build their own label sets).</summary>
    public int[] TrainingLeaves => train.Leaves;

    public void Dispose() { }

    private sealed class Split(float[] pixels, int[] leaves, int size)
    {
        public int[] Leaves => leaves;

        public IBatchSource Source(LabelMap map, int batchSize, bool shuffle, int seed)
        {
            var labels = leaves.Select(l => (long)map.LabelOfLeaf![l]).ToArray();
            var images = tensor(pixels, [leaves.Length, 3, size, size]);
            return new InMemoryBatchSource(images, labels, map.ClassCount, batchSize, shuffle, seed);
        }

        public static Split Generate(List<bool[]> glyphs, int count, int size, double hardShare, Random random)
        {
            float[][] signs = [[1, -1, -1], [-1, 1, -1], [-1, -1, 1], [1, 1, -1]];
            const float tint = 0.15f, amplitude = 0.35f, noise = 0.10f;
            var pixels = new float[count * 3 * size * size];
            var leaves = new int[count];
            var plane = size * size;
            for (int n = 0; n < count; n++)
            {
                var leaf = random.Next(LeafCount);
                leaves[n] = leaf;
                var super = leaf / (MidPerSuper * LeavesPerMid);
                var strength = random.NextDouble() < hardShare ? 0f : (float)(0.5 + 0.5 * random.NextDouble());
                var offset = n * 3 * plane;
                for (int c = 0; c < 3; c++) Array.Fill(pixels, 0.5f + strength * tint * signs[super][c], offset + c * plane, plane);
                void Stamp(bool[] glyph)
                {
                    int y0 = random.Next(size - Glyph + 1), x0 = random.Next(size - Glyph + 1);
                    for (int y = 0; y < Glyph; y++)
                        for (int x = 0; x < Glyph; x++)
                            for (int c = 0; c < 3; c++)
                                pixels[offset + c * plane + (y0 + y) * size + x0 + x] += glyph[y * Glyph + x] ? amplitude : -amplitude;
                }
                Stamp(glyphs[leaf]);
                Stamp(glyphs[LeafCount + random.Next(glyphs.Count - LeafCount)]);
                for (int i = offset; i < offset + 3 * plane; i += 2)
                {
                    // Box–Muller: two normal draws per pair of uniforms.
                    var r = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
                    var theta = 2 * Math.PI * random.NextDouble();
                    pixels[i] = Math.Clamp(pixels[i] + noise * (float)(r * Math.Cos(theta)), 0f, 1f);
                    if (i + 1 < offset + 3 * plane) pixels[i + 1] = Math.Clamp(pixels[i + 1] + noise * (float)(r * Math.Sin(theta)), 0f, 1f);
                }
            }
            return new Split(pixels, leaves, size);
        }
    }
}
