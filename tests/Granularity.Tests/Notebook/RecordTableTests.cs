using Granularity.Notebook;
using Granularity.Theory;
using Xunit;

namespace Granularity.Tests.Notebook;

public sealed class RecordTableTests
{
    public enum Colour { Red, Blue }
    public sealed record Inner(int Width, double Rate);
    public sealed record Sample(string Name, IReadOnlyList<int> Seeds, Inner Model, Colour Colour, IReadOnlyList<Inner> Stages, double? Missing)
    {
        public int Derived => Seeds.Count * 2;   // computed: not a stored field
    }

    private static readonly Sample Value = new("quick <run>", [1, 2, 3], new Inner(64, 0.001), Colour.Blue, [new Inner(8, 0.5), new Inner(16, 0.25)], null);

    [Fact]
    public void RowsListStoredFieldsInOrderWithListsJoinedAndNestedRecordsFlattened()
    {
        // Namespace Granularity.Tests: nested records of ours are flattened with dotted names.
        var rows = RecordTable.Rows(Value);
        Assert.Equal(
            [("Name", "quick <run>"), ("Seeds", "1, 2, 3"), ("Model.Width", "64"), ("Model.Rate", "0.001"), ("Colour", "Blue"),
             ("Stages", "{ Width = 8, Rate = 0.5 }, { Width = 16, Rate = 0.25 }"), ("Missing", "—")],
            rows);
        Assert.DoesNotContain(rows, r => r.Field == "Derived");
    }

    [Fact]
    public void LongListsShowTheirCount()
    {
        var cell = RecordTable.Cell(Enumerable.Range(0, 40).ToArray());
        Assert.EndsWith("… (40 in all)", cell);
        Assert.StartsWith("0, 1, 2", cell);
        Assert.Equal("(none)", RecordTable.Cell(Array.Empty<int>()));
    }

    [Fact]
    public void HtmlIsATableWithEveryTextEscaped()
    {
        var html = RecordTable.Html(Value);
        Assert.StartsWith("<table", html);
        Assert.Contains("<caption style=\"text-align:left\"><b>Sample</b></caption>", html);
        Assert.Contains("<code>Model.Width</code></td><td style=\"text-align:left\">64</td>", html);
        Assert.Contains("quick &lt;run&gt;", html);
        Assert.DoesNotContain("<run>", html);
        Assert.Equal(RecordTable.Rows(Value).Count, System.Text.RegularExpressions.Regex.Matches(html, "<tr><td").Count);
    }

    [Fact]
    public void TheLibrarysConfigsReadAsTablesWithoutTypeNames()
    {
        var types = RecordTable.DisplayedTypes();
        Assert.Contains(typeof(TheoryConfig), types);
        Assert.Contains(typeof(TheorySweep), types);
        Assert.Contains(typeof(Granularity.Experiments.RealImagesConfig), types);
        Assert.Contains(typeof(Granularity.Notebook.NotebookEnvironment), types);
        // TheoryConfig keeps its fields in explicit backing fields behind init accessors; they are its rows, its derived values are not.
        var theory = RecordTable.Rows(new TheoryConfig());
        Assert.Contains(theory, r => r.Field == "Dimension" && r.Value == "200");
        Assert.Contains(RecordTable.Rows(TheorySweep.Quick()), r => r.Field == "Base.Dimension");
        foreach (var config in new object[] { TheorySweep.Quick(), Granularity.Experiments.RealImagesConfig.Quick(), Granularity.Experiments.FineToCoarseConfig.Quick() })
        {
            var rows = RecordTable.Rows(config);
            Assert.NotEmpty(rows);
            Assert.All(rows, r => Assert.DoesNotMatch(@"System\.|z__ReadOnlyArray|`1", r.Value));
        }
    }
}
