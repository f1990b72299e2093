using System.Numerics;
using Granularity.Hierarchy;

namespace Granularity.Data;

/// <summary>
/// Configuration of the synthetic hierarchical image world (superclass → middle class → leaf): a superclass colour tint
/// as the common feature, one 5×5 glyph per leaf as the rare fine feature, distractor glyphs and pixel noise
/// (docs/synthetic-hierarchy.md; the defaults are its bracketed values).
/// </summary>
public sealed record SyntheticHierarchyConfig
{
    public int Superclasses { get; init; } = 4;              // S; at most 8 (one sign pattern per superclass)
    public int MiddlePerSuperclass { get; init; } = 2;       // M
    public int LeavesPerMiddle { get; init; } = 2;           // L; K = M·L leaves per superclass
    public int DistractorGlyphs { get; init; } = 16;         // D, size of the distractor pool
    public int DistractorsPerImage { get; init; } = 1;       // n_dist
    public int ImageSize { get; init; } = 32;                // pixels, square RGB
    public int GlyphSize { get; init; } = 5;                 // glyph side in pixels
    public float Tint { get; init; } = 0.15f;                // colour strength of the superclass tint
    public float GlyphAmplitude { get; init; } = 0.35f;      // g: ± added where a glyph bit is 1 / 0
    public float NoiseSigma { get; init; } = 0.10f;          // σ of iid Gaussian pixel noise
    public float EasyStrengthMin { get; init; } = 0.5f;      // easy samples: a ~ U[min, max]
    public float EasyStrengthMax { get; init; } = 1.0f;
    public float HardStrength { get; init; } = 0f;           // hard samples: a (0 = common feature absent)

    public int LeavesPerSuperclass => MiddlePerSuperclass * LeavesPerMiddle;
    public int LeafCount => Superclasses * LeavesPerSuperclass;
    public int MiddleCount => Superclasses * MiddlePerSuperclass;

    /// <summary>The note's final configuration: S=4, M=2, L=2 (16 leaves), 32×32 images.</summary>
    public static SyntheticHierarchyConfig Default() => new();

    /// <summary>Throws an ArgumentException naming the first field outside its allowed range.</summary>
    public SyntheticHierarchyConfig Validate()
    {
        Check(Superclasses is >= 1 and <= 8, nameof(Superclasses), "in [1, 8]", Superclasses);
        Check(MiddlePerSuperclass >= 1, nameof(MiddlePerSuperclass), "≥ 1", MiddlePerSuperclass);
        Check(LeavesPerMiddle >= 1, nameof(LeavesPerMiddle), "≥ 1", LeavesPerMiddle);
        Check(DistractorGlyphs >= 0, nameof(DistractorGlyphs), "≥ 0", DistractorGlyphs);
        Check(DistractorsPerImage >= 0 && (DistractorsPerImage == 0 || DistractorGlyphs > 0), nameof(DistractorsPerImage), "≥ 0 (and > 0 only with a distractor pool)", DistractorsPerImage);
        Check(GlyphSize is >= 3 and <= 7, nameof(GlyphSize), "in [3, 7]", GlyphSize);
        Check(ImageSize >= GlyphSize && ImageSize <= 256, nameof(ImageSize), $"in [{GlyphSize}, 256]", ImageSize);
        Check(LeafCount + DistractorGlyphs <= 64, nameof(DistractorGlyphs), "such that leaves + distractors ≤ 64 glyphs", LeafCount + DistractorGlyphs);
        Check(Tint is >= 0 and <= 0.5f, nameof(Tint), "in [0, 0.5]", Tint);
        Check(GlyphAmplitude is >= 0 and <= 0.5f, nameof(GlyphAmplitude), "in [0, 0.5]", GlyphAmplitude);
        Check(NoiseSigma is >= 0 and <= 1, nameof(NoiseSigma), "in [0, 1]", NoiseSigma);
        Check(EasyStrengthMin >= 0 && EasyStrengthMin <= EasyStrengthMax, nameof(EasyStrengthMin), $"in [0, {nameof(EasyStrengthMax)}]", EasyStrengthMin);
        Check(HardStrength >= 0, nameof(HardStrength), "≥ 0", HardStrength);
        return this;
    }

