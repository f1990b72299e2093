using Xunit;
using static Granularity.Tests.Cli.CliRunner;
using static Granularity.Tests.Theory.TheoryTestSupport;

namespace Granularity.Tests.Theory;

public sealed class TheoryCliTests
{
    [Fact]
    public void TheoryRunWritesARunFolderAndPrintsItsSummary()
    {
        var root = TemporaryFolder();
        var (code, output, _) = Run("theory", "run", "--d", "40", "--k", "2", "--steps", "10", "--eval-every", "5", "--runs", root);
        Assert.Equal(0, code);
        Assert.Contains("d=40 k=2", output);
        Assert.Single(Directory.GetDirectories(Path.Combine(root, "theory")));
        Assert.True(File.Exists(Path.Combine(Directory.GetDirectories(Path.Combine(root, "theory"))[0], "summary.json")));
    }

    [Theory]
    [InlineData("--k", "1", "SubclassesPerSuperclass")]
    [InlineData("--d", "10", "Dimension")]
    [InlineData("--noise", "-1", "--noise must be a number in [0,")]
    [InlineData("--basis", "fancy", "--basis must be one of standard, random; got 'fancy'")]
    [InlineData("--stpes", "3", "Unrecognized command or argument '--stpes'")]
    public void BadOptionsFailWithAMessageNamingTheField(string option, string value, string expected)
    {
        var (code, _, error) = Run("theory", "run", option, value, "--runs", TemporaryFolder());
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
    }
}
