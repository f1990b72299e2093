using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Theory;

/// <summary>
/// C ← α·op(A)·op(B) + β·C for contiguous float32 CPU tensors, through the system's OpenBLAS (Debian's
/// libopenblas0-pthread) when it is installed, else through torch. libtorch's bundled MKL runs single-thread sgemm
/// at about half OpenBLAS's speed on the AMD EPYC this project measures on (docs/benchmarks.md, Theory), and the
/// theory step is two such products per model. Set GRANULARITY_THEORY_BLAS=torch to force the torch path.
/// OpenBLAS 0.3.21 (Debian 12) does not know recent Intel cores (it reads a 5th-generation Xeon as "Prescott", SSE3 only,
/// and runs 4× slower than it could): when its own detection picks a kernel without AVX2 on a CPU that has AVX2, the
/// library is loaded again with <c>OPENBLAS_CORETYPE</c> set from the CPU's features (Cooperlake for AVX-512 BF16,
/// SkylakeX for AVX-512, Haswell for AVX2), and torch is used if that fails. A user's own OPENBLAS_CORETYPE is kept.
/// </summary>
public static class Sgemm
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;
    private static readonly object Gate = new();
    private static bool loaded;
    private static GemmFunction? gemm;
    private static SetThreadsFunction? setThreads;
    private static int threads = -1;

    /// <summary>Core names of OpenBLAS x86-64 kernels that use AVX2 or AVX-512.</summary>
    private static readonly string[] VectorCores = ["Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "Excavator"];

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void GemmFunction(int order, int transA, int transB, int m, int n, int k, float alpha, IntPtr a, int lda, IntPtr b, int ldb, float beta, IntPtr c, int ldc);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetThreadsFunction(int threads);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr CoreNameFunction();

    /// <summary>
    /// "openblas (CORE)" when products go through the system OpenBLAS, with the kernel it runs and, where this class chose
    /// it, what OpenBLAS detected by itself; "torch" otherwise, with the reason when OpenBLAS was found but not used.
    /// </summary>
    public static string Backend => Load() ? $"openblas ({Core}{(DetectedCore is null ? "" : $", set by OPENBLAS_CORETYPE; OpenBLAS's own detection: {DetectedCore}")})"
        : FallbackReason is null ? "torch" : $"torch ({FallbackReason})";

    /// <summary>The OpenBLAS kernel in use (openblas_get_corename), or null when products go through torch.</summary>
    public static string? Core { get; private set; }

    /// <summary>What OpenBLAS detected by itself when this class overrode it with OPENBLAS_CORETYPE = <see cref="Core"/>; else null.</summary>
    public static string? DetectedCore { get; private set; }

    /// <summary>Why the system OpenBLAS was found but not used, or null.</summary>
    public static string? FallbackReason { get; private set; }

    /// <summary>OPENBLAS_CORETYPE for another process (a benchmark peer) to run the same kernel as this one; null when nothing was overridden.</summary>
    public static string? CoreTypeOverride => Load() && DetectedCore is not null ? Core : null;

    /// <summary>Makes a peer process (Debian's PyTorch, which also uses this OpenBLAS) run the kernel these products run.</summary>
    public static void UseSameKernelIn(System.Diagnostics.ProcessStartInfo peer)
    {
        if (CoreTypeOverride is { } core && !peer.Environment.ContainsKey("OPENBLAS_CORETYPE")) peer.Environment["OPENBLAS_CORETYPE"] = core;
    }

    /// <summary>C ← α·op(A)·op(B) + β·C; A, B, C 2-d float32, C contiguous; op transposes when asked.</summary>
    public static void Multiply(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, float alpha, float beta)
    {
        long m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1];
        long kB = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1];
        if (a.dim() != 2 || b.dim() != 2 || c.dim() != 2 || k != kB || c.shape[0] != m || c.shape[1] != n)
            throw new ArgumentException($"sgemm shapes do not match: op(A) [{m}, {k}], op(B) [{kB}, {n}], C [{string.Join(", ", c.shape)}]");
        if (Load() && a.device_type == DeviceType.CPU && b.device_type == DeviceType.CPU && c.device_type == DeviceType.CPU
            && a.dtype == ScalarType.Float32 && b.dtype == ScalarType.Float32 && c.dtype == ScalarType.Float32
            && a.is_contiguous() && b.is_contiguous() && c.is_contiguous())
        {
            SyncThreads();
            gemm!(RowMajor, transposeA ? Trans : NoTrans, transposeB ? Trans : NoTrans, (int)m, (int)n, (int)k, alpha,
                TensorMemory.Address(a), (int)a.shape[1], TensorMemory.Address(b), (int)b.shape[1], beta, TensorMemory.Address(c), (int)c.shape[1]);
            GC.KeepAlive(a); GC.KeepAlive(b); GC.KeepAlive(c);
            return;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var product = (transposeA ? a.t() : a).matmul(transposeB ? b.t() : b);
        if (beta == 0) c.copy_(product.mul_(alpha));
        else c.mul_(beta).add_(product, alpha: alpha);
    }

    private static void SyncThreads()
    {
        var wanted = get_num_threads();
        if (wanted == threads) return;
        setThreads!(wanted);
        threads = wanted;
    }

    private static bool Load()
    {
        lock (Gate)
        {
            if (loaded) return gemm is not null;
            loaded = true;
            if (string.Equals(Environment.GetEnvironmentVariable("GRANULARITY_THEORY_BLAS"), "torch", StringComparison.OrdinalIgnoreCase)) return false;
            if (!OperatingSystem.IsLinux() || !TensorMemory.Available) return false;
            if (!NativeLibrary.TryLoad("libopenblas.so.0", out var blas)) return false;
            var core = CoreName(blas);
            if (core is null) { NativeLibrary.Free(blas); return false; }
            if (!IsVectorCore(core) && System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                // OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded: unload it, set the variable, load it again.
                var userChoice = Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE");
                NativeLibrary.Free(blas);
                if (!string.IsNullOrEmpty(userChoice)) { FallbackReason = $"OPENBLAS_CORETYPE={userChoice} gives the {core} kernel, without AVX2"; return false; }
                var wanted = CoreForThisCpu();
                if (setenv("OPENBLAS_CORETYPE", wanted, 1) != 0 || !NativeLibrary.TryLoad("libopenblas.so.0", out blas)) { FallbackReason = $"OpenBLAS detected {core} and could not be reloaded"; return false; }
                var reloaded = CoreName(blas);
                if (reloaded is null || !IsVectorCore(reloaded))
                {
                    NativeLibrary.Free(blas);
                    FallbackReason = $"OpenBLAS detected {core}, a kernel without AVX2, and kept it when asked for {wanted}";
                    return false;
                }
                DetectedCore = core;
                core = reloaded;
            }
            if (!NativeLibrary.TryGetExport(blas, "cblas_sgemm", out var gemmExport)
                || !NativeLibrary.TryGetExport(blas, "openblas_set_num_threads", out var threadsExport)) return false;
            gemm = Marshal.GetDelegateForFunctionPointer<GemmFunction>(gemmExport);
            setThreads = Marshal.GetDelegateForFunctionPointer<SetThreadsFunction>(threadsExport);
            Core = core;
            return true;
        }
    }

    private static bool IsVectorCore(string core) => VectorCores.Any(c => string.Equals(c, core, StringComparison.OrdinalIgnoreCase));

    private static string? CoreName(IntPtr blas) =>
        NativeLibrary.TryGetExport(blas, "openblas_get_corename", out var export)
            ? Marshal.PtrToStringAnsi(Marshal.GetDelegateForFunctionPointer<CoreNameFunction>(export)())?.Trim()
            : null;

    /// <summary>The newest OpenBLAS 0.3.21 kernel this CPU can run, from its features.</summary>
    private static string CoreForThisCpu()
    {
        var line = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) ?? "" : "";
        var flags = line.Split([' ', '\t', ':'], StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        bool Has(string flag) => flags.Contains(flag);
        if (Has("avx512_bf16") && Has("avx512bw") && Has("avx512vl")) return "Cooperlake";
        if (Has("avx512f") && Has("avx512bw") && Has("avx512dq") && Has("avx512vl")) return "SkylakeX";
        return "Haswell";
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
