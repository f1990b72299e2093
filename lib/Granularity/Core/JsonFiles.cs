using System.Text.Json;
using System.Text.Json.Serialization;

namespace Granularity.Core;

/// <summary>The one JSON convention of run folders: indented, camelCase, enums as strings, NaN allowed.</summary>
public static class JsonFiles
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static void Write<T>(string path, T value) => AtomicFile.WriteAllText(path, Serialize(value) + "\n");

    /// <summary>Reads <paramref name="path"/> as <typeparamref name="T"/>; a malformed file is reported with its path and the parser's line.</summary>
    public static T Read<T>(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options)
                ?? throw new InvalidDataException($"{path}: expected a JSON {typeof(T).Name}, found null");
        }
        catch (Exception error) when (error is InvalidOperationException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: not a valid {typeof(T).Name}: {error.Message}", error);
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: line {error.LineNumber + 1}: not a valid {typeof(T).Name}: {error.Message}", error);
        }
    }
}
