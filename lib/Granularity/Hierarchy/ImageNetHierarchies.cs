using System.Collections.Concurrent;

namespace Granularity.Hierarchy;

/// <summary>The ImageNet class lists whose WordNet hierarchies the library knows.</summary>
public enum ImageNetLabelSet
{
    /// <summary>ILSVRC-2012, 1,000 classes in the standard training index order (sorted wnids).</summary>
    ImageNet1k,
    /// <summary>Google's ImageNet-21k label list, 21,843 classes (fall11 plus 2), as used by BiT, ViT and the paper.</summary>
    ImageNet21k,
    /// <summary>ImageNet-21K-P winter21, 10,450 classes (Ridnik et al. 2021); the only list with a published semantic tree.</summary>
    ImageNet21kP,
    /// <summary>ImageNet-21K-P fall11, 11,221 classes.</summary>
    ImageNet21kPFall11,
}

/// <summary>WordNet label trees over the ImageNet class lists, from the committed artifacts.</summary>
public static class ImageNetHierarchies
{
    private static readonly ConcurrentDictionary<(ImageNetLabelSet, ParentRule), LabelTree> cache = new();
    private static readonly ConcurrentDictionary<ImageNetLabelSet, IReadOnlyList<string>> classCache = new();

    /// <summary>The committed artifact holding a class list.</summary>
    public static string ArtifactOf(ImageNetLabelSet set) => set switch
    {
        ImageNetLabelSet.ImageNet1k => HierarchyArtifacts.ImageNet1kClasses,
        ImageNetLabelSet.ImageNet21k => HierarchyArtifacts.ImageNet21kClasses,
        ImageNetLabelSet.ImageNet21kP => HierarchyArtifacts.ImageNet21kPClasses,
        ImageNetLabelSet.ImageNet21kPFall11 => HierarchyArtifacts.ImageNet21kPFall11Classes,
        _ => throw new ArgumentOutOfRangeException(nameof(set), set, "unknown ImageNet label set"),
    };

    /// <summary>The wnids of a class list in label order (label i = line i).</summary>
    public static IReadOnlyList<string> Classes(ImageNetLabelSet set) => classCache.GetOrAdd(set, s =>
    {
        var artifact = ArtifactOf(s);
        return s == ImageNetLabelSet.ImageNet1k
            ? ReadImageNet1k().Select(c => c.Wnid).ToArray()
            : ReadClassList(HierarchyArtifacts.Lines(artifact), artifact);
    });

    /// <summary>The ImageNet-1k classes with their index and short name (from imagenet1k-classes.tsv).</summary>
    public static IReadOnlyList<(int Index, string Wnid, string ShortName)> ReadImageNet1k()
    {
        var result = new List<(int, string, string)>();
        foreach (var (line, number) in HierarchyArtifacts.Lines(HierarchyArtifacts.ImageNet1kClasses))
        {
            if (line.StartsWith("index\t", StringComparison.Ordinal)) continue;
            var fields = line.Split('\t');
            if (fields.Length < 4 || !int.TryParse(fields[0], out var index) || index != result.Count)
                throw new InvalidDataException($"{HierarchyArtifacts.ImageNet1kClasses}:{number}: expected 'index<TAB>wnid<TAB>ilsvrc2012_id<TAB>short_name' with index {result.Count}");
            result.Add((index, fields[1], fields[3]));
        }
        return result;
    }

