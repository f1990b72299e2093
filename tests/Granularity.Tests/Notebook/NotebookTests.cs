using Granularity.Core;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Granularity.Notebook;
using Granularity.Runs;
using Xunit;
using Xunit.Abstractions;

namespace Granularity.Tests.Notebook;

/// <summary>
/// Every committed notebook, executed headless in Quick mode exactly as `eng/granularity notebooks run` does: through
/// Jupyter (nbclient and the registered .NET Interactive kernel), one client per notebook, against a private artifacts
/// folder and this build's notebook package.
/// </summary>
public class NotebookTests(ITestOutputHelper output, NotebookEnvironment environment) : IClassFixture<NotebookEnvironment>
{
    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var path in NotebookRunner.Notebooks()) data.Add(Path.GetFileName(path));
        return data;
    }

    private static string NotebookPath(string name) => Path.Combine(ProjectPaths.RepositoryRoot, "notebooks", name);

    [Theory]
    [Trait("Category", "Notebooks")]
    [MemberData(nameof(Notebooks))]
    public void NotebookRunsEveryCellInQuickMode(string notebook)
    {
        var result = NotebookRunner.Run(NotebookPath(notebook), environment.Artifacts.Combine("notebooks"), RunMode.Quick, TimeSpan.FromMinutes(40), environment: environment.Variables);
        output.WriteLine($"{notebook}: exit {result.ExitCode}, {result.Duration.TotalSeconds:0.0} s, executed copy {result.ExecutedCopy}");
        Assert.True(result.Succeeded, string.Join("\n", result.Failures.Select(f => f.ToString())) + "\n" + (result.Failures.Count == 0 ? result.Log : ""));
        AssertChartsRenderOffline(result.ExecutedCopy);
        AssertReadsWellInABrowser(result.ExecutedCopy);
    }

    /// <summary>
    /// The real-browser check (<see cref="BrowserCheck"/>) of the copy just executed, so CI checks every notebook it runs;
    /// the screenshot is kept with the test results (artifacts/test-results/notebooks). Without Chromium or nbconvert it
    /// says so in the test output with the install command.
    /// </summary>
    private void AssertReadsWellInABrowser(string executedCopy)
    {
        if (BrowserCheck.MissingTools() is { } missing)
        {
            output.WriteLine($"{Path.GetFileName(executedCopy)}: browser check SKIPPED: {missing}");
            return;
        }
        using var html = new TempFolder("notebook-html");
        var report = Assert.Single(BrowserCheck.Check([executedCopy], Path.Combine(ProjectPaths.RepositoryRoot, "artifacts", "test-results", "notebooks"), html.Path));
        output.WriteLine(NotebookBrowserTests.Summary(report));
        Assert.True(report.Problems.Count == 0, $"{report.Problems.Count} problems a reader would see:\n" + string.Join("\n", report.Problems));
    }

    /// <summary>No script of the executed notebook loads from the network, and plotly.js is embedded once when it draws charts.</summary>
    internal static void AssertChartsRenderOffline(string executedNotebook)
    {
        var outputs = string.Concat(JsonNode.Parse(File.ReadAllText(executedNotebook))!["cells"]!.AsArray()
            .SelectMany(c => c!["outputs"]?.AsArray() ?? new JsonArray())
            .SelectMany(o => (o!["data"] as JsonObject)?.Select(d => d.Value switch
            {
                JsonArray lines => string.Concat(lines.Select(l => (string?)l)),
                var node => node?.ToString() ?? "",
            }) ?? []));
        var name = Path.GetFileName(executedNotebook);
        var remote = Regex.Matches(outputs, @"<script[^>]*\ssrc\s*=\s*[""']?(https?:[^""'\s>]+)", RegexOptions.IgnoreCase).Select(m => m.Groups[1].Value)
            .Concat(Regex.Matches(outputs, @"paths\s*:\s*\{[^}]*['""](https?:[^'""]+)", RegexOptions.IgnoreCase).Select(m => m.Groups[1].Value))
            .Concat(Regex.Matches(outputs, @"setAttribute\(\s*['""]src['""]\s*,\s*['""](https?:[^'""]+)", RegexOptions.IgnoreCase).Select(m => m.Groups[1].Value))
            .Distinct().ToList();
        Assert.True(remote.Count == 0, $"{name}: outputs load scripts from the network: {string.Join(", ", remote)}");
        if (!outputs.Contains("Plotly.newPlot", StringComparison.Ordinal)) return;
        var copies = Regex.Matches(outputs, Regex.Escape(InlineCharts.LibraryMarker)).Count;
        Assert.True(copies == 1, $"{name}: draws charts but embeds plotly.js {copies} times (expected once)");
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void CommittedNotebookCarriesNoOutputs(string notebook) =>
        Assert.True(NotebookRunner.IsClean(NotebookPath(notebook)), $"{notebook} is committed with outputs or execution counts; clear them");

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void NotebookFollowsTheSkeleton(string notebook)
    {
        Assert.Matches(new Regex(@"^\d\d-[a-z0-9]+(-[a-z0-9]+)*\.ipynb$"), notebook);
        var cells = JsonNode.Parse(File.ReadAllText(NotebookPath(notebook)))!["cells"]!.AsArray();
        var first = Source(cells[0]!);
        Assert.True((string?)cells[0]!["cell_type"] == "markdown" && first.StartsWith($"# {notebook[..2]} · "), $"{notebook}: the first cell must be the title '# {notebook[..2]} · …'");
        var setup = cells.Where(c => (string?)c!["cell_type"] == "code").Select(c => Source(c!)).ToList();
        Assert.Contains(setup, s => s.Contains("#r \"nuget: Granularity, "));
        Assert.Contains(setup, s => s.Contains($"NotebookSetup.Init(\"{Path.GetFileNameWithoutExtension(notebook)}\""));
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void NotebookPackageReferencesUseThePinnedVersions(string notebook)
    {
        var pinned = PinnedPackageVersions();
        var text = File.ReadAllText(NotebookPath(notebook));
        var references = Regex.Matches(text, @"#r \\""nuget:\s*([A-Za-z0-9_.\-]+)\s*,\s*([^\\""]+)\\""");
        Assert.NotEmpty(references);
        foreach (Match reference in references)
        {
            var (name, version) = (reference.Groups[1].Value, reference.Groups[2].Value.Trim());
            Assert.True(pinned.TryGetValue(name, out var expected), $"{notebook} references {name}, which Directory.Packages.props does not pin");
            Assert.True(expected == version, $"{notebook} references {name} {version}; Directory.Packages.props pins {expected}");
        }
    }

    [Fact]
    public void NativeLoaderVersionsMatchThePinnedPackages()
    {
        var pinned = PinnedPackageVersions();
        Assert.Equal(PackageVersions.TorchSharp, pinned["TorchSharp-cpu"]);
    }

    [Theory]
    [Trait("Category", "Notebooks")]
    [InlineData(NotebookClient.Jupyter)]
    [InlineData(NotebookClient.Repl)]
    public void AFailingCellIsReportedWithNotebookCellAndError(NotebookClient client)
    {
        using var folder = new TempFolder("notebook");
        {
            var notebook = Path.Combine(folder.Path, "99-failing.ipynb");
            File.WriteAllText(notebook, NotebookJson("# 99 · failing", "var x = 40;", "x + undefinedVariable", "x + 2"));
            var result = NotebookRunner.Run(notebook, Path.Combine(folder.Path, "out"), RunMode.Quick, TimeSpan.FromMinutes(5), client, environment.Variables);
            Assert.False(result.Succeeded);
            var failure = Assert.Single(result.Failures);
            Assert.Equal("99-failing.ipynb", failure.Notebook);
            Assert.Equal(3, failure.Cell);
            Assert.Contains("x + undefinedVariable", failure.FirstLine);
            Assert.Contains("CS0103", failure.Error);
        }
    }

    private static string Source(JsonNode cell) => cell["source"] switch
    {
        JsonArray lines => string.Concat(lines.Select(l => (string?)l)),
        var node => (string?)node ?? "",
    };

    internal static string NotebookJson(string markdown, params string[] code)
    {
        var cells = new JsonArray { new JsonObject { ["cell_type"] = "markdown", ["metadata"] = new JsonObject(), ["source"] = markdown } };
        foreach (var source in code)
            cells.Add(new JsonObject
            {
                ["cell_type"] = "code", ["execution_count"] = null, ["outputs"] = new JsonArray(), ["source"] = source,
                ["metadata"] = new JsonObject { ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" } },
            });
        return new JsonObject
        {
            ["cells"] = cells, ["nbformat"] = 4, ["nbformat_minor"] = 5,
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
                ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
            },
        }.ToJsonString();
    }

    internal static Dictionary<string, string> PinnedPackageVersions()
    {
        var root = ProjectPaths.RepositoryRoot;
        var packages = XDocument.Load(Path.Combine(root, "Directory.Packages.props"));
        var properties = packages.Descendants("PropertyGroup").Elements().ToDictionary(e => e.Name.LocalName, e => e.Value.Trim());
        var build = XDocument.Load(Path.Combine(root, "Directory.Build.props"));
        foreach (var element in build.Descendants("PropertyGroup").Elements()) properties.TryAdd(element.Name.LocalName, element.Value.Trim());
        string Expand(string value) => Regex.Replace(value, @"\$\((\w+)\)", m => properties[m.Groups[1].Value]);
        var versions = packages.Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => Expand((string)e.Attribute("Version")!), StringComparer.OrdinalIgnoreCase);
        versions["Granularity"] = properties["GranularityVersion"];
        return versions;
    }
}
