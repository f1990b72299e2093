using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Theory;

/// <summary>
/// C ← α·op(A)·op(B) + β·C for contiguous float32 CPU tensors, through the system's OpenBLAS (Debian's
/// libopenblas0-pthread) when it is installed, else through torch. libtorch's bundled MKL runs single-thread sgemm
/// at about half OpenBLAS's speed on the AMD EPYC this project measures on (docs/benchmarks.md, Theory), and the
/// theory step is two such products per model. Set GRANULARITY_THEORY_BLAS=torch to force the torch path.
/// </summary>
public static class Sgemm
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;
    private static readonly object Gate = new();
    private static bool loaded;
    private static GemmFunction? gemm;
    private static SetThreadsFunction? setThreads;
    private static DataFunction? tensorData;
    private static int threads = -1;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void GemmFunction(int order, int transA, int transB, int m, int n, int k, float alpha, IntPtr a, int lda, IntPtr b, int ldb, float beta, IntPtr c, int ldc);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetThreadsFunction(int threads);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr DataFunction(IntPtr tensor);

    /// <summary>"openblas" when products go through the system OpenBLAS, "torch" otherwise.</summary>
    public static string Backend => Load() ? "openblas" : "torch";

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
                tensorData!(a.Handle), (int)a.shape[1], tensorData(b.Handle), (int)b.shape[1], beta, tensorData(c.Handle), (int)c.shape[1]);
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
            if (!OperatingSystem.IsLinux()) return false;
            Granularity.Core.TorchRuntime.EnsureNativesLoaded();
            if (!NativeLibrary.TryLoad("libopenblas.so.0", out var blas)) return false;
            if (!NativeLibrary.TryGetExport(blas, "cblas_sgemm", out var gemmExport)
                || !NativeLibrary.TryGetExport(blas, "openblas_set_num_threads", out var threadsExport)) return false;
            var torchSharp = Granularity.Core.TorchRuntime.NativeSource is { } folder
                && NativeLibrary.TryLoad(Path.Combine(folder, "libLibTorchSharp.so"), out var handle) ? handle
                : NativeLibrary.TryLoad("libLibTorchSharp.so", out var bare) ? bare : IntPtr.Zero;
            if (torchSharp == IntPtr.Zero || !NativeLibrary.TryGetExport(torchSharp, "THSTensor_data", out var dataExport)) return false;
            gemm = Marshal.GetDelegateForFunctionPointer<GemmFunction>(gemmExport);
            setThreads = Marshal.GetDelegateForFunctionPointer<SetThreadsFunction>(threadsExport);
            tensorData = Marshal.GetDelegateForFunctionPointer<DataFunction>(dataExport);
            return true;
        }
    }
}