    private static void Check(bool ok, string field, string allowed, object value)
    {
        if (!ok) throw new ArgumentException($"SyntheticHierarchyConfig.{field} must be {allowed}, got {value}", field);
    }

    public int SuperclassOfLeaf(int leaf) => leaf / LeavesPerSuperclass;
    public int MiddleOfLeaf(int leaf) => leaf / LeavesPerMiddle;

    /// <summary>leaf → superclass, a <c>leafToLabel</c> map for the coarse level.</summary>
    public int[] LeafToSuperclass() => Tree().Cut(GranularityLevel.Depth(1)).LeafToLabel;

    /// <summary>leaf → middle class, a <c>leafToLabel</c> map for the middle level.</summary>
    public int[] LeafToMiddle() => Tree().Cut(GranularityLevel.Depth(2)).LeafToLabel;

    /// <summary>
    /// The world's label tree, like every other hierarchy of the project: superclass <c>s0</c> → middle <c>s0.m1</c> →
    /// leaf <c>s0.m1.l0</c>, leaves in label order (leaf = s·K + m·L + l).
    /// </summary>
    public LabelTree Tree()
    {
        var edges = new List<Edge>();
        var leaves = new List<string>();
        for (int s = 0; s < Superclasses; s++)
        {
            edges.Add(new Edge("world", $"s{s}", "synthetic", edges.Count + 1));
            for (int m = 0; m < MiddlePerSuperclass; m++)
            {
                edges.Add(new Edge($"s{s}", $"s{s}.m{m}", "synthetic", edges.Count + 1));
                for (int l = 0; l < LeavesPerMiddle; l++)
                {
                    edges.Add(new Edge($"s{s}.m{m}", $"s{s}.m{m}.l{l}", "synthetic", edges.Count + 1));
                    leaves.Add($"s{s}.m{m}.l{l}");
                }
            }
        }
        return LabelTree.FromEdges(edges, "synthetic hierarchy", leaves);
    }

    /// <summary>The identity map, for leaf-level labels.</summary>
    public int[] LeafToLeaf() => Enumerable.Range(0, LeafCount).ToArray();
}

/// <summary>The fixed part of a synthetic world for one seed: leaf glyphs, distractor glyphs and superclass tints.</summary>
public sealed class SyntheticWorld
{
    private static readonly int[,] Signs =
    {
        { +1, -1, -1 }, { -1, +1, -1 }, { -1, -1, +1 }, { +1, +1, -1 },
        { +1, -1, +1 }, { -1, +1, +1 }, { +1, +1, +1 }, { -1, -1, -1 },
    };

    private SyntheticWorld(SyntheticHierarchyConfig config, int seed, ulong[] leafGlyphs, ulong[] distractorGlyphs)
    {
        Config = config;
        Seed = seed;
        LeafGlyphs = leafGlyphs;
        DistractorGlyphs = distractorGlyphs;
        Tints = new float[config.Superclasses, 3];
        for (int s = 0; s < config.Superclasses; s++)
            for (int c = 0; c < 3; c++) Tints[s, c] = config.Tint * Signs[s, c];
    }

    public SyntheticHierarchyConfig Config { get; }
    public int Seed { get; }

    /// <summary>One bit pattern per leaf, row-major, bit (y·G + x) set where the glyph is 1.</summary>
    public IReadOnlyList<ulong> LeafGlyphs { get; }

    public IReadOnlyList<ulong> DistractorGlyphs { get; }

    /// <summary>T[s, channel]: the per-channel colour offset of superclass s at full strength.</summary>
    public float[,] Tints { get; }

