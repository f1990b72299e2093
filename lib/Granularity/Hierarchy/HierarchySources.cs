using Granularity.Core;
using Granularity.Runs;

namespace Granularity.Hierarchy;

/// <summary>A loaded hierarchy: its tree, its named levels (iNat2021 ranks and supercategories) and images per class where known.</summary>
/// <param name="Key">The source key, e.g. "inat2021", "imagenet21k".</param>
/// <param name="Tree">The label tree; its leaves are the source's classes in label order.</param>
/// <param name="NamedLevels">Levels with names (coarse to fine); empty for WordNet sources.</param>
/// <param name="ImagesPerLeaf">Images per class where the counts are known (iNat2021 train_mini: 50 each), else null.</param>
/// <param name="ImageCountsSource">What the image counts count, e.g. "iNat2021 train_mini".</param>
public sealed record HierarchySource(string Key, LabelTree Tree, IReadOnlyList<LabelMap> NamedLevels, long[]? ImagesPerLeaf, string? ImageCountsSource)
{
    /// <summary>
    /// The labelling named by <paramref name="level"/>: a named level ("family", "supercategory") or a cut
    /// ("depth:3", "height:2", "up:9", "leaves").
    /// </summary>
    public LabelMap Level(string level)
    {
        var named = NamedLevels.FirstOrDefault(m => string.Equals(m.Level, level.Trim(), StringComparison.OrdinalIgnoreCase));
        if (named is not null) return named;
        try { return Tree.Cut(GranularityLevel.Parse(level)); }
        catch (ArgumentException error) when (NamedLevels.Count > 0 && !level.Contains(':'))
        {
            throw new ArgumentException($"{error.Message}; {Key} also has the named levels {string.Join(", ", NamedLevels.Select(m => m.Level))}");
        }
    }

    /// <summary>
    /// For ImageNet-21k: the cut of this tree (any kind) nearest the paper's "granularity level 9" of 38 classes, as a
    /// sentence; null for other sources. No rule we know gives 38.
    /// </summary>
    public string? NearestPaperLevel9()
    {
        if (Key != "imagenet21k") return null;
        var nearest = Tree.NearestCut(38);
        var stepsUp9 = Tree.Cut(GranularityLevel.StepsUp(9)).ClassCount;
        return $"the paper's level 9 has 38 classes (rule unpublished); nearest under {Tree.Name}: {nearest.Level} with {nearest.ClassCount:N0} classes (9 up: {stepsUp9:N0})";
    }

    /// <summary>Summaries of the named levels and of every cut of <paramref name="kind"/>.</summary>
    public IReadOnlyList<LevelSummary> Summaries(CutKind kind)
    {
        var images = ImagesPerLeaf is null ? default : ImagesPerLeaf.AsSpan();
        var result = new List<LevelSummary>();
        foreach (var named in NamedLevels) result.Add(LevelSummary.Of(named.Level, named, images));
        result.AddRange(Tree.Summaries(kind, images));
        return result;
    }
}

/// <summary>The hierarchies the command line and notebooks name by key.</summary>
public static class HierarchySources
{
    /// <summary>Known keys; any other value is read as the path of a <c>parent child</c> edge-list file.</summary>
    public static readonly IReadOnlyList<string> Keys = new[] { "inat2021", "imagenet1k", "imagenet21k", "imagenet21k-p", "imagenet21k-p-fall11" };

    /// <summary>
    /// The WordNet parent rule used when none is named, and by the ImageNet-21k experiment's <c>imagenet21k-up:N</c> levels:
    /// NLTK's first hypernym, the one rule whose published level sets (Huh et al. 2016) the tests reproduce exactly.
    /// </summary>
    public const ParentRule DefaultRule = ParentRule.NltkFirstHypernym;

