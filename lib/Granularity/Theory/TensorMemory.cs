using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Theory;

/// <summary>The address of a CPU tensor's first element, for code that writes or reads a contiguous tensor in place.</summary>
internal static class TensorMemory
{
    private static readonly object Gate = new();
    private static DataFunction? tensorData;
    private static bool loaded;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr DataFunction(IntPtr tensor);

    /// <summary>True when the native export is available (libLibTorchSharp's THSTensor_data).</summary>
    public static bool Available
    {
        get
        {
            lock (Gate)
            {
                if (loaded) return tensorData is not null;
                loaded = true;
                Granularity.Core.TorchRuntime.EnsureNativesLoaded();
                var torchSharp = Granularity.Core.TorchRuntime.NativeSource is { } folder
                    && NativeLibrary.TryLoad(Path.Combine(folder, "libLibTorchSharp.so"), out var handle) ? handle
                    : NativeLibrary.TryLoad("libLibTorchSharp.so", out var bare) ? bare
                    : NativeLibrary.TryLoad("LibTorchSharp", typeof(torch).Assembly, null, out var resolved) ? resolved : IntPtr.Zero;
                if (torchSharp != IntPtr.Zero && NativeLibrary.TryGetExport(torchSharp, "THSTensor_data", out var export))
                    tensorData = Marshal.GetDelegateForFunctionPointer<DataFunction>(export);
                return tensorData is not null;
            }
        }
    }

    /// <summary>The first element's address; the caller keeps <paramref name="tensor"/> alive while it uses it.</summary>
    public static IntPtr Address(Tensor tensor)
    {
        if (!Available) throw new InvalidOperationException("libLibTorchSharp's THSTensor_data export was not found");
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException($"needs a contiguous CPU tensor, got one on {tensor.device_type}{(tensor.is_contiguous() ? "" : ", not contiguous")}", nameof(tensor));
        return tensorData!(tensor.Handle);
    }
}
