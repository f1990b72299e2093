using System.Security.Cryptography;
using System.Text;
using Granularity.Hierarchy;
using Xunit;

namespace Granularity.Tests.Hierarchy;

/// <summary>
/// Each WordNet rule against its source. Huh, Agrawal and Efros 2016 ("What makes ImageNet good for transfer learning?",
/// arXiv 1608.08614) released their ImageNet-1k label sets (github.com/minyoungg/wmigftl, label_sets/hierarchy): 18
/// down_up sets (one per depth of NLTK's first-hypernym tree) and 3 up_down sets. Expected values are the class count and a
/// fingerprint (first 16 hex digits of SHA-256 over the sorted wnids joined by single spaces) of each published
/// synset_words_*.txt file; the rule must give the same wnids, not just the same count.
/// </summary>
public class WordNetRuleReferenceTests
{
    // down_up sets by depth of the cut (depth 17 … 0): synset_words_down_up_{count}.txt.
    public static readonly TheoryData<int, int, string> HuhDownUp = new()
    {
        { 17, 999, "214d472a27dc5e50" }, { 16, 977, "2cf7ebfb2bcf8e91" }, { 15, 918, "1f7f68337bb3ea82" },
        { 14, 877, "904e6807cbb430f2" }, { 13, 820, "9d28381aca93df31" }, { 12, 753, "101424d9cc8bfa06" },
        { 11, 694, "72a4a57d88e0297d" }, { 10, 596, "2ab1897c36dbd63d" }, { 9, 486, "f01f5df6592675c4" },
        { 8, 345, "bc1725f373ae5f2f" }, { 7, 206, "fe74a1d2866d427a" }, { 6, 79, "9b2a64e5b428647d" },
        { 5, 36, "26f8c6e88a98427c" }, { 4, 17, "723e60b005256907" }, { 3, 9, "34df1028ac8fd4f7" },
        { 2, 5, "0b70844b5d1231f0" }, { 1, 2, "ecb94ac0a153f26e" }, { 0, 1, "bc56c29730072558" },
    };

    // up_down sets after 1, 2, 3 rounds: synset_words_up_down_{count}.txt.
    public static readonly TheoryData<int, int, string> HuhUpDown = new()
    {
        { 1, 127, "849c8907dd735bae" }, { 2, 10, "38b9925c3222e007" }, { 3, 2, "ecb94ac0a153f26e" },
    };