    /// <summary>Loads a source by key (or edge-list path) under a WordNet parent rule (ignored for iNat2021 and edge lists).</summary>
    public static HierarchySource Load(string key, ParentRule rule = DefaultRule)
    {
        switch (key.Trim().ToLowerInvariant())
        {
            case "inat2021":
                var categories = Inat2021.CommittedCategories();
                var tree = Inat2021.Tree();
                return new HierarchySource("inat2021", tree, Inat2021.NamedLevels(tree, categories),
                    Enumerable.Repeat((long)Inat2021.TrainMiniImagesPerSpecies, tree.LeafCount).ToArray(), "iNat2021 train_mini (50 images per species)");
            case "imagenet1k": return FromImageNet("imagenet1k", ImageNetLabelSet.ImageNet1k, rule);
            case "imagenet21k": return FromImageNet("imagenet21k", ImageNetLabelSet.ImageNet21k, rule);
            case "imagenet21k-p": return FromImageNet("imagenet21k-p", ImageNetLabelSet.ImageNet21kP, rule);
            case "imagenet21k-p-fall11": return FromImageNet("imagenet21k-p-fall11", ImageNetLabelSet.ImageNet21kPFall11, rule);
        }
        var path = key.StartsWith("edges:", StringComparison.Ordinal) ? key[6..] : key;
        if (!File.Exists(path))
            throw new ArgumentException($"unknown hierarchy source '{key}': expected one of {string.Join(", ", Keys)} or the path of a 'parent child' edge list");
        return new HierarchySource(path, LabelTree.Load(path), Array.Empty<LabelMap>(), null, null);
    }

    private static HierarchySource FromImageNet(string key, ImageNetLabelSet set, ParentRule rule) =>
        new(key, ImageNetHierarchies.Build(set, rule), Array.Empty<LabelMap>(), null, null);

    /// <summary>The rule keys the command line accepts.</summary>
    public const string RuleKeys = "nltk-first-hypernym, nltk-with-instances, pointer-order, shortest-path or semantic-tree";

    /// <summary>"nltk-first-hypernym", "nltk-with-instances", "pointer-order", "shortest-path", "semantic-tree" (case and '-'/'_' insensitive).</summary>
    public static ParentRule ParseRule(string text) => text.Trim().ToLowerInvariant().Replace('_', '-') switch
    {
        "nltk-first-hypernym" or "nltk" => ParentRule.NltkFirstHypernym,
        "nltk-with-instances" => ParentRule.NltkWithInstances,
        "pointer-order" or "pointer" => ParentRule.PointerOrder,
        "shortest-path" or "shortest" => ParentRule.ShortestPath,
        "semantic-tree" or "semantic" => ParentRule.SemanticTree,
        "first-hypernym" or "first" => throw new ArgumentException(
            $"parent rule '{text}' was split in two: nltk-first-hypernym (NLTK's hypernyms()[0], synsets sorted by name, as Huh et al. 2016) or pointer-order (data.noun's first pointer, the old first-hypernym)"),
        _ => throw new ArgumentException($"unknown parent rule '{text}'; expected {RuleKeys}"),
    };

    public static string RuleKey(ParentRule rule) => rule switch
    {
        ParentRule.NltkFirstHypernym => "nltk-first-hypernym",
        ParentRule.NltkWithInstances => "nltk-with-instances",
        ParentRule.PointerOrder => "pointer-order",
        ParentRule.ShortestPath => "shortest-path",
        _ => "semantic-tree",
    };
}

/// <summary>Regenerates the committed hierarchy artifacts from their upstream sources.</summary>
public static class HierarchyArtifactBuilder
{
    /// <summary>What a regeneration wrote.</summary>
    public sealed record Written(IReadOnlyList<string> Files, int Synsets, int Edges, string DataNounSha256);

