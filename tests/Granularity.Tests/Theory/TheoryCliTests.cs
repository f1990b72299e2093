using Granularity.Cli;
using Xunit;
using static Granularity.Tests.Theory.TheoryTestSupport;

namespace Granularity.Tests.Theory;

public sealed class TheoryCliTests
{
    private static readonly IReadOnlyList<ICliCommand> Commands = typeof(ICliCommand).Assembly.GetTypes()
        .Where(t => typeof(ICliCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
        .Select(t => (ICliCommand)Activator.CreateInstance(t)!).ToList();

    [Fact]
    public void TheoryRunWritesARunFolderAndPrintsItsSummary()
    {
        var root = TemporaryFolder();
        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        int code;
        try { code = CommandLine.Run(Commands, new[] { "theory", "run", "--d", "40", "--k", "2", "--steps", "10", "--eval-every", "5", "--runs", root }); }
        finally { Console.SetOut(original); }
        Assert.Equal(0, code);
        Assert.Contains("d=40 k=2", output.ToString());
        Assert.Single(Directory.GetDirectories(Path.Combine(root, "theory")));
        Assert.True(File.Exists(Path.Combine(Directory.GetDirectories(Path.Combine(root, "theory"))[0], "summary.json")));
    }

    [Theory]
    [InlineData("--k", "1", "SubclassesPerSuperclass")]
    [InlineData("--d", "10", "Dimension")]
    [InlineData("--noise", "-1", "NoiseStd")]
    [InlineData("--basis", "fancy", "--basis")]
    [InlineData("--stpes", "3", "unknown option")]
    public void BadOptionsFailWithAMessageNamingTheField(string option, string value, string expected)
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        int code;
        try { code = CommandLine.Run(Commands, new[] { "theory", "run", option, value, "--runs", TemporaryFolder() }); }
        finally { Console.SetError(original); }
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error.ToString());
    }
}
