using System.Text;
using Granularity.Hierarchy;
using Xunit;

namespace Granularity.Tests.Hierarchy;

/// <summary>The iNat2021 annotation JSON and CSV readers and the WordNet readers, on small fixtures and bad input.</summary>
public class SourceParsingTests
{
    private static string Category(int id, string genus = "\"Lumbricus\"", string extra = "") =>
        $$"""{"id": {{id}}, "name": "Species {{id}}", "common_name": "worm", "supercategory": "Animalia", "kingdom": "Animalia", "phylum": "Annelida", "class": "Clitellata", "order": "Haplotaxida", "family": "Lumbricidae", "genus": {{genus}}, "specific_epithet": "e{{id}}", "image_dir_name": "x"{{extra}}}""";

    private static IReadOnlyList<Inat2021Category> ReadJson(string json) =>
        Inat2021.ReadCategoriesJson(new MemoryStream(Encoding.UTF8.GetBytes(json)), "val.json");

    [Fact]
    public void OfficialJsonCategoriesAreReadPastALargeImagesArray()
    {
        // 3 MB of images before the categories: the reader streams through them in 64 KiB pieces.
        var images = string.Join(",", Enumerable.Range(0, 40_000).Select(i => $$"""{"id": {{i}}, "file_name": "val/00000_x/{{Guid.NewGuid()}}.jpg", "width": 500, "height": 375}"""));
        var json = $$"""{"info": {"year": 2021}, "images": [{{images}}], "categories": [{{Category(1, extra: ", \"nested\": {\"a\": [1, 2]}")}}, {{Category(0)}}], "annotations": []}""";
        var categories = ReadJson(json);
        Assert.Equal(new[] { 0, 1 }, categories.Select(c => c.Id));
        Assert.Equal("Lumbricus", categories[1].Genus);
        var tree = Inat2021.BuildTree(categories, "val.json");
        Assert.Equal(2, tree.LeafCount);
        Assert.Equal(7, tree.MaxLeafDepth);
    }

