using System.Globalization;

namespace Granularity.Cli;

/// <summary>`--name value`, `--name=value` and `--flag` options plus positional words, with typed, checked accessors.</summary>
public sealed class CliArguments
{
    private readonly Dictionary<string, string?> options = new(StringComparer.Ordinal);
    private readonly HashSet<string> used = new(StringComparer.Ordinal);

    public CliArguments(IEnumerable<string> arguments)
    {
        var list = arguments.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            var word = list[i];
            if (!word.StartsWith("--", StringComparison.Ordinal) || word == "--") { Positional.Add(word); continue; }
            var equals = word.IndexOf('=');
            if (equals > 0) { Set(word[2..equals], word[(equals + 1)..]); continue; }
            var name = word[2..];
            if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal)) Set(name, list[++i]);
            else Set(name, null);
        }
    }

    public List<string> Positional { get; } = new();

    private void Set(string name, string? value)
    {
        if (name.Length == 0) throw new CliUsageException("an option name is empty ('--')");
        if (!options.TryAdd(name, value)) throw new CliUsageException($"option --{name} is given twice");
    }

    public bool Flag(string name)
    {
        used.Add(name);
        if (!options.TryGetValue(name, out var value)) return false;
        return value switch
        {
            null or "true" => true,
            "false" => false,
            _ => throw new CliUsageException($"--{name} is a flag; expected no value, 'true' or 'false', got '{value}'"),
        };
    }

    public string? String(string name)
    {
        used.Add(name);
        if (!options.TryGetValue(name, out var value)) return null;
        return value ?? throw new CliUsageException($"--{name} needs a value");
    }

    public string String(string name, string fallback) => String(name) ?? fallback;

    public string RequiredString(string name) => String(name) ?? throw new CliUsageException($"--{name} is required");

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = String(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new CliUsageException($"--{name} must be a whole number in [{min}, {max}], got '{text}'");
        return value;
    }

    public double Double(string name, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        var text = String(name);
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value) || value < min || value > max)
            throw new CliUsageException($"--{name} must be a number in [{min}, {max}], got '{text}'");
        return value;
    }

    /// <summary>A comma-separated list of whole numbers, e.g. "--seeds 0,1,2".</summary>
    public int[]? IntList(string name, int min = int.MinValue)
    {
        var text = String(name);
        if (text is null) return null;
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(part =>
            int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min
                ? value
                : throw new CliUsageException($"--{name} must be a comma-separated list of whole numbers ≥ {min}, got '{part}'")).ToArray();
    }

    /// <summary>Fails on any option the command did not read, so a typo is never silently ignored.</summary>
    public void RejectUnknown()
    {
        var unknown = options.Keys.Where(k => !used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new CliUsageException($"unknown option{(unknown.Count > 1 ? "s" : "")}: {string.Join(", ", unknown.Select(u => "--" + u))}");
    }
}
