using System.Formats.Tar;
using System.IO.Compression;
using Granularity.Core;

namespace Granularity.Data;

/// <summary>An archive entry that must not be written: it would leave the target folder, is absolute, or is a link or device.</summary>
public sealed class UnsafeArchiveEntryException(string archive, string entry, string reason)
    : InputFormatException(archive, $"entry '{entry}'", $"rejected: {reason}; nothing outside the target folder was written")
{
    public string Archive { get; } = archive;
    public string Entry { get; } = entry;
}

/// <summary>
/// Hostile entries met while reading tars in place (a path leaving the archive, an absolute path, a link, a device):
/// skipped and counted with the first as an example, or, when <see cref="Strict"/>, refused with an error naming it.
/// Links are never followed either way.
/// </summary>
public sealed class HostileEntries(bool strict)
{
    public bool Strict { get; } = strict;
    public int Count { get; private set; }

    /// <summary>The first one skipped: "archive: 'entry' (reason)".</summary>
    public string? Example { get; private set; }

    internal void Add(string archive, string entry, string reason)
    {
        if (Strict) throw new UnsafeArchiveEntryException(archive, entry, reason + " (strict)");
        Count++;
        Example ??= $"{archive}: '{entry}' ({reason})";
    }

    /// <summary>One line for the user, or null when there were none.</summary>
    public string? Summary => Count == 0 ? null
        : $"skipped {Count:N0} hostile archive entr{(Count == 1 ? "y" : "ies")} (paths leaving the archive, links or devices), e.g. {Example}; --strict refuses such archives";
}

/// <summary>Reads tar and tar.gz archives with System.Formats.Tar: safe extraction, and member listing for reading images in place.</summary>
public static class TarArchives
{
    /// <summary>A regular-file member of an uncompressed tar: its name, where its bytes start, and its length.</summary>
    public readonly record struct Member(string Name, long DataOffset, long Length);