    /// <summary>
    /// Draws random glyphs (bit patterns over <paramref name="cells"/> cells) with <paramref name="minOnes"/>..<paramref name="maxOnes"/>
    /// ones and pairwise Hamming distance ≥ <paramref name="minDistance"/> into <paramref name="accepted"/> until it holds
    /// <paramref name="wanted"/> or <paramref name="maxAttempts"/> draws were made; true when it is full.
    /// </summary>
    internal static bool DrawGlyphs(ref SampleRandom random, List<ulong> accepted, int wanted, int cells, int minOnes, int maxOnes, int minDistance, long maxAttempts)
    {
        for (long attempt = 0; attempt < maxAttempts && accepted.Count < wanted; attempt++)
        {
            ulong pattern = 0;
            for (int bit = 0; bit < cells; bit++) if (random.NextULong() >> 63 == 1) pattern |= 1UL << bit;
            int ones = BitOperations.PopCount(pattern);
            if (ones < minOnes || ones > maxOnes) continue;
            if (accepted.Any(other => BitOperations.PopCount(other ^ pattern) < minDistance)) continue;
            accepted.Add(pattern);
        }
        return accepted.Count >= wanted;
    }

    /// <summary>Builds the world of <paramref name="seed"/>: glyphs with 8..17 ones (for 5×5; scaled for other sizes) and pairwise Hamming distance ≥ 6.</summary>
    public static SyntheticWorld Create(SyntheticHierarchyConfig config, int seed)
    {
        config.Validate();
        int cells = config.GlyphSize * config.GlyphSize;
        // The note's bounds are for 25 cells; other glyph sizes keep the same fractions.
        int minOnes = (int)Math.Round(8.0 * cells / 25), maxOnes = (int)Math.Round(17.0 * cells / 25), minDistance = (int)Math.Round(6.0 * cells / 25);
        int wanted = config.LeafCount + config.DistractorGlyphs;
        var accepted = new List<ulong>(wanted);
        var random = SampleRandom.For(seed, 0x57_4F_52_4C_44, 0); // "WORLD"
        if (!DrawGlyphs(ref random, accepted, wanted, cells, minOnes, maxOnes, minDistance, maxAttempts: 10_000_001))
            throw new InvalidOperationException($"could not find {wanted} glyphs of {cells} cells with pairwise Hamming distance ≥ {minDistance}");
        return new SyntheticWorld(config, seed, accepted.Take(config.LeafCount).ToArray(), accepted.Skip(config.LeafCount).ToArray());
    }

    /// <summary>
    /// Draws <paramref name="count"/> images: leaf uniform, hard with probability <paramref name="hardProbability"/>, the
    /// tint at strength a (easy: U[min,max], hard: HardStrength), the leaf glyph and distractors stamped at uniform
    /// positions, Gaussian noise, clipped to [0,1]. <paramref name="stream"/> separates training and test draws of one world.
    /// </summary>
    public SyntheticImageSet Sample(int count, double hardProbability, int stream)
    {
        if (count < 0) throw new ArgumentException($"count must be ≥ 0, got {count}", nameof(count));
        if (hardProbability is < 0 or > 1) throw new ArgumentException($"hardProbability must be in [0, 1], got {hardProbability}", nameof(hardProbability));
        var config = Config;
        int size = config.ImageSize, plane = size * size, imageLength = 3 * plane;
        var pixels = new float[(long)count * imageLength];
        var leaves = new int[count];
        var hard = new bool[count];
        var strength = new float[count];
        // Images are independent given their own generator, so chunks run in parallel and the result does not depend on the thread count.
        Parallel.For(0, (count + 255) / 256, chunk =>
        {
            var canvas = new float[plane]; // the channel-independent part: glyph stamps
            for (int i = chunk * 256; i < Math.Min(count, chunk * 256 + 256); i++)
            {
                var random = SampleRandom.For(Seed, 0x1000 + stream, i);
                int leaf = random.NextInt(config.LeafCount);
                bool isHard = random.Bernoulli(hardProbability);
                float a = isHard ? config.HardStrength : (float)random.Uniform(config.EasyStrengthMin, config.EasyStrengthMax);
                leaves[i] = leaf;
                hard[i] = isHard;
                strength[i] = a;
                Array.Fill(canvas, 0.5f);
                Stamp(canvas, LeafGlyphs[leaf], ref random);
                for (int d = 0; d < config.DistractorsPerImage; d++)
                    Stamp(canvas, DistractorGlyphs[random.NextInt(DistractorGlyphs.Count)], ref random);
                int superclass = config.SuperclassOfLeaf(leaf);
                var image = pixels.AsSpan((int)((long)i * imageLength), imageLength);
                float sigma = config.NoiseSigma;
                for (int c = 0; c < 3; c++)
                {
                    float offset = a * Tints[superclass, c];
                    var channel = image.Slice(c * plane, plane);
                    for (int p = 0; p < plane; p += 2)
                    {
                        var (n0, n1) = random.NextGaussianPair();
                        channel[p] = Math.Clamp(canvas[p] + offset + sigma * n0, 0f, 1f);
                        if (p + 1 < plane) channel[p + 1] = Math.Clamp(canvas[p + 1] + offset + sigma * n1, 0f, 1f);
                    }
                }
            }
        });
        return new SyntheticImageSet(this, pixels, leaves, hard, strength);
    }

