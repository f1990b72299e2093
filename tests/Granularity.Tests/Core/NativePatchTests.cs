using Granularity.Core;
using Granularity.Native;
using Granularity.Notebook;
using Xunit;

namespace Granularity.Tests.Core;

public class NativePatchTests
{
    private static string PackagedLibTorchSharp()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "torchsharp", PackageVersions.TorchSharp, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    /// <summary>Finds the file offset of the vna_flags of the GLIBCXX_3.4.32 requirement by patching a copy and comparing bytes.</summary>
    [Fact]
    public void MarkWeakSetsExactlyTheFlagOfTheNamedRequirementAndIsIdempotent()
    {
        var original = PackagedLibTorchSharp();
        Assert.True(File.Exists(original), $"restore the solution first: {original} is missing");
        using var directory = new TempFolder("elf");
        {
            var copy = Path.Combine(directory.Path, "libLibTorchSharp.so");
            File.Copy(original, copy);
            var before = File.ReadAllBytes(copy);

            // Whatever state the package is in, clearing and re-setting must change one byte: find it, clear it, patch.
            var first = ElfVersionNeedPatcher.MarkWeak(copy, ElfVersionNeedPatcher.TorchSharpMissingVersion);
            Assert.Contains(first, new[] { ElfVersionNeedPatcher.Outcome.Patched, ElfVersionNeedPatcher.Outcome.AlreadyWeak });
            var weak = File.ReadAllBytes(copy);
            var differing = Enumerable.Range(0, before.Length).Where(i => before[i] != weak[i]).ToList();
            Assert.True(differing.Count <= 1, $"patching changed {differing.Count} bytes");

            Assert.Equal(ElfVersionNeedPatcher.Outcome.AlreadyWeak, ElfVersionNeedPatcher.MarkWeak(copy, ElfVersionNeedPatcher.TorchSharpMissingVersion));
            Assert.Equal(weak, File.ReadAllBytes(copy));
            Assert.Equal(ElfVersionNeedPatcher.Outcome.NotRequired, ElfVersionNeedPatcher.MarkWeak(copy, "GLIBCXX_9.9.99"));
        }
    }

    [Fact]
    public void AnUnpatchedCopyGetsItsSingleFlagByteSet()
    {
        var original = PackagedLibTorchSharp();
        using var directory = new TempFolder("elf");
        {
            var copy = Path.Combine(directory.Path, "libLibTorchSharp.so");
            File.Copy(original, copy);
            ElfVersionNeedPatcher.MarkWeak(copy, ElfVersionNeedPatcher.TorchSharpMissingVersion);
            var weak = File.ReadAllBytes(copy);
            // Un-patch by hand at the offset readelf reports (.gnu.version_r + entry offset + 4), found via the patcher itself:
            var flagOffset = FindWeakFlagOffset(weak);
            var unpatched = (byte[])weak.Clone();
            unpatched[flagOffset] = (byte)(unpatched[flagOffset] & ~2);
            File.WriteAllBytes(copy, unpatched);
            Assert.Equal(ElfVersionNeedPatcher.Outcome.Patched, ElfVersionNeedPatcher.MarkWeak(copy, ElfVersionNeedPatcher.TorchSharpMissingVersion));
            Assert.Equal(weak, File.ReadAllBytes(copy));
        }
    }

    [Fact]
    public void AFileThatIsNotElfIsRejectedWithItsPath()
    {
        using var folder = new TempFolder("elf");
        var path = folder.Combine("not-elf.bin");
        try
        {
            File.WriteAllText(path, "not an ELF file, just text that is long enough to have a header........................");
            var error = Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.MarkWeak(path, "GLIBCXX_3.4.32"));
            Assert.Contains(path, error.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TorchLoadsAndComputesAfterThePatch()
    {
        TorchRuntime.EnsureNativesLoaded();
        using var x = TorchSharp.torch.arange(10, dtype: TorchSharp.torch.float32);
        Assert.Equal(45f, x.sum().item<float>());
        Assert.Equal("cpu", TorchRuntime.Device.type.ToString().ToLowerInvariant());
    }

    // Walks .gnu.version_r the same way the loader does, to locate the GLIBCXX_3.4.32 vna_flags independently of the patcher.
    private static int FindWeakFlagOffset(byte[] bytes)
    {
        long shoff = BitConverter.ToInt64(bytes, 0x28);
        int shentsize = BitConverter.ToUInt16(bytes, 0x3A), shnum = BitConverter.ToUInt16(bytes, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            long header = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(bytes, (int)header + 4) != 0x6ffffffe) continue;
            long offset = BitConverter.ToInt64(bytes, (int)header + 24);
            uint link = BitConverter.ToUInt32(bytes, (int)header + 40), count = BitConverter.ToUInt32(bytes, (int)header + 44);
            long strings = BitConverter.ToInt64(bytes, (int)(shoff + link * shentsize + 24));
            long need = offset;
            for (int n = 0; n < count; n++)
            {
                long aux = need + BitConverter.ToUInt32(bytes, (int)need + 8);
                for (int a = 0; a < BitConverter.ToUInt16(bytes, (int)need + 2); a++)
                {
                    long name = strings + BitConverter.ToUInt32(bytes, (int)aux + 8);
                    var text = System.Text.Encoding.ASCII.GetString(bytes, (int)name, 14);
                    if (text == "GLIBCXX_3.4.32") return (int)aux + 4;
                    aux += BitConverter.ToUInt32(bytes, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(bytes, (int)need + 12);
            }
        }
        throw new InvalidOperationException("no GLIBCXX_3.4.32 requirement found");
    }
}
