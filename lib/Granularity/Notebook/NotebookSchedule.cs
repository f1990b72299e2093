using System.Globalization;
using System.Text.Json.Nodes;

namespace Granularity.Notebook;

/// <summary>
/// What the runner needs to know to place one notebook: its expected Quick run time (longest first keeps the kernels
/// busy to the end) and whether it reads other notebooks' runs, so that it starts only after all of them have finished.
/// Both come from the notebook's <c>metadata.granularity</c> (<c>expected_quick_s</c>, <c>after_others</c>).
/// </summary>
public sealed record ScheduledNotebook(string Path, double ExpectedSeconds, bool AfterOthers)
{
    /// <summary>The estimate used where a notebook states none.</summary>
    public const double DefaultExpectedSeconds = 60;

    /// <summary>Reads <paramref name="notebook"/>'s scheduling metadata; a notebook without it is expected to take a minute and to depend on nothing.</summary>
    public static ScheduledNotebook Read(string notebook)
    {
        var granularity = JsonNode.Parse(File.ReadAllText(notebook))?["metadata"]?["granularity"];
        if (granularity is null) return new ScheduledNotebook(notebook, DefaultExpectedSeconds, false);
        if (granularity is not JsonObject fields)
            throw new InvalidDataException($"{notebook}: metadata.granularity must be an object, got {granularity.ToJsonString()}");
        var expected = fields["expected_quick_s"] switch
        {
            null => DefaultExpectedSeconds,
            JsonValue value when value.TryGetValue(out double seconds) && seconds > 0 && double.IsFinite(seconds) => seconds,
            var other => throw new InvalidDataException($"{notebook}: metadata.granularity.expected_quick_s must be a positive number of seconds, got {other.ToJsonString()}"),
        };
        var after = fields["after_others"] switch
        {
            null => false,
            JsonValue value when value.TryGetValue(out bool flag) => flag,
            var other => throw new InvalidDataException($"{notebook}: metadata.granularity.after_others must be true or false, got {other.ToJsonString()}"),
        };
        return new ScheduledNotebook(notebook, expected, after);
    }
}

/// <summary>
/// Runs notebooks in several kernels at once. The small models of a Quick run gain little from a second torch thread
/// (one seed of notebook 03: 79.6 s on one thread, 67.7 s on two), so two single-threaded kernels on two cores finish
/// the collection sooner than one kernel with both. Notebooks that read the others' runs (07, the figure catalog) wait
/// for all the others; the rest start longest first.
/// </summary>
public static class NotebookSchedule
{
    /// <summary>Kernels to run at once by default: one per core, at most four (each kernel holds its own .NET runtime and libtorch).</summary>
    public static int DefaultKernels(int cores) => Math.Clamp(cores, 1, 4);

    /// <summary>Torch threads per kernel when <paramref name="kernels"/> share <paramref name="cores"/>.</summary>
    public static int ThreadsPerKernel(int cores, int kernels) => Math.Max(1, cores / Math.Max(1, kernels));

    /// <summary>
    /// The start order: with one kernel the numbered order, with those that read the others' runs moved to the end;
    /// with more, longest expected first (ties by name), the same tail.
    /// </summary>
    public static IReadOnlyList<ScheduledNotebook> Order(IEnumerable<ScheduledNotebook> notebooks, int kernels)
    {
        var byName = notebooks.OrderBy(n => System.IO.Path.GetFileName(n.Path), StringComparer.Ordinal).ToList();
        var independent = byName.Where(n => !n.AfterOthers);
        if (kernels > 1) independent = independent.OrderByDescending(n => n.ExpectedSeconds);
        return independent.Concat(byName.Where(n => n.AfterOthers)).ToList();
    }

    /// <summary>
    /// Runs every notebook through <paramref name="run"/> on up to <paramref name="kernels"/> at once, in
    /// <see cref="Order"/>; a notebook marked <see cref="ScheduledNotebook.AfterOthers"/> starts only when every unmarked
    /// one has finished. Returns the results in start order. <paramref name="run"/> must be safe to call concurrently.
    /// </summary>
    public static IReadOnlyList<T> Run<T>(IEnumerable<ScheduledNotebook> notebooks, int kernels, Func<ScheduledNotebook, T> run)
    {
        if (kernels < 1) throw new ArgumentOutOfRangeException(nameof(kernels), kernels, "at least one kernel");
        var order = Order(notebooks, kernels);
        var results = new T[order.Count];
        var independent = order.Count(n => !n.AfterOthers);
        RunRange(0, independent);
        RunRange(independent, order.Count);
        return results;

        void RunRange(int from, int to)
        {
            var next = from - 1;
            var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            var workers = Enumerable.Range(0, Math.Min(kernels, Math.Max(0, to - from))).Select(_ => new Thread(() =>
            {
                try
                {
                    for (var index = Interlocked.Increment(ref next); index < to && errors.IsEmpty; index = Interlocked.Increment(ref next))
                        results[index] = run(order[index]);
                }
                catch (Exception error) { errors.Enqueue(error); }
            }) { IsBackground = true, Name = "notebook kernel" }).ToList();
            foreach (var worker in workers) worker.Start();
            foreach (var worker in workers) worker.Join();
            if (errors.Count == 1) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(errors.First()).Throw();
            if (!errors.IsEmpty) throw new AggregateException(errors);
        }
    }

    /// <summary>
    /// The variables a kernel gets so that it uses <paramref name="threads"/> torch threads (<see cref="Core.TorchRuntime.ThreadsVariable"/>),
    /// the BLAS and OpenMP pools agree, and .NET collects with the workstation GC (dotnet-interactive asks for the server
    /// GC, one heap and one spinning collector thread per core in every kernel, which kernels side by side contend for).
    /// </summary>
    public static IReadOnlyDictionary<string, string> KernelEnvironment(int threads)
    {
        var count = threads.ToString(CultureInfo.InvariantCulture);
        return new Dictionary<string, string>
        {
            [Core.TorchRuntime.ThreadsVariable] = count,
            ["OMP_NUM_THREADS"] = count,
            ["OPENBLAS_NUM_THREADS"] = count,
            ["MKL_NUM_THREADS"] = count,
            ["DOTNET_gcServer"] = "0",
        };
    }

    /// <summary>"2 kernels × 1 thread".</summary>
    public static string Describe(int kernels, int threads) =>
        string.Create(CultureInfo.InvariantCulture, $"{kernels} kernel{(kernels == 1 ? "" : "s")} × {threads} thread{(threads == 1 ? "" : "s")}");
}