    private void Stamp(float[] canvas, ulong glyph, ref SampleRandom random)
    {
        int size = Config.ImageSize, g = Config.GlyphSize, positions = size - g + 1;
        int top = random.NextInt(positions), left = random.NextInt(positions);
        float amplitude = Config.GlyphAmplitude;
        for (int y = 0; y < g; y++)
            for (int x = 0; x < g; x++)
                canvas[(top + y) * size + left + x] += ((glyph >> (y * g + x)) & 1) == 1 ? amplitude : -amplitude;
    }

    /// <summary>The note's datasets for one seed: training (N=4000, p_hard=0.10), easy test (2000, none hard), hard test (2000, all hard).</summary>
    public (SyntheticImageSet Train, SyntheticImageSet EasyTest, SyntheticImageSet HardTest) StandardSplits(
        int trainCount = 4000, double trainHardProbability = 0.10, int testCount = 2000) =>
        (Sample(trainCount, trainHardProbability, stream: 0), Sample(testCount, 0, stream: 1), Sample(testCount, 1, stream: 2));
}

/// <summary>Images of a synthetic world (N×3×H×W floats in [0,1], CHW per image) with each sample's leaf, hard flag and common-feature strength.</summary>
public sealed class SyntheticImageSet
{
    internal SyntheticImageSet(SyntheticWorld world, float[] pixels, int[] leaves, bool[] hard, float[] strength)
    {
        World = world;
        Pixels = pixels;
        Leaves = leaves;
        IsHard = hard;
        CommonStrength = strength;
    }

    public SyntheticWorld World { get; }
    public int Count => Leaves.Length;
    public int ImageSize => World.Config.ImageSize;

    /// <summary>All images, sample-major, each 3×H×W (channel planes).</summary>
    public float[] Pixels { get; }

    /// <summary>The leaf (finest class) of each sample.</summary>
    public int[] Leaves { get; }

    /// <summary>HardSample flags: true where the common (superclass colour) feature is absent or weakened.</summary>
    public bool[] IsHard { get; }

    /// <summary>The strength a of the common feature in each sample.</summary>
    public float[] CommonStrength { get; }

    public int Superclass(int index) => World.Config.SuperclassOfLeaf(Leaves[index]);

    /// <summary>Per-sample labels through a leaf → label map (e.g. <see cref="SyntheticHierarchyConfig.LeafToSuperclass"/>).</summary>
    public int[] LabelsFrom(int[] leafToLabel)
    {
        if (leafToLabel.Length != World.Config.LeafCount)
            throw new ArgumentException($"leafToLabel has {leafToLabel.Length} entries; the synthetic world has {World.Config.LeafCount} leaves", nameof(leafToLabel));
        return Leaves.Select(leaf => leafToLabel[leaf]).ToArray();
    }
}
