using Granularity.Hierarchy;
using Xunit;

namespace Granularity.Tests.Hierarchy;

public class LabelTreeTests
{
    // root
    // ├── animal
    // │   ├── dog ── puppy
    // │   └── cat
    // └── plant ── tree ── oak
    internal const string Toy = """
        # a toy tree
        root animal
        animal dog
        dog puppy
        animal cat
        root,plant
        plant tree
        tree oak
        """;

    internal static LabelTree ToyTree(IReadOnlyList<string>? classes = null) => LabelTree.FromEdges(EdgeList.ParseText(Toy, "toy.txt"), "toy", classes, "toy classes");

    private static string[] Labels(LabelMap map) => map.LeafToLabel.Select(l => map.ClassNames[l]).ToArray();

    [Fact]
    public void BuildsDepthsHeightsAndLeavesInFileOrder()
    {
        var tree = ToyTree();
        Assert.Equal(8, tree.NodeCount);
        Assert.Equal(new[] { "puppy", "cat", "oak" }, tree.LeafIds);
        Assert.Equal("root", tree.Id(tree.Root));
        Assert.Equal(3, tree.Depth(tree.NodeIndex("puppy")));
        Assert.Equal(3, tree.RootHeight);
        Assert.Equal(1, tree.Height(tree.NodeIndex("dog")));
        Assert.Equal(0, tree.Height(tree.NodeIndex("cat")));
        Assert.Equal((2, 3), (tree.MinLeafDepth, tree.MaxLeafDepth));
        Assert.Equal(new[] { "root", "animal", "dog", "puppy" }, tree.PathFromRoot(tree.NodeIndex("puppy")).Select(tree.Id));
        Assert.Equal(new[] { "dog", "cat" }, tree.Children(tree.NodeIndex("animal")).ToArray().Select(tree.Id));
        Assert.Equal(3, tree.LeavesBelow()[tree.Root]);
    }

    [Fact]
    public void AForestHasExactlyTheNamedRootsEachAtDepthZero()
    {
        // The toy tree plus 'sun', a class that is a root of its own (NLTK's instance-only synsets are such roots).
        var forest = LabelTree.FromEdges(EdgeList.ParseText(Toy, "toy.txt"), "toy forest", new[] { "puppy", "cat", "oak", "sun" }, "toy classes", roots: new[] { "root", "sun" });
        Assert.Equal(new[] { "root", "sun" }, forest.Roots.Select(forest.Id));
        Assert.Equal((0, 0), (forest.Depth(forest.NodeIndex("sun")), forest.MinLeafDepth));
        Assert.Equal(new[] { "root", "root", "root", "sun" }, Labels(forest.Cut(GranularityLevel.Depth(0))));
        Assert.Equal(new[] { "root", "root", "root", "sun" }, Labels(forest.Cut(GranularityLevel.StepsUp(3))));
        Assert.Equal(new[] { "animal", "animal", "tree", "sun" }, Labels(forest.Cut(GranularityLevel.UpDown(1))));
        Assert.Equal(new[] { "root", "root", "root", "sun" }, Labels(forest.Cut(GranularityLevel.Height(3))));
        Assert.Equal(new[] { "root", "sun" }, forest.BreadthFirstOrder().Take(2).Select(forest.Id));
        Assert.Contains("forest of 2 roots", Assert.Throws<InvalidOperationException>(() => forest.Root).Message);

        var unnamed = Assert.Throws<InvalidDataException>(() => LabelTree.FromEdges(EdgeList.ParseText(Toy + "\nmoon star\n", "toy.txt"), "toy forest", roots: new[] { "root" }));
        Assert.Contains("1 node(s) without a parent are not among the 1 named roots: 'moon' (first at toy.txt:9)", unnamed.Message);
        var withParent = Assert.Throws<InvalidDataException>(() => LabelTree.FromEdges(EdgeList.ParseText(Toy, "toy.txt"), "toy forest", roots: new[] { "root", "dog" }));
        Assert.Contains("toy.txt:3: 'dog' is named a root of toy forest but has the parent 'animal'", withParent.Message);
        Assert.Contains("2 roots", Assert.Throws<InvalidDataException>(() => LabelTree.FromEdges(EdgeList.ParseText(Toy + "\nmoon star\n", "toy.txt"), "toy")).Message);
    }

    [Fact]
    public void DepthCutsKeepShallowClassesAndNameAncestors()
    {
        var tree = ToyTree();
        Assert.Equal(new[] { "root", "root", "root" }, Labels(tree.Cut(GranularityLevel.Depth(0))));
        Assert.Equal(new[] { "animal", "animal", "plant" }, Labels(tree.Cut(GranularityLevel.Depth(1))));
        Assert.Equal(new[] { "dog", "cat", "tree" }, Labels(tree.Cut(GranularityLevel.Depth(2))));
        Assert.Equal(new[] { "puppy", "cat", "oak" }, Labels(tree.Cut(GranularityLevel.Depth(3))));
        Assert.Equal(2, tree.Cut(GranularityLevel.Depth(1)).ClassCount);
    }

    [Fact]
    public void HeightCutsTakeTheHighestAncestorWithinTheHeight()
    {
        var tree = ToyTree();
        Assert.Equal(new[] { "puppy", "cat", "oak" }, Labels(tree.Cut(GranularityLevel.Height(0))));
        Assert.Equal(new[] { "dog", "cat", "tree" }, Labels(tree.Cut(GranularityLevel.Height(1))));
        // animal has height 2, plant height 2
        Assert.Equal(new[] { "animal", "animal", "plant" }, Labels(tree.Cut(GranularityLevel.Height(2))));
        Assert.Equal(new[] { "root", "root", "root" }, Labels(tree.Cut(GranularityLevel.Height(3))));
    }