    [Theory]
    [InlineData("\"genus\": \"Lumbricus\",", "", "taxonomy field 'genus' is missing")]
    [InlineData("\"Lumbricus\"", "5", "field 'genus' must be a non-empty string, found the number 5")]
    [InlineData("\"Lumbricus\"", "[\"a\"]", "field 'genus' must be a non-empty string, found an array")]
    [InlineData("\"Lumbricus\"", "\" \"", "field 'genus' must be a non-empty string")]
    [InlineData("\"id\": 0,", "\"id\": \"zero\",", "field 'id' must be a whole number")]
    public void MistypedOrMissingJsonFieldsAreErrorsNamingTheRecord(string find, string replace, string expected)
    {
        var json = $$"""{"categories": [{{Category(0).Replace(find, replace)}}]}""";
        var error = Assert.Throws<InvalidDataException>(() => ReadJson(json));
        Assert.Contains("val.json: categories[0]", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("""{"images": []}""", "no 'categories' array")]
    [InlineData("""[1, 2]""", "must be a JSON object")]
    [InlineData("""{"categories": {"a": 1}}""", "'categories' must be an array")]
    [InlineData("""{"categories": [1]}""", "categories[0] must be an object")]
    [InlineData("""{"categories": [""", "not valid JSON")]
    public void JsonWithoutUsableCategoriesIsAnError(string json, string expected) =>
        Assert.Contains(expected, Assert.Throws<InvalidDataException>(() => ReadJson(json)).Message);

    [Fact]
    public void CategoryIdsAndNamesMustNotCollide()
    {
        Assert.Contains("id 0 appears twice", Assert.Throws<InvalidDataException>(() => ReadJson($$"""{"categories": [{{Category(0)}}, {{Category(0)}}]}""")).Message);
        Assert.Contains("id 1 is missing", Assert.Throws<InvalidDataException>(() => ReadJson($$"""{"categories": [{{Category(0)}}, {{Category(2)}}]}""")).Message);
        var twin = Category(1).Replace("Species 1", "Species 0");
        Assert.Contains("share the name 'Species 0'", Assert.Throws<InvalidDataException>(() => ReadJson($$"""{"categories": [{{Category(0)}}, {{twin}}]}""")).Message);
    }

    [Fact]
    public void CsvCategoriesRoundTripAndReportLines()
    {
        var categories = new[]
        {
            new Inat2021Category(0, "Malus ×domestica", "Plantae", "Tracheophyta", "Magnoliopsida", "Rosales", "Rosaceae", "Malus", "×domestica", "Plants"),
            new Inat2021Category(1, "Odd, name", "Plantae", "Tracheophyta", "Magnoliopsida", "Rosales", "Rosaceae", "Malus", "x\"y", "Plants"),
        };
        var text = Inat2021.FormatCategoriesCsv(categories);
        Assert.Equal(categories, Inat2021.ParseCategoriesCsv(new StringReader(text), "c.csv"));
        var broken = text.Replace(",Rosaceae,Malus,×domestica", ",,Malus,×domestica");
        Assert.Contains("c.csv:2 (id 0): taxonomy field 'family' is empty", Assert.Throws<InvalidDataException>(() => Inat2021.ParseCategoriesCsv(new StringReader(broken), "c.csv")).Message);
        Assert.Contains("column 'kingdom' is missing", Assert.Throws<InvalidDataException>(() => Inat2021.ParseCategoriesCsv(new StringReader("id,name\n"), "c.csv")).Message);
        Assert.Contains("c.csv:2: expected 10 fields", Assert.Throws<InvalidDataException>(() => Inat2021.ParseCategoriesCsv(new StringReader(text.Split('\n')[0] + "\n0,a\n"), "c.csv")).Message);
    }

    // A three-synset data.noun in WordNet's format is not WordNet 3.0: the version check must say so.
    private const string ToyDataNoun = """
          1 This software and database is being provided to you, the LICENSEE, by
        00001740 03 n 01 entity 0 001 ~ 00001930 n 0000 | that which is perceived
        00001930 03 n 01 physical_entity 0 001 @ 00001740 n 0000 | an entity that has physical existence
        """;

    [Fact]
    public void ADataNounThatIsNotWordNet30IsRefused()
    {
        using var folder = new TempFolder("data-noun");
        var path = folder.Combine("data.noun");
        try
        {
            File.WriteAllText(path, ToyDataNoun + "\n");
            Assert.Contains("not WordNet 3.0", Assert.Throws<InvalidDataException>(() => WordNetIsA.ParseDataNoun(path)).Message);
            File.WriteAllText(path, "00001740 03 n zz entity 0 000 | bad word count\n");
            Assert.Contains($"{path}:1: word count 'zz'", Assert.Throws<InvalidDataException>(() => WordNetIsA.ParseDataNoun(path)).Message);
        }
        finally { File.Delete(path); }
        Assert.Throws<FileNotFoundException>(() => WordNetIsA.ParseDataNoun(path));
    }

    // entity ← a ← c ← d, entity ← b ← d: d's first hypernym is c (depth 3 path), its shortest path goes through b.
    private static WordNetIsA ToyWordNet() => WordNetIsA.FromArtifacts(
        new StringReader("n00001740 n00000001\nn00001740 n00000002\nn00000001 n00000003\nn00000003 n00000004\nn00000002 n00000004\n"), "isa.txt",
        new StringReader("n00001740\tentity\nn00000001\ta\nn00000002\tb\nn00000003\tc\nn00000004\td, dee\n"), "lemmas.tsv");

    [Fact]
    public void ParentRulesChooseFirstHypernymOrShortestPath()
    {
        var wordnet = ToyWordNet();
        Assert.Equal(new[] { "n00000003", "n00000002" }, wordnet.HypernymsOf("n00000004"));
        var first = wordnet.BuildTree(new[] { "n00000004" }, ParentRule.PointerOrder, "first", "toy");
        var shortest = wordnet.BuildTree(new[] { "n00000004" }, ParentRule.ShortestPath, "shortest", "toy");
        Assert.Equal(new[] { "n00001740", "n00000001", "n00000003", "n00000004" }, first.PathFromRoot(first.LeafNode(0)).Select(first.Id));
        Assert.Equal(new[] { "n00001740", "n00000002", "n00000004" }, shortest.PathFromRoot(shortest.LeafNode(0)).Select(shortest.Id));
        Assert.Equal("n00000004 d", first.Title(first.LeafNode(0)));
        var error = Assert.Throws<InvalidDataException>(() => wordnet.BuildTree(new[] { "n00000004", "n01440764" }, ParentRule.PointerOrder, "t", "my-classes.txt"));
        Assert.Contains("my-classes.txt entry 2: wnid 'n01440764' not found", error.Message);
    }

    [Fact]
    public void WordNetArtifactsWithDanglingSynsetsAreRefused()
    {
        Assert.Contains("has edges but no line in lemmas.tsv", Assert.Throws<InvalidDataException>(() => WordNetIsA.FromArtifacts(
            new StringReader("n00001740 n00000001\n"), "isa.txt", new StringReader("n00001740\tentity\n"), "lemmas.tsv")).Message);
        Assert.Contains("has no hypernym but is not the root", Assert.Throws<InvalidDataException>(() => WordNetIsA.FromArtifacts(
            new StringReader(""), "isa.txt", new StringReader("n00001740\tentity\nn00000001\ta\n"), "lemmas.tsv")).Message);
        Assert.Contains("isa.txt:1: expected two wnids", Assert.Throws<InvalidDataException>(() => WordNetIsA.FromArtifacts(
            new StringReader("entity a\n"), "isa.txt", new StringReader(""), "lemmas.tsv")).Message);
    }

    [Fact]
    public void ClassListsReportBadAndRepeatedWnidsByLine()
    {
        Assert.Contains("list.txt:2: wnid n00000001 already listed at line 1",
            Assert.Throws<InvalidDataException>(() => ImageNetHierarchies.ReadClassList(new[] { ("n00000001", 1), ("n00000001", 2) }, "list.txt")).Message);
        Assert.Contains("list.txt:1: expected a wnid",
            Assert.Throws<InvalidDataException>(() => ImageNetHierarchies.ReadClassList(new[] { ("dog", 1) }, "list.txt")).Message);
    }
}
