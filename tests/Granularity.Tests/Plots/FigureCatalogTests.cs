using Granularity.Plots;
using Granularity.Tests.Experiments;
using Xunit;

namespace Granularity.Tests.Plots;

/// <summary>The catalog against the tiny hard-sample study's runs: figures with runs are exported, the others are reported.</summary>
[Collection(HardSamplesCollection.Name)]
public sealed class FigureCatalogTests(HardSamplesFixture fixture)
{
    private static readonly string[] PaperFigureIds = ["ImageNet", "iNat", "theory-model", "theory-dynamics", "theory-accuracy", "hierarchy", "ours"];

    private string Output() => Path.Combine(fixture.Root, "figures-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public void ExportsFiguresWhoseRunsExistAndReportsTheMissingOnes()
    {
        var output = Output();
        var context = new FigureContext(fixture.Root, Full: false, HardSamples: fixture.Config);
        var outcomes = FigureCatalog.Export(output, context, ["hard-gain", "hard-definitions", "theory-model", "theory-dynamics", "iNat"]);
        var byId = outcomes.ToDictionary(o => o.Figure.Id);

        foreach (var id in new[] { "hard-gain", "hard-definitions", "theory-model" })
        {
            Assert.True(byId[id].Exported, $"{id}: {byId[id].Error ?? byId[id].Missing?.Message}");
            var html = File.ReadAllText(Path.Combine(output, id + ".html"));
            Assert.Contains("plotly", html, StringComparison.OrdinalIgnoreCase);
            Assert.True(html.Length > 1_000_000, "self-contained: plotly.js is embedded");
            if (FigureExport.BrowserPath is not null)
            {
                Assert.True(new FileInfo(Path.Combine(output, id + ".png")).Length > 1000);
                Assert.Contains("<svg", File.ReadAllText(Path.Combine(output, id + ".svg")));
            }
        }

        var theory = byId["theory-dynamics"].Missing;
        Assert.NotNull(theory);
        Assert.Contains(theory!.Commands, c => c.StartsWith("eng/granularity theory sweep --quick", StringComparison.Ordinal) && c.Contains("--runs " + fixture.Root, StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(output, "theory-dynamics.html")));
        var inat = byId["iNat"].Missing;
        Assert.NotNull(inat);
        Assert.Contains(inat!.Commands, c => c.StartsWith("eng/granularity experiment inat2021 --runs ", StringComparison.Ordinal));

        var report = File.ReadAllText(Path.Combine(output, "figures.md"));
        Assert.Contains("| [hard-gain](#hard-gain) | 06 | ours |", report);
        // The gallery: each exported figure with its image (a relative link that resolves), notebook and the run folders it read.
        var section = report[report.IndexOf("\n## hard-gain\n", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var links = System.Text.RegularExpressions.Regex.Matches(section, @"\]\(([^)#]+)\)").Select(m => m.Groups[1].Value).ToList();
        Assert.Contains(links, l => l.EndsWith("hard-gain.html", StringComparison.Ordinal));
        Assert.Contains(links, l => l.EndsWith("06-easy-and-hard-samples.ipynb", StringComparison.Ordinal));
        foreach (var link in links) Assert.True(File.Exists(Path.Combine(output, Uri.UnescapeDataString(link))), $"gallery link {link} does not resolve from {output}");
        Assert.Contains(byId["hard-gain"].Sources!, s => s.Contains("hardness", StringComparison.Ordinal));
        Assert.Contains("drawn from (", section);
        Assert.True(byId["hard-gain"].Sources!.Count(s => !s.Contains("hardness", StringComparison.Ordinal)) >= 2, "the baseline and fine-tuned run folders are listed");
        Assert.Contains("| theory-dynamics | 01 | theory-dynamics |", report);
        Assert.Contains("**missing runs**", report);
        Assert.Contains("## theory-dynamics: missing runs", report);
        Assert.Contains("eng/granularity theory sweep --quick", report);
    }

    [Fact]
    public void MissingHardSampleRunsNameTheCommand()
    {
        var empty = Path.Combine(fixture.Root, "no-runs");
        var outcome = FigureCatalog.Export(Output(), new FigureContext(empty, Full: false), ["hard-gain"]).Single();
        Assert.False(outcome.Exported);
        Assert.Equal(["eng/granularity hard-samples run"], outcome.Missing!.Commands);
        Assert.Equal(5, outcome.Missing.Missing.Count); // Quick: reference, 2 baselines, 2 leaf runs
    }

    [Fact]
    public void CatalogIdsAreUniqueFileNamesWithPaperFigureIds()
    {
        var ids = FigureCatalog.All.Select(f => f.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(FigureCatalog.All, f =>
        {
            Assert.DoesNotContain(' ', f.Id);
            Assert.Contains(f.PaperFigure, PaperFigureIds);
            Assert.Matches("^0[1-68]$", f.Notebook); // every notebook with figures; 07 shows them all
        });
        foreach (var paper in PaperFigureIds.Where(p => p != "ours")) Assert.Contains(FigureCatalog.All, f => f.PaperFigure == paper);
        Assert.Contains("theory-accuracy", Assert.Throws<ArgumentException>(() => FigureCatalog.Find("nope")).Message);
    }

    [Fact]
    public void CommandExportsAndExitsThreeWhenRunsAreMissing()
    {
        var output = Output();
        Assert.Equal(0, Cli.CliRunner.Run("figures", "export", "--only", "theory-model", "--out", output, "--runs", fixture.Root).Code);
        Assert.True(File.Exists(Path.Combine(output, "theory-model.html")));
        Assert.Equal(3, Cli.CliRunner.Run("figures", "export", "--only", "theory-model,ImageNet", "--out", output, "--runs", fixture.Root).Code);
        Assert.Contains("ImageNet", File.ReadAllText(Path.Combine(output, "figures.md")));
        Assert.Equal(2, Cli.CliRunner.Run("figures", "export", "--only", "no-such-figure", "--out", output).Code);
        Assert.Equal(0, Cli.CliRunner.Run("figures", "list").Code);
    }

    [Fact]
    public void EveryCatalogFigureIsSavedByItsNotebookUnderItsIdAndAtItsSize()
    {
        // Notebook 07 then copies each render from the cache the notebooks filled, and both copies are one picture.
        var root = Granularity.Core.ProjectPaths.RepositoryRoot;
        var sources = Directory.GetFiles(Path.Combine(root, "lib", "Granularity", "Plots"), "*.cs").Select(File.ReadAllText)
            .Concat(Directory.GetFiles(Path.Combine(root, "notebooks"), "*.ipynb").Where(p => !Path.GetFileName(p).StartsWith("07-", StringComparison.Ordinal)).Select(File.ReadAllText));
        var saved = sources.SelectMany(text => System.Text.RegularExpressions.Regex.Matches(text, @"FigureExport\.Save\(([^\n]*)").Select(m => m.Groups[1].Value))
            .SelectMany(call => System.Text.RegularExpressions.Regex.Matches(call, @"\\?""([A-Za-z0-9-]+)\\?""").Select(m => m.Groups[1].Value)).ToHashSet();
        Assert.All(FigureCatalog.All, figure => Assert.True(saved.Contains(figure.Id), $"notebook {figure.Notebook} saves no figure '{figure.Id}'; 07 would render it afresh"));
        Assert.All(FigureCatalog.All, figure => Assert.Equal((figure.Width, figure.Height), FigureExport.SizeFor(figure.Id)));
        Assert.Equal((900, 540), FigureExport.SizeFor("not-in-the-catalog"));
    }
}
