using System.CommandLine;
using System.Text.RegularExpressions;
using Granularity.Cli;
using Granularity.Core;
using Xunit;
using static Granularity.Tests.Cli.CliRunner;

namespace Granularity.Tests.Cli;

public class CliTests
{
    private static readonly Command Root = GranularityCli.Build();

    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        foreach (var (path, _) in CommandList.Leaves(Root)) data.Add(path["granularity ".Length..]);
        return data;
    }

    private static Command Find(string path) => CommandList.Leaves(Root).Single(l => l.Path == "granularity " + path).Command;

    private static string[] Words(string path) => path.Split(' ');

    private static void AssertNoStackTrace(string text) => Assert.DoesNotMatch(@"\n\s+at \S+\(", text);

    [Theory]
    [MemberData(nameof(Commands))]
    public void HelpIsGeneratedFromTheOptions(string command)
    {
        var (code, output, error) = Run([.. Words(command), "--help"]);
        Assert.Equal(0, code);
        Assert.Empty(error);
        Assert.Contains($"granularity {command}", output);
        foreach (var option in Find(command).Options.Where(o => !o.Hidden)) Assert.Contains(option.Name, output);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void AnUnknownOptionIsAUsageErrorWithoutAStackTrace(string command)
    {
        var (code, output, error) = Run([.. Words(command), "--no-such-option", "3"]);
        Assert.Equal(ErrorPolicy.Usage, code);
        Assert.Contains("--no-such-option", error);
        Assert.Contains($"granularity {command} --help", error);
        AssertNoStackTrace(output + error);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void ANumberOptionGivenAWordIsAUsageErrorNamingTheOption(string command)
    {
        var numeric = Find(command).Options.Where(o => o.ValueType == typeof(int) || o.ValueType == typeof(int?) || o.ValueType == typeof(double?) || o.ValueType == typeof(int[])).ToList();
        foreach (var option in numeric)
        {
            var (code, output, error) = Run([.. Words(command), option.Name, "many"]);
            Assert.Equal(ErrorPolicy.Usage, code);
            Assert.Contains(option.Name, error);
            AssertNoStackTrace(output + error);
        }
    }

    [Theory]
    [InlineData(ErrorPolicy.BadInput, "file not found", "train", "--config", "/nonexistent/config.json")]
    [InlineData(ErrorPolicy.BadInput, "file not found", "finetune", "--config", "/nonexistent/config.json", "--write-config", "/nonexistent/out.json")]
    [InlineData(ErrorPolicy.BadInput, "no manifest", "data", "verify", "--dataset", "/nonexistent/manifest.json", "--archives", "/nonexistent")]
    [InlineData(ErrorPolicy.BadInput, "no manifest", "data", "prepare", "--dataset", "nosuchset", "--archives", "/nonexistent", "--splits", "val")]
    [InlineData(ErrorPolicy.BadInput, "/nonexistent/sweep.json", "sweep", "task", "--sweep", "/nonexistent/sweep.json", "--index", "0")]
    [InlineData(ErrorPolicy.BadInput, "/nonexistent/model.ckpt", "evaluate", "--checkpoint", "/nonexistent/model.ckpt", "--level", "leaf")]
    [InlineData(ErrorPolicy.BadInput, "/nonexistent/run", "evaluate", "--run", "/nonexistent/run")]
    [InlineData(ErrorPolicy.BadInput, "unknown hierarchy source", "hierarchy", "levels", "--source", "imagenet42k")]
    [InlineData(ErrorPolicy.BadInput, "/nonexistent/train.json", "hierarchy", "import-inat2021", "--from", "/nonexistent/train.json", "--out", "/nonexistent")]
    [InlineData(ErrorPolicy.Usage, "--dataset", "standin", "generate", "--dataset", "cifar")]
    [InlineData(ErrorPolicy.Usage, "choose one of --table and --slurm", "experiment", "imagenet", "--table", "--slurm")]
    [InlineData(ErrorPolicy.Usage, "--wait needs --slurm", "sweep", "--levels", "leaf", "--wait")]
    [InlineData(ErrorPolicy.Usage, "--import needs --name", "experiment", "inat2021", "embeddings", "--import", "x.npy")]
    [InlineData(ErrorPolicy.Usage, "no figure 'no-such-figure'", "figures", "export", "--only", "no-such-figure")]
    [InlineData(ErrorPolicy.Usage, "--seeds must be a comma-separated list", "theory", "sweep", "--seeds", "0,x")]
    [InlineData(ErrorPolicy.Usage, "Required command was not provided", "theory")]
    [InlineData(ErrorPolicy.Usage, "Required command was not provided")]
    public void BadInputExitsWithItsCodeAndAMessageWithoutAStackTrace(int expectedCode, string expected, params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.Equal(expectedCode, code);
        Assert.Contains(expected, error);
        AssertNoStackTrace(output + error);
    }

    [Fact]
    public void HelpWordsAndTheCommandListWork()
    {
        Assert.Equal(0, Run("help").Code);
        Assert.Contains("--timeout-min", Run("help", "notebooks", "run").Output);
        var (code, output, _) = Run("commands");
        Assert.Equal(0, code);
        Assert.Contains("granularity train bench", output);
        Assert.Contains("granularity train ", output);
        Assert.Contains("granularity experiment inat2021 embeddings", output);
    }

    [Fact]
    public void TheReadmeListsTheCommandsTheCliHas()
    {
        var readme = File.ReadAllText(Path.Combine(ProjectPaths.RepositoryRoot, "README.md"));
        int start = readme.IndexOf(CommandList.ReadmeStart, StringComparison.Ordinal), end = readme.IndexOf(CommandList.ReadmeEnd, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"README.md needs the markers {CommandList.ReadmeStart} … {CommandList.ReadmeEnd}");
        var listed = readme[(start + CommandList.ReadmeStart.Length)..end].Trim();
        Assert.True(listed == CommandList.Markdown(Root).Trim(),
            "README.md's command list is out of date: replace the part between the cli-commands markers with the output of `eng/granularity commands --markdown`");
    }

    /// <summary>Every `eng/granularity …` example in README.md and docs/runbook.md parses (optional [parts] and alternatives a|b left out).</summary>
    [Theory]
    [InlineData("README.md")]
    [InlineData("docs/runbook.md")]
    public void DocumentedExamplesParse(string document)
    {
        var lines = File.ReadAllLines(Path.Combine(ProjectPaths.RepositoryRoot, document))
            .SelectMany(l => l.Split([";", "&&"], StringSplitOptions.TrimEntries))
            .Where(l => l.StartsWith("eng/granularity ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            var text = Regex.Replace(line.Split(" #")[0], @"\[[^\]]*\]", " ");
            if (text.Contains('|') || text.Contains('…') || text.Contains('$') || text.Contains('<')) continue;
            var words = Regex.Matches(text["eng/granularity ".Length..], "\"[^\"]*\"|\\S+").Select(m => m.Value.Trim('"')).ToArray();
            var parse = Root.Parse(words);
            Assert.True(parse.Errors.Count == 0, $"{document}: `{line}` does not parse: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        }
    }
}
