namespace Granularity.Data;

/// <summary>
/// A small real image set held in memory with a two-level label tree (target class → leaf class), an optional second
/// label function per image (Omniglot's drawing number), and fixed train / validation / test index lists. Pixels are
/// normalised per channel with the mean and standard deviation of the training split.
/// </summary>
public sealed class HierarchicalImageSet
{
    private HierarchicalImageSet(string name, int channels, int imageSize, float[] pixels, int[] target, int[] leaf, int[]? drawing,
        IReadOnlyList<string> targetNames, IReadOnlyList<string> leafNames, int[] targetOfLeaf, int[] train, int[] validation, int[] test, string splitRule)
    {
        Name = name; Channels = channels; ImageSize = imageSize; Target = target; Leaf = leaf; DrawingNumber = drawing;
        TargetNames = targetNames; LeafNames = leafNames; TargetOfLeaf = targetOfLeaf; Train = train; Validation = validation; Test = test; SplitRule = splitRule;
        (Mean, Std) = ChannelStatistics(pixels, channels, imageSize * imageSize, train);
        int plane = imageSize * imageSize;
        for (int i = 0; i < target.Length; i++)
            for (int c = 0; c < channels; c++)
            {
                var span = pixels.AsSpan((i * channels + c) * plane, plane);
                for (int p = 0; p < plane; p++) span[p] = (span[p] - Mean[c]) / Std[c];
            }
        Pixels = pixels;
    }

    public string Name { get; }
    public int Channels { get; }
    public int ImageSize { get; }
    /// <summary>N × C × S × S normalised floats.</summary>
    public float[] Pixels { get; }
    public int[] Target { get; }
    public int[] Leaf { get; }
    /// <summary>Omniglot's drawing number (1–20) per image; null for datasets without one.</summary>
    public int[]? DrawingNumber { get; }
    public IReadOnlyList<string> TargetNames { get; }
    public IReadOnlyList<string> LeafNames { get; }
    public int[] TargetOfLeaf { get; }
    public int[] Train { get; }
    public int[] Validation { get; }
    public int[] Test { get; }
    /// <summary>How the splits were made, in words.</summary>
    public string SplitRule { get; }
    /// <summary>Per-channel mean and standard deviation of the training split (before normalisation).</summary>
    public float[] Mean { get; }
    public float[] Std { get; }
    public int Count => Target.Length;
    public int TargetClasses => TargetNames.Count;
    public int LeafClasses => LeafNames.Count;
    public int PixelsPerImage => Channels * ImageSize * ImageSize;

    /// <summary>
    /// Omniglot split by drawing number, so no drawing is in two splits: numbers 1–<paramref name="lastTrain"/> train,
    /// up to <paramref name="lastValidation"/> validate, the rest test. Target = alphabet, leaf = character.
    /// </summary>
    public static HierarchicalImageSet FromOmniglot(OmniglotImages images, string name, int lastTrain = 14, int lastValidation = 16)
    {
        if (lastTrain < 1 || lastValidation <= lastTrain || lastValidation >= Omniglot.DrawingsPerCharacter)
            throw new ArgumentException($"drawing-number split must satisfy 1 ≤ lastTrain < lastValidation < {Omniglot.DrawingsPerCharacter}, got {lastTrain}/{lastValidation}");
        var numbers = images.DrawingNumberOf;
        int[] Where(Func<int, bool> keep) => Enumerable.Range(0, images.Count).Where(i => keep(numbers[i])).ToArray();
        return new HierarchicalImageSet(name, 1, images.ImageSize, (float[])images.Pixels.Clone(), images.AlphabetOf, images.CharacterOf, numbers,
            images.Alphabets, images.Characters, images.AlphabetOfCharacter,
            Where(n => n <= lastTrain), Where(n => n > lastTrain && n <= lastValidation), Where(n => n > lastValidation),
            $"drawing numbers 1–{lastTrain} train, {lastTrain + 1}–{lastValidation} validation, {lastValidation + 1}–{Omniglot.DrawingsPerCharacter} test");
    }