    public static bool IsGzip(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Lists the regular files of an uncompressed tar with the offset of their data by walking its 512-byte headers and
    /// seeking over member data (ustar, GNU long names and pax records are understood), so a per-synset tar can serve
    /// images in place without extraction. System.Formats.Tar does not expose data offsets, hence this small reader.
    /// Entries whose name leaves the archive ('..', absolute) and link or device entries go to <paramref name="hostile"/>
    /// (default: strict, so they are refused).
    /// </summary>
    public static List<Member> ListMembers(string tarPath, HostileEntries? hostile = null)
    {
        hostile ??= new HostileEntries(strict: true);
        if (IsGzip(tarPath)) throw new InvalidDataException($"{tarPath}: a compressed tar cannot be read in place; extract it with `granularity data prepare`");
        var members = new List<Member>();
        using var stream = new FileStream(tarPath, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.RandomAccess);
        long length = stream.Length, position = 0;
        var header = new byte[512];
        string? longName = null, paxPath = null;
        long? paxSize = null;
        while (position + 512 <= length)
        {
            stream.Position = position;
            stream.ReadExactly(header);
            if (header.All(b => b == 0)) break; // end-of-archive marker
            if (!ChecksumMatches(header)) throw new InputFormatException(tarPath, $"byte {position}", "not a tar archive or corrupt header (checksum mismatch)");
            long size = ParseNumber(header.AsSpan(124, 12), tarPath, position);
            char type = (char)header[156];
            long dataStart = position + 512;
            if (size < 0 || size > length - dataStart) throw new InputFormatException(tarPath, $"byte {position}", $"truncated: the member needs {size} bytes, the file ends first");
            switch (type)
            {
                case 'L':
                    longName = ReadText(stream, dataStart, size).TrimEnd('\0');
                    break;
                case 'x':
                    foreach (var (key, value) in PaxRecords(ReadText(stream, dataStart, size)))
                    {
                        if (key == "path") paxPath = value;
                        else if (key == "size" && long.TryParse(value, out var s)) paxSize = s;
                    }
                    break;
                case 'g' or 'K':
                    break;
                default:
                    if (paxSize is { } overridden)
                    {
                        if (overridden < 0 || overridden > length - dataStart) throw new InputFormatException(tarPath, $"byte {position}", $"truncated: the pax size {overridden} runs past the end of the file");
                        size = overridden;
                    }
                    var name = paxPath ?? longName ?? HeaderName(header);
                    if (type is '0' or '\0' or '7')
                    {
                        if (InPlaceProblem(name) is { } problem) hostile.Add(tarPath, name, problem);
                        else members.Add(new Member(name, dataStart, size));
                    }
                    else if (type is '1') hostile.Add(tarPath, name, $"hard link to '{CString(header.AsSpan(157, 100))}', not followed");
                    else if (type is '2') hostile.Add(tarPath, name, $"symbolic link to '{CString(header.AsSpan(157, 100))}', not followed");
                    else if (type is '3' or '4' or '6') hostile.Add(tarPath, name, "device or fifo entry");
                    else if (type is not '5') hostile.Add(tarPath, name, $"unsupported entry type '{(type < ' ' ? "\\x" + ((int)type).ToString("x2") : type.ToString())}'");
                    longName = paxPath = null;
                    paxSize = null;
                    break;
            }
            position = dataStart + (size + 511) / 512 * 512;
        }
        return members;
    }

    /// <summary>Why a member name read in place is hostile (absolute, any '..', NUL or control characters), or null.</summary>
    private static string? InPlaceProblem(string name)
    {
        if (name.Length == 0) return "empty name";
        if (name.Any(char.IsControl)) return "control character in its name";
        if (name[0] is '/' or '\\' || (name.Length > 1 && name[1] == ':')) return "absolute path";
        if (name.Split('/', '\\').Any(part => part == "..")) return "'..' component would leave the archive";
        return null;
    }

    private static string HeaderName(byte[] header)
    {
        var name = CString(header.AsSpan(0, 100));
        // POSIX ustar ("ustar\0") splits long paths into prefix + name; GNU ("ustar  ") uses those bytes otherwise.
        bool posix = header[257] == 'u' && header[262] == 0;
        var prefix = posix ? CString(header.AsSpan(345, 155)) : "";
        return prefix.Length > 0 ? prefix + "/" + name : name;
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    private static long ParseNumber(ReadOnlySpan<byte> field, string tarPath, long position)
    {
        if ((field[0] & 0x80) != 0)
        {
            long big = field[0] & 0x7F;
            for (int i = 1; i < field.Length; i++)
            {
                if (big > long.MaxValue >> 8) throw new InputFormatException(tarPath, $"byte {position}", "base-256 number field in the header overflows");
                big = (big << 8) | field[i];
            }
            return big;
        }
        long value = 0;
        foreach (var b in field)
        {
            if (b is 0 or (byte)' ') { if (value > 0) break; continue; }
            if (b is < (byte)'0' or > (byte)'7') throw new InputFormatException(tarPath, $"byte {position}", "bad number field in the header (expected octal digits)");
            if (value > long.MaxValue >> 3) throw new InputFormatException(tarPath, $"byte {position}", "number field in the header overflows");
            value = value * 8 + (b - '0');
        }
        return value;
    }

    private static bool ChecksumMatches(byte[] header)
    {
        long stored;
        try { stored = ParseNumber(header.AsSpan(148, 8), "", 0); } catch (InputFormatException) { return false; }
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += i is >= 148 and < 156 ? ' ' : header[i];
        return sum == stored;
    }

    private static string ReadText(FileStream stream, long offset, long size)
    {
        if (size > 1 << 20) throw new InputFormatException(stream.Name, $"byte {offset}", $"extended header of {size} bytes is implausibly large");
        var buffer = new byte[size];
        stream.Position = offset;
        stream.ReadExactly(buffer);
        return System.Text.Encoding.UTF8.GetString(buffer);
    }

    private static IEnumerable<(string Key, string Value)> PaxRecords(string text)
    {
        // Each record is "LENGTH key=value\n", LENGTH counting the whole record in bytes.
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        int at = 0;
        while (at < bytes.Length)
        {
            int space = Array.IndexOf(bytes, (byte)' ', at);
            if (space < 0 || !int.TryParse(System.Text.Encoding.ASCII.GetString(bytes, at, space - at), out var recordLength) || recordLength <= space - at || recordLength > bytes.Length - at) yield break;
            var record = System.Text.Encoding.UTF8.GetString(bytes, space + 1, Math.Max(0, at + recordLength - space - 2));
            int equals = record.IndexOf('=');
            if (equals > 0) yield return (record[..equals], record[(equals + 1)..]);
            at += recordLength;
        }
    }

    /// <summary>
    /// Extracts <paramref name="archivePath"/> (tar or tar.gz) into <paramref name="targetFolder"/>. Every entry is checked
    /// before anything of it is written: absolute paths, any '..' component, names resolving outside the target,
    /// symbolic and hard links, and device/fifo entries are rejected with an <see cref="UnsafeArchiveEntryException"/>
    /// naming the entry. Files already present with the same size are kept (a rerun after an interruption resumes).
    /// Returns the number of files written or kept.
    /// </summary>
    public static long ExtractSafely(string archivePath, string targetFolder, Action<long, long>? progress = null)
    {
        var target = Path.GetFullPath(targetFolder);
        Directory.CreateDirectory(target);
        var targetWithSeparator = target.EndsWith(Path.DirectorySeparatorChar) ? target : target + Path.DirectorySeparatorChar;
        long archiveLength = new FileInfo(archivePath).Length;
        using var file = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        using Stream input = IsGzip(archivePath) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new TarReader(input);
        long files = 0;
        var buffer = new byte[1 << 20];
        while (true)
        {
            TarEntry? entry;
            try { entry = reader.GetNextEntry(copyData: false); }
            catch (Exception error) when (error is InvalidDataException or EndOfStreamException or FormatException)
            {
                throw new InvalidDataException($"{archivePath}: corrupt or truncated archive after {files} files ({error.Message})", error);
            }
            if (entry is null) break;
            var destination = CheckedDestination(archivePath, entry, targetWithSeparator);
            if (destination is null) continue; // a pax/global header or other metadata-only entry
            if (entry.EntryType == TarEntryType.Directory) { Directory.CreateDirectory(destination); continue; }
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            var existing = new FileInfo(destination);
            if (!(existing.Exists && existing.Length == entry.Length))
            {
                var partial = destination + ".partial";
                using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    if (entry.DataStream is { } data)
                    {
                        int read;
                        while ((read = data.Read(buffer, 0, buffer.Length)) > 0) output.Write(buffer, 0, read);
                    }
                }
                File.Move(partial, destination, overwrite: true);
            }
            files++;
            progress?.Invoke(file.Position, archiveLength);
        }
        progress?.Invoke(archiveLength, archiveLength);
        return files;
    }

    /// <summary>The full destination path of a safe entry; null for entries that carry no file.</summary>
    private static string? CheckedDestination(string archive, TarEntry entry, string targetWithSeparator)
    {
        var name = entry.Name;
        switch (entry.EntryType)
        {
            case TarEntryType.SymbolicLink:
                throw new UnsafeArchiveEntryException(archive, name, $"symbolic link (to '{entry.LinkName}') not allowed");
            case TarEntryType.HardLink:
                throw new UnsafeArchiveEntryException(archive, name, $"hard link (to '{entry.LinkName}') not allowed");
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                throw new UnsafeArchiveEntryException(archive, name, $"{entry.EntryType} entries are not allowed");
            case TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes or TarEntryType.LongLink or TarEntryType.LongPath:
                return null;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile or TarEntryType.Directory:
                break;
            default:
                throw new UnsafeArchiveEntryException(archive, name, $"unsupported entry type {entry.EntryType}");
        }
        if (string.IsNullOrEmpty(name)) throw new UnsafeArchiveEntryException(archive, name, "empty name");
        if (name.Contains('\0')) throw new UnsafeArchiveEntryException(archive, name, "NUL in name");
        if (name.StartsWith('/') || name.StartsWith('\\') || (name.Length > 1 && name[1] == ':') || Path.IsPathRooted(name))
            throw new UnsafeArchiveEntryException(archive, name, "absolute path");
        var parts = name.Split('/', '\\');
        if (parts.Any(part => part == ".."))
            throw new UnsafeArchiveEntryException(archive, name, "'..' component would leave the target folder");
        var relative = string.Join(Path.DirectorySeparatorChar, parts.Where(p => p.Length > 0 && p != "."));
        if (relative.Length == 0) return null; // "./"
        var full = Path.GetFullPath(Path.Combine(targetWithSeparator, relative));
        if (!full.StartsWith(targetWithSeparator, StringComparison.Ordinal))
            throw new UnsafeArchiveEntryException(archive, name, "resolves outside the target folder");
        // A symlink planted earlier (e.g. by another tool) must not redirect writes either.
        for (var dir = Path.GetDirectoryName(full); dir is not null && dir.Length >= targetWithSeparator.Length; dir = Path.GetDirectoryName(dir))
            if (new DirectoryInfo(dir) is { Exists: true, LinkTarget: not null })
                throw new UnsafeArchiveEntryException(archive, name, $"its folder {dir} is a symbolic link");
        if (File.Exists(full) && new FileInfo(full).LinkTarget is not null)
            throw new UnsafeArchiveEntryException(archive, name, "would overwrite a symbolic link");
        return full;
    }
}
