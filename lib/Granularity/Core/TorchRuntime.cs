using System.Runtime.InteropServices;
using Granularity.Native;
using TorchSharp;

namespace Granularity.Core;

/// <summary>
/// The one device policy of the project (CUDA when available, else CPU), chosen once before any autograd runs,
/// and the native loading that makes TorchSharp work in notebook kernels on Debian 12.
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static torch.Device? device;
    private static bool nativesLoaded;

    /// <summary>Where TorchSharp's native library was loaded from, when this class loaded it.</summary>
    public static string? NativeSource { get; private set; }

    /// <summary>The device every experiment uses: <c>GRANULARITY_DEVICE</c> (cpu or cuda) if set, else CUDA if available, else CPU.</summary>
    public static torch.Device Device
    {
        get
        {
            lock (Gate)
            {
                if (device is not null) return device;
                EnsureNativesLoaded();
                var requested = Environment.GetEnvironmentVariable("GRANULARITY_DEVICE")?.Trim().ToLowerInvariant();
                device = requested switch
                {
                    null or "" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
                    "cpu" => torch.CPU,
                    "cuda" when torch.cuda.is_available() => torch.CUDA,
                    "cuda" => throw new InvalidOperationException("GRANULARITY_DEVICE=cuda but CUDA is not available: build with -p:TorchDevice=cuda on a machine with an NVIDIA driver (environment.md)"),
                    _ => throw new ArgumentException($"GRANULARITY_DEVICE must be 'cpu' or 'cuda', got '{requested}'"),
                };
                return device;
            }
        }
    }

    /// <summary>Seeds torch's generators (and CUDA's, when present) so a run is repeatable.</summary>
    public static void Seed(int seed)
    {
        EnsureNativesLoaded();
        torch.random.manual_seed(seed);
        if (torch.cuda.is_available()) torch.cuda.manual_seed_all(seed);
    }

    /// <summary>
    /// Loads libtorch and libLibTorchSharp by absolute path before TorchSharp's own bare-name probing, so that a
    /// system libtorch (Debian's libtorch-dev) cannot win in a notebook kernel, and patches the GLIBCXX_3.4.32
    /// requirement where the system lacks it. Apps and tests find the natives next to the assembly; kernels find
    /// them in the NuGet cache.
    /// </summary>
    public static void EnsureNativesLoaded()
    {
        lock (Gate)
        {
            if (nativesLoaded) return;
            var threads = ThreadsFromEnvironment();
            nativesLoaded = true;
            LoadNatives();
            if (threads is not null) torch.set_num_threads(threads.Value);
        }
    }

    /// <summary>
    /// <c>GRANULARITY_THREADS</c>: torch's intra-op threads for this process, set when the natives load (the notebook
    /// runner gives each of its concurrent kernels a share of the cores); null when unset.
    /// </summary>
    public static int? ThreadsFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(ThreadsVariable)?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var threads) && threads is >= 1 and <= 1024
            ? threads
            : throw new ArgumentException($"{ThreadsVariable} must be a whole number of threads from 1 to 1024, got '{text}'");
    }

    /// <summary>The environment variable <see cref="ThreadsFromEnvironment"/> reads.</summary>
    public const string ThreadsVariable = "GRANULARITY_THREADS";

    private static void LoadNatives()
    {
        if (!OperatingSystem.IsLinux()) return;
        var here = Path.GetDirectoryName(typeof(TorchRuntime).Assembly.Location) ?? AppContext.BaseDirectory;
        foreach (var directory in new[] { here, Path.Combine(here, "runtimes", "linux-x64", "native"), AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native") })
            if (TryLoad(directory, directory)) return;
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var torchSharpNative = Path.Combine(packages, "torchsharp", PackageVersions.TorchSharp, "runtimes", "linux-x64", "native");
        foreach (var libtorch in new[] { "libtorch-cpu-linux-x64", "libtorch-cuda-12.8-linux-x64" })
        {
            var packageFolder = Path.Combine(packages, libtorch, PackageVersions.LibTorch, "runtimes", "linux-x64", "native");
            if (TryLoad(packageFolder, torchSharpNative)) return;
        }
    }

    private static bool TryLoad(string libtorchDirectory, string torchSharpDirectory)
    {
        var libtorch = Path.Combine(libtorchDirectory, "libtorch.so");
        var libTorchSharp = Path.Combine(torchSharpDirectory, "libLibTorchSharp.so");
        if (!File.Exists(libtorch) || !File.Exists(libTorchSharp)) return false;
        if (!ElfVersionNeedPatcher.SystemLibStdCxxHas(ElfVersionNeedPatcher.TorchSharpMissingVersion))
        {
            try { ElfVersionNeedPatcher.MarkWeak(libTorchSharp, ElfVersionNeedPatcher.TorchSharpMissingVersion); }
            catch (UnauthorizedAccessException) { /* read-only install: the build already patched it, or loading says why */ }
            catch (IOException) { }
        }
        NativeLibrary.Load(libtorch);
        NativeLibrary.Load(libTorchSharp);
        NativeSource = torchSharpDirectory;
        return true;
    }
}

/// <summary>Versions of native packages the loader looks for in the NuGet cache (kept equal to Directory.Packages.props; a test checks).</summary>
public static class PackageVersions
{
    public const string TorchSharp = "0.107.0";
    public const string LibTorch = "2.10.0";
}
