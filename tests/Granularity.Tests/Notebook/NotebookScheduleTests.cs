using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Granularity.Core;
using Granularity.Notebook;
using Xunit;

namespace Granularity.Tests.Notebook;

/// <summary>The notebook runner's schedule: several kernels at once, longest first, and the figure notebook after the rest.</summary>
public class NotebookScheduleTests
{
    private static ScheduledNotebook Nb(string name, double seconds, bool after = false) => new($"/nb/{name}.ipynb", seconds, after);

    private static readonly ScheduledNotebook[] Collection =
    [
        Nb("00-start", 15), Nb("01-theory", 116), Nb("03-synthetic", 226), Nb("07-figures", 42, after: true), Nb("08-real", 145),
    ];

    private static string[] Names(IEnumerable<ScheduledNotebook> order) => order.Select(n => Path.GetFileNameWithoutExtension(n.Path)).ToArray();

    [Fact]
    public void OneKernelKeepsTheNumberedOrderWithTheDependentNotebookLast() =>
        Assert.Equal(["00-start", "01-theory", "03-synthetic", "08-real", "07-figures"], Names(NotebookSchedule.Order(Collection.Reverse(), 1)));

    [Fact]
    public void SeveralKernelsStartTheLongestFirstAndTheDependentNotebookLast() =>
        Assert.Equal(["03-synthetic", "08-real", "01-theory", "00-start", "07-figures"], Names(NotebookSchedule.Order(Collection, 2)));