    private static LabelTree Nltk1k => ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet1k, ParentRule.NltkFirstHypernym);

    private static string Fingerprint(LabelMap map) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(' ', map.ClassNames.Order(StringComparer.Ordinal)))))[..16];

    [Theory]
    [MemberData(nameof(HuhDownUp))]
    public void HuhDownUpLabelSetsAreTheDepthCutsOfTheNltkTree(int depth, int classes, string fingerprint)
    {
        var tree = Nltk1k;
        Assert.Equal((4, 18), (tree.MinLeafDepth, tree.MaxLeafDepth)); // their wnid_depth: 4 … 18, so 18 sets
        var cut = tree.Cut(GranularityLevel.Depth(depth));
        Assert.Equal((classes, fingerprint), (cut.ClassCount, Fingerprint(cut)));
    }

    [Theory]
    [MemberData(nameof(HuhUpDown))]
    public void HuhUpDownLabelSetsAreTheUpDownCutsOfTheNltkTree(int rounds, int classes, string fingerprint)
    {
        var cut = Nltk1k.Cut(GranularityLevel.UpDown(rounds));
        Assert.Equal((classes, fingerprint), (cut.ClassCount, Fingerprint(cut)));
    }

    [Fact]
    public void ThePointerOrderRuleDoesNotGiveHuhEtAlLabelSets()
    {
        var pointer = ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet1k, ParentRule.PointerOrder);
        var published = HuhDownUp.Select(row => ((int)row[0], (int)row[1])).ToList();
        var depthCounts = published.Where(p => p.Item1 <= pointer.MaxLeafDepth).Select(p => (p.Item1, pointer.Cut(GranularityLevel.Depth(p.Item1)).ClassCount)).ToList();
        Assert.NotEqual(published.Where(p => p.Item1 <= pointer.MaxLeafDepth).ToList(), depthCounts);
        Assert.NotEqual(127, pointer.Cut(GranularityLevel.UpDown(1)).ClassCount);
    }

    [Fact]
    public void NltkOrdersHypernymsBySynsetNameAndLeavesOutInstancePointers()
    {
        var wordnet = WordNetIsA.Committed();
        Assert.Equal("dog.n.01", wordnet.NltkNameOf("n02084071"));
        // elephant.n.01: data.noun lists proboscidean.n.01 first; NLTK sorts pachyderm.n.01 first. Its classes (Indian and
        // African elephant) hang below pachyderm under NLTK's rule and below proboscidean in pointer order.
        const string elephant = "n02503517", proboscidean = "n02503127", pachyderm = "n02453108";
        Assert.Equal(new[] { proboscidean, pachyderm }, wordnet.HypernymsOf(elephant));
        Assert.Equal(new[] { pachyderm, proboscidean }, wordnet.NltkHypernymsOf(elephant));
        Assert.Equal(("proboscidean.n.01", "pachyderm.n.01"), (wordnet.NltkNameOf(proboscidean), wordnet.NltkNameOf(pachyderm)));
        Assert.Equal(pachyderm, Nltk1k.Id(Nltk1k.Parent(Nltk1k.NodeIndex(elephant))));
        var pointer1k = ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet1k, ParentRule.PointerOrder);
        Assert.Equal(proboscidean, pointer1k.Id(pointer1k.Parent(pointer1k.NodeIndex(elephant))));
        const string sun = "n09450163";
        Assert.Empty(wordnet.NltkHypernymsOf(sun)); // only '@i' (star): an NLTK root
        Assert.Equal("n09444100", wordnet.HypernymsOf(sun)[0]);
        var tree21k = ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet21k, ParentRule.NltkFirstHypernym);
        Assert.Equal(-1, tree21k.Parent(tree21k.NodeIndex(sun)));
        Assert.Equal(new[] { WordNetIsA.Entity, sun, "n10994097", "n11196627", "n11318824" }.Order(), tree21k.Roots.Select(tree21k.Id).Order());
        Assert.Contains(tree21k.Notes, n => n.Contains("sun") && n.Contains("NLTK root"));
        Assert.Contains("forest of 5 roots", Assert.Throws<InvalidOperationException>(() => tree21k.Root).Message);
        var attached21k = ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet21k, ParentRule.NltkWithInstances);
        Assert.Equal("n09444100", attached21k.Id(attached21k.Parent(attached21k.NodeIndex(sun))));
        Assert.Equal(WordNetIsA.Entity, attached21k.Id(attached21k.Root));
        var pointer21k = ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet21k, ParentRule.PointerOrder);
        Assert.Equal("n09444100", pointer21k.Id(pointer21k.Parent(pointer21k.NodeIndex(sun))));
    }

    /// <summary>
    /// NLTK's own counts (data-manifests/hierarchies/reference/nltk-wordnet-counts.csv, computed once with NLTK 3.8 over
    /// WordNet 3.0 by eng/nltk-reference-counts.py): every level of every cut kind, class count, root count and
    /// fingerprint, for ImageNet-1k and Google's ImageNet-21k, under both NLTK rules.
    /// </summary>
    [Theory]
    [InlineData(ParentRule.NltkFirstHypernym, ImageNetLabelSet.ImageNet1k)]
    [InlineData(ParentRule.NltkFirstHypernym, ImageNetLabelSet.ImageNet21k)]
    [InlineData(ParentRule.NltkWithInstances, ImageNetLabelSet.ImageNet1k)]
    [InlineData(ParentRule.NltkWithInstances, ImageNetLabelSet.ImageNet21k)]
    public void EveryLevelMatchesNltksOwnCounts(ParentRule rule, ImageNetLabelSet set)
    {
        var setKey = set == ImageNetLabelSet.ImageNet1k ? "imagenet1k" : "imagenet21k";
        var rows = NltkReferenceRows().Where(r => r.Rule == HierarchySources.RuleKey(rule) && r.LabelSet == setKey).ToList();
        var tree = ImageNetHierarchies.Build(set, rule);
        foreach (var kind in Enum.GetValues<CutKind>())
        {
            var kindKey = kind switch { CutKind.Depth => "depth", CutKind.Height => "height", CutKind.StepsUp => "up", _ => "up-down" };
            var expected = rows.Where(r => r.Cut == kindKey).Select(r => (r.Level, r.Classes, r.Fingerprint)).ToList();
            Assert.NotEmpty(expected);
            var ours = tree.CutAll(kind).Select((m, level) => (level, m.ClassCount, Fingerprint(m))).ToList();
            Assert.Equal(expected, ours);
        }
        Assert.All(rows, r => Assert.Equal(r.Roots, tree.Roots.Count));
    }

    private static IEnumerable<(string Rule, string LabelSet, string Cut, int Level, int Classes, int Roots, string Fingerprint)> NltkReferenceRows()
    {
        var path = Path.Combine(HierarchyArtifacts.Folder, "reference", "nltk-wordnet-counts.csv");
        foreach (var line in File.ReadLines(path).Where(l => l.Length > 0 && l[0] != '#').Skip(1))
        {
            var f = line.Split(',');
            yield return (f[0], f[1], f[2], int.Parse(f[3]), int.Parse(f[4]), int.Parse(f[5]), f[6]);
        }
    }

    [Fact]
    public void UpDownMergesLabelsBelowAnotherLiftedLabelWhateverTheOrder()
    {
        // root ← a ← b ← c (class), a ← d (class), root ← e (class): round 1 lifts c→b, d→a, e→root; b lies below a,
        // and a below root, so every class ends at root (3 classes → 1). Huh et al.'s pairwise loop gives the same.
        var tree = LabelTree.FromEdges(EdgeList.ParseText("r a\na b\nb c\na d\nr e\n"), "toy", new[] { "c", "d", "e" });
        Assert.Equal(new[] { "r" }, tree.Cut(GranularityLevel.UpDown(1)).ClassNames);
        var deeper = LabelTree.FromEdges(EdgeList.ParseText("r a\na b\nb c\nr d\nd e\ne f\n"), "toy2", new[] { "c", "f" });
        Assert.Equal(new[] { "b", "e" }, deeper.Cut(GranularityLevel.UpDown(1)).ClassNames.Order());
        Assert.Equal(new[] { "r" }, deeper.Cut(GranularityLevel.UpDown(3)).ClassNames);
        Assert.Equal(GranularityLevel.UpDown(2), GranularityLevel.Parse("up-down:2"));
    }

    [Theory]
    [InlineData(ParentRule.NltkFirstHypernym)]
    [InlineData(ParentRule.PointerOrder)]
    [InlineData(ParentRule.ShortestPath)]
    public void NoRuleGivesThePapers38ClassesAndTheNearestLevelIsReported(ParentRule rule)
    {
        var tree = ImageNetHierarchies.Build(ImageNetLabelSet.ImageNet21k, rule);
        Assert.DoesNotContain(Enum.GetValues<CutKind>().SelectMany(tree.CutAll), m => m.ClassCount == 38);
        var nearest = tree.NearestCut(38);
        Assert.All(Enum.GetValues<CutKind>().SelectMany(tree.CutAll), m => Assert.True(Math.Abs(m.ClassCount - 38) >= Math.Abs(nearest.ClassCount - 38)));
        var line = HierarchySources.Load("imagenet21k", rule).NearestPaperLevel9();
        Assert.Contains($"{nearest.Level} with {nearest.ClassCount:N0} classes", line);
    }

    [Fact]
    public void TheOldRuleNameIsRefusedWithTheTwoRulesItBecame()
    {
        var error = Assert.Throws<ArgumentException>(() => HierarchySources.ParseRule("first-hypernym"));
        Assert.Contains("nltk-first-hypernym", error.Message);
        Assert.Contains("pointer-order", error.Message);
        Assert.Equal(ParentRule.NltkFirstHypernym, HierarchySources.ParseRule("nltk_first_hypernym"));
    }
}