    /// <summary>
    /// Writes wordnet30-isa.txt and wordnet30-lemmas.tsv into <paramref name="folder"/>: the hypernym edges (all of them,
    /// a DAG) over the classes of every ImageNet class list in that folder and all their ancestors, from WordNet 3.0's data.noun.
    /// </summary>
    public static Written BuildWordNet(string dataNounPath, string? folder = null)
    {
        folder ??= HierarchyArtifacts.Folder;
        var full = WordNetIsA.ParseDataNoun(dataNounPath);
        var classes = new List<(string, string)>();
        foreach (var set in Enum.GetValues<ImageNetLabelSet>())
        {
            var artifact = ImageNetHierarchies.ArtifactOf(set);
            var path = Path.Combine(folder, artifact);
            var wnids = set == ImageNetLabelSet.ImageNet1k
                ? File.ReadLines(path).Select((l, k) => (l, k + 1)).Where(x => x.l.Length > 0 && x.l[0] != '#' && !x.l.StartsWith("index\t")).Select(x => (x.l.Split('\t')[1], $"{path}:{x.Item2}"))
                : File.ReadLines(path).Select((l, k) => (l.Trim(), $"{path}:{k + 1}")).Where(x => x.Item1.Length > 0 && x.Item1[0] != '#');
            classes.AddRange(wnids);
        }
        var subset = full.Restrict(classes);
        var sha = WordNetIsA.Sha256(dataNounPath);
        var header = new[]
        {
            "WordNet 3.0 noun is-a edges 'hypernym hyponym' over the ImageNet classes of this folder and all their ancestors.",
            $"Generated by `granularity hierarchy build-wordnet` from data.noun (Debian wordnet-base 3.0), sha256 {sha}.",
            "Lines are sorted by hyponym; a hyponym's hypernyms keep data.noun's order, '@' pointers before '@i' (instance) pointers,",
            "so its first line is its first hypernym in pointer order (wordnet30-nltk.tsv says how many are '@i'). Do not edit by hand: regenerate.",
        };
        var edgesPath = Path.Combine(folder, HierarchyArtifacts.WordNetIsA);
        var lemmasPath = Path.Combine(folder, HierarchyArtifacts.WordNetLemmas);
        AtomicFile.WriteAllText(edgesPath, subset.FormatEdges(header));
        AtomicFile.WriteAllText(lemmasPath, subset.FormatLemmas(new[]
        {
            "WordNet 3.0 lemmas of the synsets in wordnet30-isa.txt: 'wnid<TAB>lemma, lemma, …' (underscores as spaces).",
            $"Generated by `granularity hierarchy build-wordnet` from data.noun, sha256 {sha}. WordNet 3.0 licence: Princeton University, see README.md.",
        }));
        var nltkPath = Path.Combine(folder, HierarchyArtifacts.WordNetNltk);
        if (!subset.HasNltkNames) throw new FileNotFoundException($"{dataNounPath}: index.noun must sit beside data.noun (NLTK's synset names come from it)");
        AtomicFile.WriteAllText(nltkPath, subset.FormatNltk(new[]
        {
            "WordNet 3.0 facts NLTK 3 uses, for the synsets of wordnet30-isa.txt: 'wnid<TAB>NLTK synset name<TAB>number of '@i' hypernyms'.",
            "NLTK names a synset after its first lemma (lower case) and that lemma's sense number in index.noun; hypernyms() sorts by",
            "that name and leaves out '@i' pointers (the last N hypernyms of a synset in wordnet30-isa.txt). Generated by",
            $"`granularity hierarchy build-wordnet` from data.noun (sha256 {sha}) and index.noun (sha256 {WordNetIsA.Sha256(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(dataNounPath))!, "index.noun"))}).",
        }));
        return new Written(new[] { edgesPath, lemmasPath, nltkPath }, subset.SynsetCount, subset.EdgeCount, sha);
    }

    /// <summary>Writes inat2021-categories.csv from an official annotation JSON (train/train_mini/val) or a categories CSV.</summary>
    public static Written ImportInat2021(string source, string? folder = null)
    {
        folder ??= HierarchyArtifacts.Folder;
        var categories = source.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? Inat2021.ReadCategoriesJson(source) : Inat2021.ReadCategoriesCsv(source);
        Inat2021.BuildTree(categories, source); // validates before anything is written
        var path = Path.Combine(folder, HierarchyArtifacts.Inat2021Categories);
        AtomicFile.WriteAllText(path, Inat2021.FormatCategoriesCsv(categories));
        return new Written(new[] { path }, categories.Count, 0, WordNetIsA.Sha256(source));
    }
}
