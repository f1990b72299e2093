namespace Granularity.Core;

/// <summary>
/// Resolves a relative path read from an input (a manifest's extractTo or imageRoot, an index or annotation entry, an
/// archive member) under its root, and refuses any that would leave it: absolute paths, drive or UNC prefixes, '..'
/// segments that climb out, and NUL or other control characters.
/// </summary>
public static class SafePath
{
    /// <summary>
    /// The full path of <paramref name="relative"/> under <paramref name="root"/>; an escape is an <see cref="InputFormatException"/>
    /// naming <paramref name="source"/> and the root, described as <paramref name="rootName"/> ("the manifest's folder").
    /// </summary>
    public static string Resolve(string root, string relative, string source, string? position = null, string rootName = "its root")
    {
        var problem = Problem(relative);
        if (problem is null)
        {
            var fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
            var full = Path.GetFullPath(Path.Combine(fullRoot, relative));
            if (full == fullRoot || full.StartsWith(fullRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return full;
            problem = $"climbs out of {rootName}";
        }
        throw new InputFormatException(source, position, $"path '{Printable(relative)}' {problem} (it must be relative and stay under {rootName}, {Path.GetFullPath(root)})");
    }

    /// <summary>True when <paramref name="relative"/> stays under any root (no absolute path, no escaping '..', no control characters).</summary>
    public static bool IsContained(string relative)
    {
        if (Problem(relative) is not null) return false;
        int depth = 0;
        foreach (var segment in relative.Split('/', '\\'))
        {
            if (segment is "" or ".") continue;
            depth += segment == ".." ? -1 : 1;
            if (depth < 0) return false;
        }
        return true;
    }

    /// <summary>Why a relative path can never be safe, or null.</summary>
    private static string? Problem(string relative)
    {
        if (relative.Length == 0) return "is empty";
        if (relative.Any(char.IsControl)) return "contains a control character";
        if (relative[0] is '/' or '\\' || Path.IsPathRooted(relative) || (relative.Length >= 2 && relative[1] == ':')) return "is absolute";
        return null;
    }

    private static string Printable(string text)
    {
        var clean = new string(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return clean.Length <= 120 ? clean : clean[..117] + "...";
    }
}
