namespace Granularity.Hierarchy;

/// <summary>
/// The label each finest class (leaf) gets at one granularity: <see cref="LeafToLabel"/>[leaf] ∈ 0..ClassCount-1. Labels
/// are numbered in order of first appearance over the leaves, so the numbering is deterministic.
/// </summary>
public sealed class LabelMap
{
    private readonly string[] classNames;
    private readonly string[] classTitles;

    /// <summary>Makes a map from an explicit leaf → label array; every label 0..classCount-1 must be used.</summary>
    public LabelMap(string level, int[] leafToLabel, IReadOnlyList<string> classNames, IReadOnlyList<string>? classTitles = null, int[]? classNodes = null)
    {
        ArgumentNullException.ThrowIfNull(leafToLabel);
        if (classNames.Count == 0 && leafToLabel.Length > 0) throw new ArgumentException("a label map needs at least one class", nameof(classNames));
        var used = new bool[classNames.Count];
        for (int leaf = 0; leaf < leafToLabel.Length; leaf++)
        {
            var label = leafToLabel[leaf];
            if ((uint)label >= (uint)classNames.Count)
                throw new ArgumentException($"leaf {leaf} has label {label}, outside 0..{classNames.Count - 1}", nameof(leafToLabel));
            used[label] = true;
        }
        var unused = Array.IndexOf(used, false);
        if (unused >= 0) throw new ArgumentException($"class {unused} ('{classNames[unused]}') has no leaf: a label map has no empty classes", nameof(leafToLabel));
        if (classTitles is not null && classTitles.Count != classNames.Count) throw new ArgumentException("one title per class", nameof(classTitles));
        if (classNodes is not null && classNodes.Length != classNames.Count) throw new ArgumentException("one node per class", nameof(classNodes));
        Level = level;
        LeafToLabel = leafToLabel;
        this.classNames = classNames.ToArray();
        this.classTitles = (classTitles ?? classNames).ToArray();
        ClassNodes = classNodes;
    }

    /// <summary>Which level this is, e.g. "depth 3", "9 up", "family", "supercategory".</summary>
    public string Level { get; }

    /// <summary>Label of each finest class; index with the class (leaf) number.</summary>
    public int[] LeafToLabel { get; }

    public int LeafCount => LeafToLabel.Length;
    public int ClassCount => classNames.Length;

    /// <summary>Class ids (tree node ids, e.g. wnids or taxon names).</summary>
    public IReadOnlyList<string> ClassNames => classNames;

    /// <summary>Readable class names (e.g. "n02084071 dog").</summary>
    public IReadOnlyList<string> ClassTitles => classTitles;

    /// <summary>The tree node of each class, when the map is a tree cut; null otherwise.</summary>
    public int[]? ClassNodes { get; }

    /// <summary>The label of finest class <paramref name="leaf"/> at this level.</summary>
    public int CoarseLabelOf(int leaf) => LeafToLabel[leaf];

    /// <summary>The class number of <paramref name="name"/>; an error naming the level when absent.</summary>
    public int ClassIndex(string name)
    {
        var k = Array.IndexOf(classNames, name);
        return k >= 0 ? k : throw new ArgumentException($"'{name}' is not a class at level {Level} ({ClassCount:N0} classes)");
    }

    /// <summary>Labels images: <paramref name="destination"/>[i] = LeafToLabel[<paramref name="leafOfImage"/>[i]].</summary>
    public void LabelImages(ReadOnlySpan<int> leafOfImage, Span<int> destination)
    {
        if (destination.Length < leafOfImage.Length) throw new ArgumentException("destination is shorter than the image list", nameof(destination));
        var map = LeafToLabel;
        for (int i = 0; i < leafOfImage.Length; i++)
        {
            var leaf = leafOfImage[i];
            if ((uint)leaf >= (uint)map.Length) throw new ArgumentOutOfRangeException(nameof(leafOfImage), $"image {i} has class {leaf}, outside 0..{map.Length - 1}");
            destination[i] = map[leaf];
        }
    }

    /// <summary>Labels images given their finest class; returns a new array.</summary>
    public int[] LabelImages(ReadOnlySpan<int> leafOfImage)
    {
        var result = new int[leafOfImage.Length];
        LabelImages(leafOfImage, result);
        return result;
    }

    /// <summary>Number of finest classes under each label.</summary>
    public int[] LeavesPerClass()
    {
        var count = new int[ClassCount];
        foreach (var label in LeafToLabel) count[label]++;
        return count;
    }

    /// <summary>Number of images under each label, given images per finest class.</summary>
    public long[] ImagesPerClass(ReadOnlySpan<long> imagesPerLeaf)
    {
        if (imagesPerLeaf.Length != LeafCount) throw new ArgumentException($"expected {LeafCount} image counts (one per class), got {imagesPerLeaf.Length}", nameof(imagesPerLeaf));
        var count = new long[ClassCount];
        for (int leaf = 0; leaf < LeafCount; leaf++) count[LeafToLabel[leaf]] += imagesPerLeaf[leaf];
        return count;
    }