    [Fact]
    public void TwoKernelsRunTwoNotebooksAtOnceButNeverMore()
    {
        var running = 0;
        var most = 0;
        using var bothStarted = new Barrier(2);
        var metAtTheBarrier = new ConcurrentBag<bool>();
        var independent = Collection.Where(n => !n.AfterOthers).ToList();
        NotebookSchedule.Run(independent, 2, notebook =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            // The first two wait for each other: with one kernel at a time this would time out.
            if (notebook.ExpectedSeconds >= 145) metAtTheBarrier.Add(bothStarted.SignalAndWait(TimeSpan.FromSeconds(30)));
            else Thread.Sleep(20);
            Interlocked.Decrement(ref running);
            return 0;
        });
        Assert.Equal([true, true], metAtTheBarrier);
        Assert.Equal(2, most);
    }

    [Fact]
    public void TheDependentNotebookStartsOnlyAfterEveryOtherHasFinished()
    {
        var finished = 0;
        var finishedWhenFiguresStarted = -1;
        var results = NotebookSchedule.Run(Collection, 3, notebook =>
        {
            var name = Path.GetFileNameWithoutExtension(notebook.Path);
            if (notebook.AfterOthers) finishedWhenFiguresStarted = Volatile.Read(ref finished);
            else { Thread.Sleep((int)notebook.ExpectedSeconds / 4); Interlocked.Increment(ref finished); }
            return name;
        });
        Assert.Equal(4, finishedWhenFiguresStarted);
        Assert.Equal(Names(NotebookSchedule.Order(Collection, 3)), results);
    }

    [Fact]
    public void AFailureInOneKernelReachesTheCallerAndStopsNewStarts()
    {
        var started = new ConcurrentBag<string>();
        var error = Assert.Throws<InvalidOperationException>(() => NotebookSchedule.Run(Collection, 1, notebook =>
        {
            started.Add(Path.GetFileNameWithoutExtension(notebook.Path));
            return notebook.Path.Contains("01-") ? throw new InvalidOperationException("kernel died") : 0;
        }));
        Assert.Equal("kernel died", error.Message);
        Assert.Equal(["00-start", "01-theory"], started.OrderBy(s => s, StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(2, 2, 1)]
    [InlineData(1, 1, 1)]
    [InlineData(8, 4, 2)]
    [InlineData(32, 4, 8)]
    public void KernelsShareTheCores(int cores, int kernels, int threads)
    {
        Assert.Equal(kernels, NotebookSchedule.DefaultKernels(cores));
        Assert.Equal(threads, NotebookSchedule.ThreadsPerKernel(cores, kernels));
        Assert.Equal(threads.ToString(System.Globalization.CultureInfo.InvariantCulture), NotebookSchedule.KernelEnvironment(threads)[TorchRuntime.ThreadsVariable]);
    }

    [Fact]
    public void SchedulingMetadataIsReadAndBadValuesNameTheFileAndField()
    {
        using var folder = new TempFolder("schedule");
        {
            string Write(string name, JsonNode? granularity)
            {
                var notebook = JsonNode.Parse(NotebookTests.NotebookJson("# 99 · x", "1"))!;
                if (granularity is not null) notebook["metadata"]!["granularity"] = granularity;
                var path = Path.Combine(folder.Path, name);
                File.WriteAllText(path, notebook.ToJsonString());
                return path;
            }
            var plain = ScheduledNotebook.Read(Write("plain.ipynb", null));
            Assert.Equal((ScheduledNotebook.DefaultExpectedSeconds, false), (plain.ExpectedSeconds, plain.AfterOthers));
            var marked = ScheduledNotebook.Read(Write("marked.ipynb", new JsonObject { ["expected_quick_s"] = 90, ["after_others"] = true }));
            Assert.Equal((90.0, true), (marked.ExpectedSeconds, marked.AfterOthers));
            var negative = Assert.Throws<InvalidDataException>(() => ScheduledNotebook.Read(Write("negative.ipynb", new JsonObject { ["expected_quick_s"] = -3 })));
            Assert.Contains("negative.ipynb", negative.Message);
            Assert.Contains("expected_quick_s", negative.Message);
            var word = Assert.Throws<InvalidDataException>(() => ScheduledNotebook.Read(Write("word.ipynb", new JsonObject { ["after_others"] = "yes" })));
            Assert.Contains("after_others must be true or false", word.Message);
        }
    }

    [Fact]
    public void EveryNotebookThatExportsTheFigureCatalogRunsAfterTheOthers()
    {
        var notebooks = NotebookRunner.Notebooks().Select(ScheduledNotebook.Read).ToList();
        var catalogReaders = notebooks.Where(n => File.ReadAllText(n.Path).Contains("FigureCatalog.Export", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(catalogReaders);
        Assert.All(catalogReaders, n => Assert.True(n.AfterOthers, $"{Path.GetFileName(n.Path)} reads every notebook's runs but is not marked metadata.granularity.after_others"));
        Assert.All(notebooks.Where(n => !n.AfterOthers), n => Assert.DoesNotContain("FigureCatalog.Export", File.ReadAllText(n.Path)));
    }

    [Fact]
    public void ThreadsComeFromTheEnvironmentAndABadValueIsNamed()
    {
        var before = Environment.GetEnvironmentVariable(TorchRuntime.ThreadsVariable);
        try
        {
            Environment.SetEnvironmentVariable(TorchRuntime.ThreadsVariable, null);
            Assert.Null(TorchRuntime.ThreadsFromEnvironment());
            Environment.SetEnvironmentVariable(TorchRuntime.ThreadsVariable, " 3 ");
            Assert.Equal(3, TorchRuntime.ThreadsFromEnvironment());
            foreach (var bad in new[] { "0", "two", "-1", "1.5" })
            {
                Environment.SetEnvironmentVariable(TorchRuntime.ThreadsVariable, bad);
                var error = Assert.Throws<ArgumentException>(() => TorchRuntime.ThreadsFromEnvironment());
                Assert.Contains($"{TorchRuntime.ThreadsVariable} must be a whole number", error.Message);
                Assert.Contains($"'{bad}'", error.Message);
            }
        }
        finally { Environment.SetEnvironmentVariable(TorchRuntime.ThreadsVariable, before); }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
            if (Interlocked.CompareExchange(ref target, value, seen) == seen) return;
    }
}