    [Fact]
    public void StepsUpStopAtTheRootAndFormACoarseningChain()
    {
        var tree = ToyTree();
        Assert.Equal(new[] { "dog", "animal", "tree" }, Labels(tree.Cut(GranularityLevel.StepsUp(1))));
        Assert.Equal(new[] { "animal", "root", "plant" }, Labels(tree.Cut(GranularityLevel.StepsUp(2))));
        Assert.Equal(new[] { "root", "root", "root" }, Labels(tree.Cut(GranularityLevel.StepsUp(3))));
        var cuts = tree.CutAll(CutKind.StepsUp);
        for (int k = 0; k + 1 < cuts.Count; k++) Assert.True(cuts[k].IsRefinementOf(cuts[k + 1]));
    }

    [Fact]
    public void InnerClassesKeepTheirOwnLabelBelowTheirHeight()
    {
        // Like ImageNet-21k: 'dog' is a class and has the class 'puppy' below it.
        var tree = ToyTree(new[] { "cat", "dog", "puppy", "oak" });
        Assert.Equal(4, tree.LeafCount);
        Assert.Equal(new[] { "cat", "dog", "dog", "tree" }, Labels(tree.Cut(GranularityLevel.Height(1))));
        Assert.Equal(new[] { "cat", "dog", "dog", "tree" }, Labels(tree.Cut(GranularityLevel.Depth(2))));
        Assert.Equal(new[] { "animal", "animal", "dog", "tree" }, Labels(tree.Cut(GranularityLevel.StepsUp(1))));
        Assert.Throws<ArgumentException>(() => tree.LeafIndex("animal"));
    }

    [Fact]
    public void LevelsOutsideTheTreeAreErrorsNamingTheRange()
    {
        var tree = ToyTree();
        var error = Assert.Throws<ArgumentException>(() => tree.Cut(GranularityLevel.Depth(4)));
        Assert.Contains("0..3", error.Message);
        Assert.Throws<ArgumentException>(() => tree.Cut(GranularityLevel.StepsUp(-1)));
        Assert.Equal(4, tree.Levels(CutKind.Height).Count);
    }

    [Theory]
    [InlineData("a b\na b", "toy.txt:2: duplicate edge 'a b' (first at toy.txt:1)")]
    [InlineData("a a", "toy.txt:1: 'a' is given as its own parent")]
    [InlineData("a b\nc b", "toy.txt:2: 'b' gets a second parent 'c'")]
    [InlineData("r a\nb c\nc b", "cycle")]
    [InlineData("a b\nc d", "2 roots (nodes without a parent): 'a' (first at toy.txt:1), 'c' (first at toy.txt:2)")]
    [InlineData("a b c", "toy.txt:1: expected 'parent child'")]
    [InlineData("a,", "toy.txt:1: expected 'parent child'")]
    [InlineData("", "the edge list is empty")]
    public void BadEdgeListsAreErrorsNamingTheEntryAndLine(string text, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => LabelTree.FromEdges(EdgeList.ParseText(text, "toy.txt"), "toy"));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ACycleNamesItsMembers()
    {
        var error = Assert.Throws<InvalidDataException>(() => LabelTree.FromEdges(EdgeList.ParseText("r a\nb c\nc d\nd b", "t.txt"), "t"));
        Assert.Contains("b", error.Message);
        Assert.Contains("→", error.Message);
        Assert.Contains("t.txt:", error.Message);
    }

    [Fact]
    public void ClassListsAreCheckedAgainstTheTree()
    {
        Assert.Contains("class 'wolf' (entry 2) is not in the edges of toy: a node without a parent",
            Assert.Throws<InvalidDataException>(() => ToyTree(new[] { "cat", "wolf" })).Message);
        Assert.Contains("class 'cat' is listed twice",
            Assert.Throws<InvalidDataException>(() => ToyTree(new[] { "cat", "puppy", "oak", "cat" })).Message);
        Assert.Contains("'oak'",
            Assert.Throws<InvalidDataException>(() => ToyTree(new[] { "cat", "puppy" })).Message);
    }

    [Fact]
    public void EdgeFilesLoadWithCommaOrWhitespaceAndRoundTrip()
    {
        using var folder = new TempFolder("toy");
        var path = folder.Combine("toy.txt");
        try
        {
            File.WriteAllText(path, "Life,Animalia\nAnimalia,Canis lupus\nLife Plantae\nPlantae\tQuercus\n");
            var tree = LabelTree.Load(path);
            Assert.Equal(new[] { "Canis lupus", "Quercus" }, tree.LeafIds);
            var again = LabelTree.FromEdges(EdgeList.ParseText(EdgeList.Format(tree.Edges())), "again");
            Assert.Equal(tree.LeafIds, again.LeafIds);
            Assert.Equal(tree.NodeCount, again.NodeCount);
        }
        finally { File.Delete(path); }
        Assert.Throws<FileNotFoundException>(() => LabelTree.Load(path));
    }

    [Theory]
    [InlineData("depth:3", CutKind.Depth, 3)]
    [InlineData("height:0", CutKind.Height, 0)]
    [InlineData("up:9", CutKind.StepsUp, 9)]
    [InlineData("steps-up:2", CutKind.StepsUp, 2)]
    [InlineData("leaves", CutKind.StepsUp, 0)]
    public void LevelsParse(string text, CutKind kind, int value) => Assert.Equal(new GranularityLevel(kind, value), GranularityLevel.Parse(text));

    [Theory]
    [InlineData("depth")]
    [InlineData("depth:-1")]
    [InlineData("width:3")]
    public void BadLevelsAreErrors(string text) => Assert.Contains("expected depth:N", Assert.Throws<ArgumentException>(() => GranularityLevel.Parse(text)).Message);
}