    /// <summary>
    /// The coarsening map from this (pretraining) level to <paramref name="target"/>: map[pretrainingLabel] = targetLabel.
    /// Throws when some pretraining class spans two target classes (then the target is not a coarsening; see
    /// <see cref="Alignment"/> for how far off it is).
    /// </summary>
    public int[] CoarseningMapTo(LabelMap target)
    {
        if (target.LeafCount != LeafCount) throw new ArgumentException($"levels over different classes: {LeafCount} vs {target.LeafCount} leaves", nameof(target));
        var map = new int[ClassCount];
        Array.Fill(map, -1);
        var witness = new int[ClassCount];
        for (int leaf = 0; leaf < LeafCount; leaf++)
        {
            int p = LeafToLabel[leaf], t = target.LeafToLabel[leaf];
            if (map[p] < 0) { map[p] = t; witness[p] = leaf; }
            else if (map[p] != t)
                throw new InvalidOperationException(
                    $"{target.Level} is not a coarsening of {Level}: class '{classTitles[p]}' holds leaf {witness[p]} (→ '{target.classTitles[map[p]]}') " +
                    $"and leaf {leaf} (→ '{target.classTitles[t]}')");
        }
        return map;
    }

    /// <summary>Whether <paramref name="target"/> is a function of this labelling (every class inside one target class).</summary>
    public bool IsRefinementOf(LabelMap target)
    {
        try { CoarseningMapTo(target); return true; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Builds a map from the label node of each leaf, numbering labels by first appearance.</summary>
    internal static LabelMap FromNodes(LabelTree tree, string level, int[] labelNodeOfLeaf)
    {
        var labelOfNode = new Dictionary<int, int>();
        var leafToLabel = new int[labelNodeOfLeaf.Length];
        var nodes = new List<int>();
        for (int leaf = 0; leaf < labelNodeOfLeaf.Length; leaf++)
        {
            var node = labelNodeOfLeaf[leaf];
            if (!labelOfNode.TryGetValue(node, out var label)) { label = nodes.Count; labelOfNode[node] = label; nodes.Add(node); }
            leafToLabel[leaf] = label;
        }
        return new LabelMap(level, leafToLabel, nodes.Select(tree.Id).ToArray(), nodes.Select(tree.Title).ToArray(), nodes.ToArray());
    }

    /// <summary>Groups leaves by a key (e.g. the iNat2021 supercategory field), labels numbered by first appearance.</summary>
    public static LabelMap FromKeys(string level, IReadOnlyList<string> keyOfLeaf)
    {
        var labelOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new List<string>();
        var leafToLabel = new int[keyOfLeaf.Count];
        for (int leaf = 0; leaf < keyOfLeaf.Count; leaf++)
        {
            if (!labelOf.TryGetValue(keyOfLeaf[leaf], out var label)) { label = names.Count; labelOf[keyOfLeaf[leaf]] = label; names.Add(keyOfLeaf[leaf]); }
            leafToLabel[leaf] = label;
        }
        return new LabelMap(level, leafToLabel, names);
    }

    /// <summary>The same labelling under another level name (e.g. "family" for depth 5 of iNat2021).</summary>
    public LabelMap Named(string level) => IsPerImage ? PerImage(level, ClassCount) : new(level, LeafToLabel, classNames, classTitles, ClassNodes);

    /// <summary>A map from a leaf → label array whose classes are numbered, not named ("0", "1", …).</summary>
    public static LabelMap Numbered(string level, int[] leafToLabel, int classCount) =>
        new(level, leafToLabel, Enumerable.Range(0, classCount).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());

    /// <summary>
    /// A level whose labels are given per image (random labels, clusters, one label per image): it has classes but no leaf
    /// → label map, so it cannot label unseen images.
    /// </summary>
    public static LabelMap PerImage(string level, int classCount)
    {
        if (classCount < 1) throw new ArgumentException($"level '{level}': a per-image level needs at least one class, got {classCount}", nameof(classCount));
        return new LabelMap(level, classCount);
    }

    private LabelMap(string level, int classCount)
    {
        Level = level;
        LeafToLabel = [];
        classNames = Enumerable.Range(0, classCount).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        classTitles = classNames;
        IsPerImage = true;
    }

    /// <summary>True for a level defined per image (<see cref="PerImage"/>): <see cref="LeafToLabel"/> is empty.</summary>
    public bool IsPerImage { get; }

    /// <summary>The leaf → label map, or null for a level defined per image.</summary>
    public int[]? LabelOfLeaf => IsPerImage ? null : LeafToLabel;

    public override string ToString() => $"{Level}: {ClassCount:N0} classes over {LeafCount:N0} leaves";
}
