using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Granularity.Core;
using Granularity.Notebook;
using Xunit;

namespace Granularity.Tests.Notebook;

/// <summary>The committed notebooks as files: nbformat 4.5 cell ids, Jupyter's own validator, and links that resolve.</summary>
public class NotebookFormatTests
{
    private static readonly Regex CellId = new("^[a-zA-Z0-9_-]{1,64}$");

    [Theory]
    [MemberData(nameof(NotebookTests.Notebooks), MemberType = typeof(NotebookTests))]
    public void EveryCellHasAUniqueNbformat45Id(string notebook)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(ProjectPaths.RepositoryRoot, "notebooks", notebook)))!;
        Assert.True((int?)root["nbformat"] == 4 && (int?)root["nbformat_minor"] >= 5, $"{notebook}: nbformat must be 4.5 or later");
        var ids = root["cells"]!.AsArray().Select((c, i) => (Index: i + 1, Id: (string?)c!["id"])).ToList();
        var missing = ids.Where(c => c.Id is null || !CellId.IsMatch(c.Id)).Select(c => c.Index).ToList();
        Assert.True(missing.Count == 0, $"{notebook}: cells {string.Join(", ", missing)} have no valid id; run eng/notebook-cell-ids.py notebooks/{notebook}");
        var repeated = ids.GroupBy(c => c.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(repeated.Count == 0, $"{notebook}: repeated cell ids {string.Join(", ", repeated)}");
    }

    [Fact]
    public void EveryNotebookValidatesWithNbformatWithoutAWarning()
    {
        var notebooks = NotebookRunner.Notebooks();
        // -W error: nbformat's warnings (e.g. MissingIDFieldWarning, "will become a hard error") fail the check.
        var (code, output) = Python(["-W", "error", "-c",
            "import sys, nbformat\nfor path in sys.argv[1:]:\n    nbformat.validate(nbformat.read(path, as_version=nbformat.NO_CONVERT))\n    print('valid', path)",
            .. notebooks]);
        Assert.True(code == 0, $"nbformat.validate failed (exit {code}):\n{output}");
        Assert.Equal(notebooks.Count, Regex.Matches(output, "^valid ", RegexOptions.Multiline).Count);
    }

    [Fact]
    public void TheValidatorRejectsANotebookWithoutCellIds()
    {
        using var folder = new TempFolder("nbformat");
        {
            var notebook = Path.Combine(folder.Path, "99-no-ids.ipynb");
            File.WriteAllText(notebook, NotebookTests.NotebookJson("# 99 · no ids", "1 + 1"));
            var (code, output) = Python(["-W", "error", "-c", "import sys, nbformat\nnbformat.validate(nbformat.read(sys.argv[1], as_version=nbformat.NO_CONVERT))", notebook]);
            Assert.True(code != 0, "a notebook without cell ids passed the warning-free validation");
            Assert.Contains("id", output, StringComparison.OrdinalIgnoreCase);
        }
    }

    public static TheoryData<string> Documents()
    {
        var root = ProjectPaths.RepositoryRoot;
        var data = new TheoryData<string>();
        foreach (var path in new[] { "README.md", "environment.md" }.Where(p => File.Exists(Path.Combine(root, p)))
                     .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Select(p => Path.GetRelativePath(root, p)))
                     .Concat(NotebookRunner.Notebooks().Select(p => Path.GetRelativePath(root, p))))
            data.Add(path.Replace('\\', '/'));
        return data;
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void EveryRelativeLinkResolves(string document)
    {
        var path = Path.Combine(ProjectPaths.RepositoryRoot, document);
        var broken = RelativeLinks(MarkdownOf(path))
            .Where(link => !File.Exists(Resolve(path, link)) && !Directory.Exists(Resolve(path, link)))
            .ToList();
        Assert.True(broken.Count == 0, $"{document}: links that do not resolve: {string.Join(", ", broken)}");
    }

    [Fact]
    public void TheLinkCheckFindsABrokenLink()
    {
        var links = RelativeLinks("See [04](04-inat2021.ipynb), [web](https://example.org), [anchor](#summary) and `[code](x.md)`.").ToList();
        Assert.Equal(["04-inat2021.ipynb"], links);
        Assert.False(File.Exists(Resolve(Path.Combine(ProjectPaths.RepositoryRoot, "notebooks", "03.ipynb"), links[0])));
    }

    /// <summary>The markdown of a .md file, or of a notebook's markdown cells.</summary>
    private static string MarkdownOf(string path)
    {
        if (!path.EndsWith(".ipynb", StringComparison.Ordinal)) return File.ReadAllText(path);
        var cells = JsonNode.Parse(File.ReadAllText(path))!["cells"]!.AsArray();
        return string.Join("\n\n", cells.Where(c => (string?)c!["cell_type"] == "markdown").Select(c => c!["source"] switch
        {
            JsonArray lines => string.Concat(lines.Select(l => (string?)l)),
            var node => (string?)node ?? "",
        }));
    }

    /// <summary>Targets of Markdown links and images that are relative paths (no scheme, not a bare anchor), code spans and blocks skipped.</summary>
    internal static IEnumerable<string> RelativeLinks(string markdown)
    {
        var text = Regex.Replace(markdown, "```.*?```", "", RegexOptions.Singleline);
        text = Regex.Replace(text, "`[^`\n]*`", "");
        foreach (Match match in Regex.Matches(text, @"\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)"))
        {
            var target = match.Groups[1].Value;
            if (target.StartsWith('#') || Regex.IsMatch(target, "^[a-zA-Z][a-zA-Z0-9+.-]*:")) continue;
            yield return target;
        }
    }

    private static string Resolve(string document, string link)
    {
        var target = link.Split('#')[0];
        return Path.GetFullPath(Path.Combine(Path.GetDirectoryName(document)!, Uri.UnescapeDataString(target)));
    }

    private static (int Code, string Output) Python(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(JupyterKernel.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"{JupyterKernel.Python} did not finish within 2 minutes");
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>The notebook progress bar: its text, and the text-line fallback outside a kernel.</summary>
public class NotebookProgressTests
{
    [Fact]
    public void TheBarShowsFractionRateAndEta()
    {
        var bar = NotebookProgress.Bar(new ProgressUpdate("pretraining [leaf] epoch 2/6", "", 1000, 2000, "img", TimeSpan.FromSeconds(10), "loss 0.1"));
        Assert.Contains(new string('█', 12) + new string('░', 12), bar);
        Assert.Contains("50.0%", bar);
        Assert.Contains("100 img/s", bar);
        Assert.Contains("ETA 0:10", bar);
        Assert.Contains("loss 0.1", bar);
    }

    [Fact]
    public void OutsideAKernelItWritesTextLines()
    {
        var progress = NotebookProgress.Create();
        Assert.False(progress.Draws);
        var saved = Console.Out;
        using var writer = new StringWriter();
        Console.SetOut(writer);
        try { NotebookProgress.Create().Report(new ProgressUpdate("task", "", 1, 1, "img", TimeSpan.FromSeconds(1))); }
        finally { Console.SetOut(saved); }
        Assert.Contains("task", writer.ToString());
    }
}

/// <summary>One train-or-read idiom in every notebook: <c>SomeExperiment.Run(config, RunPolicy…)</c>, nothing else.</summary>
public class NotebookIdiomTests
{
    private static readonly Regex OtherEntryPoints = new(@"\b(GetOrRun|RunSweep|TryLoad|TrainingEngine\.\w+)\(|new TrainingOptions\b");
    private static readonly Regex TheIdiom = new(@"\b\w+\.Run\([^;]*RunPolicy\.");

    [Theory]
    [MemberData(nameof(NotebookTests.Notebooks), MemberType = typeof(NotebookTests))]
    public void NotebooksTrainOrReadOnlyThroughTheExperimentShape(string notebook)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(ProjectPaths.RepositoryRoot, "notebooks", notebook)))!;
        var code = root["cells"]!.AsArray().Where(c => (string?)c!["cell_type"] == "code")
            .Select(c => string.Concat(c!["source"]!.AsArray().Select(line => (string?)line))).ToList();
        var other = code.SelectMany(cell => OtherEntryPoints.Matches(cell).Select(m => m.Value)).ToList();
        Assert.True(other.Count == 0, $"{notebook}: trains or reads runs outside the experiment shape: {string.Join(", ", other)}");
        // Notebooks that show results of runs (all but the introduction and the figure gallery, which reads saved runs) use the idiom.
        if (!notebook.StartsWith("00-", StringComparison.Ordinal) && !notebook.StartsWith("07-", StringComparison.Ordinal))
            Assert.True(code.Any(TheIdiom.IsMatch), $"{notebook}: no `Experiment.Run(config, RunPolicy…)` cell");
    }

    [Fact]
    public void TheRuleCatchesAnotherIdiom()
    {
        Assert.Matches(OtherEntryPoints, "var runs = TheoryExperiment.RunSweep(sweep);");
        Assert.Matches(TheIdiom, "var result = FineToCoarse.Run(config, RunPolicy.Default);");
        Assert.DoesNotMatch(TheIdiom, "var result = FineToCoarse.Run(config, options);");
    }
}
