namespace Granularity.Core;

/// <summary>Input that does not parse or does not make sense: names the file (or archive entry) and the position in it.</summary>
/// <remarks>
/// An <see cref="IOException"/> (InvalidDataException is sealed): the CLI reports it with exit code 1, never a stack trace.
/// Older parsers raise InvalidDataException with the same "file:line: problem" message shape.
/// </remarks>
public class InputFormatException : IOException
{
    public InputFormatException(string file, string? position, string message, Exception? inner = null)
        : base(Format(file, position, message), inner)
    {
        File = file;
        Position = position;
        Problem = message;
    }

    /// <summary>The file, archive member or other named source.</summary>
    public string File { get; }

    /// <summary>Where in it: "line 12", "$.model.imageSize", "byte 512", "entry 3"; null when the whole file is at fault.</summary>
    public string? Position { get; }

    /// <summary>What was wrong and what was expected, without the location.</summary>
    public string Problem { get; }

    /// <summary>"file:12: problem" (the compiler convention for a line).</summary>
    public static InputFormatException AtLine(string file, int line, string message, Exception? inner = null) => new(file, $"line {line}", message, inner);

    private static string Format(string file, string? position, string message) => position switch
    {
        null => $"{file}: {message}",
        _ when position.StartsWith("line ", StringComparison.Ordinal) => $"{file}:{position[5..]}: {message}",
        _ => $"{file}: {position}: {message}",
    };
}

/// <summary>A config file (JSON) that is malformed, incomplete or out of range: names the file and the JSON path of the field.</summary>
public sealed class ConfigFileException : InputFormatException
{
    public ConfigFileException(string file, string? jsonPath, string message, Exception? inner = null) : base(file, jsonPath, message, inner) { }
}