    /// <summary>
    /// CIFAR-100: the official test set; <paramref name="validationPerClass"/> training images of each class (a fixed seeded
    /// draw) held out for validation. Target = superclass, leaf = class. <paramref name="trainLimitPerClass"/> keeps a class-balanced
    /// prefix of the training images (0 = all), for tests and quick runs.
    /// </summary>
    public static HierarchicalImageSet FromCifar100(Cifar100Split train, Cifar100Split test, Cifar100Tree tree, int validationPerClass = 50, int seed = 0, int trainLimitPerClass = 0)
    {
        int n = train.Count + test.Count;
        var pixels = new float[(long)n * Cifar100.PixelBytes];
        for (long i = 0; i < train.Pixels.Length; i++) pixels[i] = train.Pixels[i] / 255f;
        for (long i = 0; i < test.Pixels.Length; i++) pixels[train.Pixels.Length + i] = test.Pixels[i] / 255f;
        var coarse = train.Coarse.Concat(test.Coarse).Select(b => (int)b).ToArray();
        var fine = train.Fine.Concat(test.Fine).Select(b => (int)b).ToArray();
        var random = new Random(seed);
        var trainIndices = new List<int>();
        var validation = new List<int>();
        foreach (var group in Enumerable.Range(0, train.Count).GroupBy(i => fine[i]).OrderBy(g => g.Key))
        {
            var members = group.OrderBy(_ => random.Next()).ToList();
            if (members.Count <= validationPerClass)
                throw new InvalidDataException($"{train.Source}: class {group.Key} ({tree.FineNames[group.Key]}) has {members.Count} training images, not more than the {validationPerClass} held out for validation");
            validation.AddRange(members.Take(validationPerClass));
            var rest = members.Skip(validationPerClass);
            trainIndices.AddRange(trainLimitPerClass > 0 ? rest.Take(trainLimitPerClass) : rest);
        }
        trainIndices.Sort();
        validation.Sort();
        var testIndices = Enumerable.Range(train.Count, test.Count).ToArray();
        return new HierarchicalImageSet("cifar100", 3, Cifar100.ImageSize, pixels, coarse, fine, null, tree.CoarseNames, tree.FineNames, tree.CoarseOfFine,
            trainIndices.ToArray(), validation.ToArray(), testIndices,
            $"official test set; {validationPerClass} training images per class held out for validation (seed {seed})" + (trainLimitPerClass > 0 ? $"; {trainLimitPerClass} training images per class kept" : ""));
    }

    /// <summary>The normalised images of <paramref name="indices"/> as one contiguous N×C×S×S array.</summary>
    public float[] Gather(IReadOnlyList<int> indices)
    {
        int size = PixelsPerImage;
        var result = new float[(long)indices.Count * size];
        for (int i = 0; i < indices.Count; i++) Pixels.AsSpan(indices[i] * size, size).CopyTo(result.AsSpan(i * size, size));
        return result;
    }

    /// <summary>
    /// The mean normalised training image of each leaf class (L × C·S·S): pixel-space prototypes, used to cluster leaves
    /// with features that no network of the experiment learned.
    /// </summary>
    public float[] LeafPrototypes()
    {
        int size = PixelsPerImage;
        var sums = new double[LeafClasses * size];
        var counts = new int[LeafClasses];
        foreach (var i in Train)
        {
            counts[Leaf[i]]++;
            var row = Pixels.AsSpan(i * size, size);
            for (int p = 0; p < size; p++) sums[Leaf[i] * size + p] += row[p];
        }
        var result = new float[sums.Length];
        for (int l = 0; l < LeafClasses; l++)
        {
            if (counts[l] == 0) throw new InvalidDataException($"{Name}: leaf class {l} ({LeafNames[l]}) has no training images");
            for (int p = 0; p < size; p++) result[l * size + p] = (float)(sums[l * size + p] / counts[l]);
        }
        return result;
    }

    private static (float[] Mean, float[] Std) ChannelStatistics(float[] pixels, int channels, int plane, int[] train)
    {
        if (train.Length == 0) throw new InvalidDataException("the training split is empty: cannot compute the normalisation");
        var mean = new float[channels];
        var std = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            foreach (var i in train)
            {
                var span = pixels.AsSpan((i * channels + c) * plane, plane);
                for (int p = 0; p < plane; p++) { sum += span[p]; squares += (double)span[p] * span[p]; }
            }
            double count = (double)train.Length * plane, m = sum / count;
            mean[c] = (float)m;
            std[c] = (float)Math.Max(1e-6, Math.Sqrt(Math.Max(0, squares / count - m * m)));
        }
        return (mean, std);
    }
}
