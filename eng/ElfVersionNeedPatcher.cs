// Shared by the MSBuild task in Directory.Build.targets (compiled inline) and by the library's
// native loader, so builds, tests and notebook kernels apply one and the same fix.
using System;
using System.IO;
using System.Text;

namespace Granularity.Native
{
    /// <summary>
    /// Marks one version requirement (a Vernaux entry of an ELF64 file's .gnu.version_r section) as weak,
    /// so the dynamic loader accepts a library that asks for a symbol version the system lacks.
    /// TorchSharp 0.107's libLibTorchSharp.so asks GLIBCXX_3.4.32 only for <c>_ZSt21ios_base_library_initv</c>,
    /// which no relocation uses; Debian 12's libstdc++ stops at GLIBCXX_3.4.30.
    /// </summary>
    public static class ElfVersionNeedPatcher
    {
        public const string TorchSharpMissingVersion = "GLIBCXX_3.4.32";
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlagWeak = 0x2;

        /// <summary>What <see cref="MarkWeak"/> found or did.</summary>
        public enum Outcome { Patched, AlreadyWeak, NotRequired }

        /// <summary>True when the system's libstdc++ defines the version (then nothing needs patching).</summary>
        public static bool SystemLibStdCxxHas(string version)
        {
            foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu" })
            {
                var path = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(path)) return ContainsAscii(File.ReadAllBytes(path), version + "\0");
            }
            return false;
        }

        /// <summary>Sets VER_FLG_WEAK on every requirement of <paramref name="version"/> in <paramref name="path"/>; idempotent.</summary>
        public static Outcome MarkWeak(string path, string version)
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
                throw new InvalidDataException($"{path}: not an ELF file");
            if (bytes[4] != 2 || bytes[5] != 1)
                throw new InvalidDataException($"{path}: only 64-bit little-endian ELF files are supported");

            long sectionHeaders = (long)U64(bytes, 0x28);
            int entrySize = U16(bytes, 0x3A), count = U16(bytes, 0x3C);
            var found = false;
            var changed = false;
            for (int i = 0; i < count; i++)
            {
                long header = sectionHeaders + (long)i * entrySize;
                if (U32(bytes, header + 4) != ShtGnuVerneed) continue;
                long offset = (long)U64(bytes, header + 24);
                uint stringSection = U32(bytes, header + 40), needCount = U32(bytes, header + 44);
                long strings = (long)U64(bytes, sectionHeaders + (long)stringSection * entrySize + 24);
                long need = offset;
                for (uint n = 0; n < needCount; n++)
                {
                    int auxCount = U16(bytes, need + 2);
                    long aux = need + U32(bytes, need + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        if (CString(bytes, strings + U32(bytes, aux + 8)) == version)
                        {
                            found = true;
                            ushort flags = (ushort)U16(bytes, aux + 4);
                            if ((flags & VerFlagWeak) == 0)
                            {
                                flags |= VerFlagWeak;
                                bytes[aux + 4] = (byte)(flags & 0xff);
                                bytes[aux + 5] = (byte)(flags >> 8);
                                changed = true;
                            }
                        }
                        aux += U32(bytes, aux + 12);
                    }
                    need += U32(bytes, need + 12);
                }
            }
            if (!found) return Outcome.NotRequired;
            if (!changed) return Outcome.AlreadyWeak;
            var temporary = path + ".patching";
            File.WriteAllBytes(temporary, bytes);
            File.Replace(temporary, path, null);
            return Outcome.Patched;
        }

        private static bool ContainsAscii(byte[] haystack, string needle)
        {
            var pattern = Encoding.ASCII.GetBytes(needle);
            for (int i = 0; i + pattern.Length <= haystack.Length; i++)
            {
                int j = 0;
                while (j < pattern.Length && haystack[i + j] == pattern[j]) j++;
                if (j == pattern.Length) return true;
            }
            return false;
        }

        private static string CString(byte[] bytes, long start)
        {
            long end = start;
            while (end < bytes.Length && bytes[end] != 0) end++;
            return Encoding.ASCII.GetString(bytes, (int)start, (int)(end - start));
        }

        private static int U16(byte[] b, long o) => b[o] | (b[o + 1] << 8);
        private static uint U32(byte[] b, long o) => BitConverter.ToUInt32(b, (int)o);
        private static ulong U64(byte[] b, long o) => BitConverter.ToUInt64(b, (int)o);
    }
}

#if !GRANULARITY_LIBRARY
// The MSBuild task (compiled by RoslynCodeTaskFactory from this file; the library defines GRANULARITY_LIBRARY and skips it).
namespace Granularity.Build
{
    public sealed class GranularityPatchTorchSharpNative : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required] public string PackageRoot { get; set; } = "";
        [Microsoft.Build.Framework.Required] public string TorchSharpVersion { get; set; } = "";

        public override bool Execute()
        {
            var package = Path.Combine(PackageRoot, "torchsharp", TorchSharpVersion);
            if (!Directory.Exists(package)) return true;
            if (Granularity.Native.ElfVersionNeedPatcher.SystemLibStdCxxHas(Granularity.Native.ElfVersionNeedPatcher.TorchSharpMissingVersion)) return true;
            foreach (var file in Directory.EnumerateFiles(package, "libLibTorchSharp.so", SearchOption.AllDirectories))
            {
                var outcome = Granularity.Native.ElfVersionNeedPatcher.MarkWeak(file, Granularity.Native.ElfVersionNeedPatcher.TorchSharpMissingVersion);
                if (outcome == Granularity.Native.ElfVersionNeedPatcher.Outcome.Patched)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                        $"Granularity: marked {Granularity.Native.ElfVersionNeedPatcher.TorchSharpMissingVersion} weak in {file} (this system's libstdc++ lacks it)");
            }
            return true;
        }
    }
}
#endif
