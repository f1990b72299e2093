using Granularity.Core;
using System.Reflection;
using System.Runtime.Loader;
using Granularity.Runs;
using TorchSharp;

namespace Granularity.Notebook;

/// <summary>What a notebook's setup cell shows: versions, device, mode, seed and where outputs go.</summary>
public sealed record NotebookEnvironment(
    string Notebook, string LibraryVersion, string TorchSharpVersion, string Device, RunMode Mode, int Seed,
    string RunsRoot, string FiguresFolder, string? NativeSource, string? Browser);

/// <summary>The one call a notebook's setup cell makes.</summary>
public static class NotebookSetup
{
    private static bool resolverInstalled;

    /// <summary>The figures folder of the notebook that called <see cref="Init"/> (figures are saved under it).</summary>
    public static string FiguresFolder { get; private set; } = ProjectPaths.FiguresRoot;

    /// <summary>
    /// Prepares the kernel: FSharp.Core unification for Plotly.NET, offline inline charts, progress bars for long cells
    /// (<see cref="RunPolicy.DefaultProgress"/>), TorchSharp natives, the device,
    /// the seed, and the figures folder of <paramref name="notebookId"/> (e.g. "01-theory-coarse-vs-fine").
    /// </summary>
    public static NotebookEnvironment Init(string notebookId, int seed = 0)
    {
        InstallFSharpCoreResolver();
        InlineCharts.Register();
        RunPolicy.DefaultProgress ??= NotebookProgress.Create();
        TorchRuntime.EnsureNativesLoaded();
        var device = TorchRuntime.Device;
        TorchRuntime.Seed(seed);
        FiguresFolder = Path.Combine(ProjectPaths.FiguresRoot, notebookId);
        return new NotebookEnvironment(
            notebookId,
            BuildInfo.LibraryVersion,
            typeof(torch).Assembly.GetName().Version?.ToString() ?? "?",
            device.type.ToString().ToLowerInvariant(),
            RunModes.FromEnvironment(),
            seed,
            ProjectPaths.RunsRoot,
            FiguresFolder,
            TorchRuntime.NativeSource,
            Plots.FigureExport.BrowserPath);
    }

    /// <summary>
    /// dotnet-interactive 1.0.712001 ships FSharp.Core 10.0 while Plotly.NET 6 is built against 10.1: let a request
    /// for any FSharp.Core resolve to the one already loaded.
    /// </summary>
    public static void InstallFSharpCoreResolver()
    {
        if (resolverInstalled) return;
        resolverInstalled = true;
        AssemblyLoadContext.Default.Resolving += (_, name) =>
            name.Name == "FSharp.Core"
                ? AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == "FSharp.Core")
                : null;
    }
}
