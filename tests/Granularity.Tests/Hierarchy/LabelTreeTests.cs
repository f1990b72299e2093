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
    public void Builds_depths_heights_and_leaves_in_file_order()
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
    public void Depth_cuts_keep_shallow_classes_and_name_ancestors()
    {
        var tree = ToyTree();
        Assert.Equal(new[] { "root", "root", "root" }, Labels(tree.Cut(GranularityLevel.Depth(0))));
        Assert.Equal(new[] { "animal", "animal", "plant" }, Labels(tree.Cut(GranularityLevel.Depth(1))));
        Assert.Equal(new[] { "dog", "cat", "tree" }, Labels(tree.Cut(GranularityLevel.Depth(2))));
        Assert.Equal(new[] { "puppy", "cat", "oak" }, Labels(tree.Cut(GranularityLevel.Depth(3))));
        Assert.Equal(2, tree.Cut(GranularityLevel.Depth(1)).ClassCount);
    }

    [Fact]
    public void Height_cuts_take_the_highest_ancestor_within_the_height()
    {
        var tree = ToyTree();
        Assert.Equal(new[] { "puppy", "cat", "oak" }, Labels(tree.Cut(GranularityLevel.Height(0))));
        Assert.Equal(new[] { "dog", "cat", "tree" }, Labels(tree.Cut(GranularityLevel.Height(1))));
        // animal has height 2, plant height 2
        Assert.Equal(new[] { "animal", "animal", "plant" }, Labels(tree.Cut(GranularityLevel.Height(2))));
        Assert.Equal(new[] { "root", "root", "root" }, Labels(tree.Cut(GranularityLevel.Height(3))));
    }

    [Fact]
    public void Steps_up_stop_at_the_root_and_form_a_coarsening_chain()
    {
        var tree = ToyTree();
        Assert.Equal(new[] { "dog", "animal", "tree" }, Labels(tree.Cut(GranularityLevel.StepsUp(1))));
        Assert.Equal(new[] { "animal", "root", "plant" }, Labels(tree.Cut(GranularityLevel.StepsUp(2))));
        Assert.Equal(new[] { "root", "root", "root" }, Labels(tree.Cut(GranularityLevel.StepsUp(3))));
        var cuts = tree.CutAll(CutKind.StepsUp);
        for (int k = 0; k + 1 < cuts.Count; k++) Assert.True(cuts[k].IsRefinementOf(cuts[k + 1]));
    }

    [Fact]
    public void Inner_classes_keep_their_own_label_below_their_height()
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
    public void Levels_outside_the_tree_are_errors_naming_the_range()
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
    public void Bad_edge_lists_are_errors_naming_the_entry_and_line(string text, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => LabelTree.FromEdges(EdgeList.ParseText(text, "toy.txt"), "toy"));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_cycle_names_its_members()
    {
        var error = Assert.Throws<InvalidDataException>(() => LabelTree.FromEdges(EdgeList.ParseText("r a\nb c\nc d\nd b", "t.txt"), "t"));
        Assert.Contains("b", error.Message);
        Assert.Contains("→", error.Message);
        Assert.Contains("t.txt:", error.Message);
    }

    [Fact]
    public void Class_lists_are_checked_against_the_tree()
    {
        Assert.Contains("class 'wolf' (entry 2) is not in the edges of toy: a node without a parent",
            Assert.Throws<InvalidDataException>(() => ToyTree(new[] { "cat", "wolf" })).Message);
        Assert.Contains("class 'cat' is listed twice",
            Assert.Throws<InvalidDataException>(() => ToyTree(new[] { "cat", "puppy", "oak", "cat" })).Message);
        Assert.Contains("'oak'",
            Assert.Throws<InvalidDataException>(() => ToyTree(new[] { "cat", "puppy" })).Message);
    }

    [Fact]
    public void Edge_files_load_with_comma_or_whitespace_and_round_trip()
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
    public void Levels_parse(string text, CutKind kind, int value) => Assert.Equal(new GranularityLevel(kind, value), GranularityLevel.Parse(text));

    [Theory]
    [InlineData("depth")]
    [InlineData("depth:-1")]
    [InlineData("width:3")]
    public void Bad_levels_are_errors(string text) => Assert.Contains("expected depth:N", Assert.Throws<ArgumentException>(() => GranularityLevel.Parse(text)).Message);
}