    /// <summary>Reads a one-wnid-per-line class list; duplicates and malformed lines are errors naming the line.</summary>
    public static IReadOnlyList<string> ReadClassList(IEnumerable<(string Line, int Number)> lines, string source)
    {
        var wnids = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (raw, number) in lines)
        {
            var wnid = raw.Trim();
            if (wnid.Length == 0) continue;
            if (wnid.Length != 9 || wnid[0] != 'n' || !wnid.Skip(1).All(char.IsAsciiDigit))
                throw new InvalidDataException($"{source}:{number}: expected a wnid ('n' + 8 digits), got '{EdgeList.Shorten(wnid)}'");
            if (!seen.TryAdd(wnid, number)) throw new InvalidDataException($"{source}:{number}: wnid {wnid} already listed at line {seen[wnid]}");
            wnids.Add(wnid);
        }
        return wnids;
    }

    /// <summary>Reads a class-list file (one wnid per line, '#' comments).</summary>
    public static IReadOnlyList<string> ReadClassList(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: class list not found", path);
        return ReadClassList(File.ReadLines(path).Select((line, k) => (line, k + 1)).Where(l => l.line.Length > 0 && l.line[0] != '#'), path);
    }

    /// <summary>The tree of a class list under a parent rule (built once per process and shared).</summary>
    public static LabelTree Build(ImageNetLabelSet set, ParentRule rule) => cache.GetOrAdd((set, rule), key => BuildUncached(key.Item1, key.Item2, WordNetIsA.Committed()));

    /// <summary>Builds without the cache (the benchmark measures this), from the given WordNet graph.</summary>
    public static LabelTree BuildUncached(ImageNetLabelSet set, ParentRule rule, WordNetIsA wordnet)
    {
        var name = $"{Describe(set)} · {Describe(rule)}";
        if (rule != ParentRule.SemanticTree) return wordnet.BuildTree(Classes(set), rule, name, ArtifactOf(set));
        if (set != ImageNetLabelSet.ImageNet21kP)
            throw new ArgumentException($"the ImageNet-21K-P semantic tree is published for the winter21 list ({Describe(ImageNetLabelSet.ImageNet21kP)}) only; use nltk-first-hypernym, nltk-with-instances, pointer-order or shortest-path for {Describe(set)}");
        using var reader = HierarchyArtifacts.Open(HierarchyArtifacts.ImageNet21kPTree);
        return SemanticTree(Classes(set), EdgeList.Parse(reader, HierarchyArtifacts.ImageNet21kPTree), wordnet, name, ArtifactOf(set));
    }

    /// <summary>
    /// The published ImageNet-21K-P tree over <paramref name="classes"/>. A class missing from it (winter21 has one: the
    /// instance synset n09450163 'sun', dropped because its only hypernym is an instance pointer) is attached through its
    /// WordNet pointer-order chain to the nearest node of the tree, and the repair is recorded in the tree's notes.
    /// </summary>
    public static LabelTree SemanticTree(IReadOnlyList<string> classes, IReadOnlyList<Edge> treeEdges, WordNetIsA wordnet, string name, string classSource)
    {
        var nodes = new HashSet<string>(treeEdges.Select(e => e.Parent).Concat(treeEdges.Select(e => e.Child)), StringComparer.Ordinal);
        var edges = treeEdges.ToList();
        var notes = new List<string>();
        foreach (var wnid in classes)
        {
            if (nodes.Contains(wnid)) continue;
            var chain = new List<string> { wnid };
            var node = wnid;
            while (!nodes.Contains(node))
            {
                node = wordnet.HypernymsOf(node)[0];
                chain.Add(node);
            }
            for (int k = chain.Count - 1; k > 0; k--)
            {
                edges.Add(new Edge(chain[k], chain[k - 1], $"{wordnet.Source} (pointer order, repair)", 0));
                nodes.Add(chain[k - 1]);
            }
            notes.Add($"class {wordnet.TitleOf(wnid)} is not in the published semantic tree; attached by WordNet pointer order: {string.Join(" → ", Enumerable.Reverse(chain).Select(wordnet.TitleOf))}");
        }
        var titles = nodes.ToDictionary(w => w, wordnet.TitleOf, StringComparer.Ordinal);
        return LabelTree.FromEdges(edges, name, classes, classSource, titles, notes);
    }

    public static string Describe(ImageNetLabelSet set) => set switch
    {
        ImageNetLabelSet.ImageNet1k => "ImageNet-1k",
        ImageNetLabelSet.ImageNet21k => "ImageNet-21k",
        ImageNetLabelSet.ImageNet21kP => "ImageNet-21K-P winter21",
        ImageNetLabelSet.ImageNet21kPFall11 => "ImageNet-21K-P fall11",
        _ => set.ToString(),
    };

    public static string Describe(ParentRule rule) => rule switch
    {
        ParentRule.NltkFirstHypernym => "WordNet NLTK first hypernym",
        ParentRule.NltkWithInstances => "WordNet NLTK first hypernym with instances",
        ParentRule.PointerOrder => "WordNet pointer order",
        ParentRule.ShortestPath => "WordNet shortest path",
        ParentRule.SemanticTree => "21K-P semantic tree",
        _ => rule.ToString(),
    };
}
