namespace Granularity.Hierarchy;

/// <summary>One <c>parent child</c> entry of an edge list, with where it came from (for error messages).</summary>
public readonly record struct Edge(string Parent, string Child, string Source, int Line)
{
    /// <summary>"file:line" or "source" when the edge has no line.</summary>
    public string Where => Line > 0 ? $"{Source}:{Line}" : Source;
}

/// <summary>
/// Reads <c>parent child</c> edge lists: one edge per line, separated by a comma when the line has one (so names may
/// contain spaces, as iNat2021 species do), else by whitespace. Blank lines and lines starting with '#' are skipped.
/// </summary>
public static class EdgeList
{
    /// <summary>Reads the edges of <paramref name="path"/>; a line with other than two fields is an error naming file and line.</summary>
    public static List<Edge> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: edge list not found", path);
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <summary>Parses edge-list text; <paramref name="source"/> names it in errors.</summary>
    public static List<Edge> Parse(TextReader reader, string source)
    {
        var edges = new List<Edge>();
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            var text = line.Trim();
            if (text.Length == 0 || text[0] == '#') continue;
            string[] fields = text.Contains(',')
                ? text.Split(',', StringSplitOptions.TrimEntries)
                : text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2 || fields[0].Length == 0 || fields[1].Length == 0)
                throw new InvalidDataException(
                    $"{source}:{lineNumber}: expected 'parent child' (two names separated by a comma or whitespace), got '{Shorten(text)}'");
            edges.Add(new Edge(fields[0], fields[1], source, lineNumber));
        }
        return edges;
    }

    /// <summary>Parses edge-list text held in a string (tests, notebooks).</summary>
    public static List<Edge> ParseText(string text, string source = "edges") => Parse(new StringReader(text), source);

    /// <summary>Writes edges as <c>parent child</c> lines (space-separated, or comma-separated when a name has a space).</summary>
    public static string Format(IEnumerable<(string Parent, string Child)> edges, IEnumerable<string>? headerComments = null)
    {
        var builder = new System.Text.StringBuilder();
        if (headerComments is not null) foreach (var comment in headerComments) builder.Append("# ").Append(comment).Append('\n');
        foreach (var (parent, child) in edges)
        {
            var separator = parent.Contains(' ') || child.Contains(' ') ? "," : " ";
            builder.Append(parent).Append(separator).Append(child).Append('\n');
        }
        return builder.ToString();
    }

    internal static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
